"""eSpeak NG through ctypes (the ``espeakng-loader`` wheel ships the library and its voices).

libespeak-ng keeps one global state per process: two threads using it crash it, and two identical
calls in one process do not give identical samples (the synthesiser carries state from one call to
the next). A freshly forked process with ``espeak_ng_SetRandSeed`` does. So the library is
initialised once per process in SYNCHRONOUS mode and every utterance is synthesised in a child
forked for it; the child sets the seed, the voice and the prosody, synthesises, writes the samples
to a pipe and exits. The parent's state is never touched by synthesis, hence byte-identical output.

:func:`synthesize` forks from the calling process. Forking a process that has loaded torch costs
~30 ms, so :class:`SynthesisServer` runs a small separate Python process (only this module loaded)
that does the forking: ~9 ms per utterance, eSpeak itself running ~400x real time.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

from asrkt.errors import AsrktError

if TYPE_CHECKING:  # numpy is imported where used: the synthesis server process stays light
    import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
POS_CHARACTER = 1
VOLUME = 25  # of 200; at its default 100 eSpeak clips loud variants (iven, Jacky, antonio)
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE, PARAM_WORDGAP = 1, 2, 3, 4, 7

# Accents (voices in espeak-ng-data/lang/gmw); en-Shaw is a script, not an accent.
ENGLISH_ACCENTS = ("en", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                   "en-gb-x-rp", "en-us", "en-us-nyc")
# Variants that do not sound like a human speaker: whispered, robotic, effect voices, test voices.
_EXCLUDED_VARIANT_WORDS = ("whisper", "robot", "robosoft", "demonic", "croak", "tweaky", "fast",
                           "storm", "ricishay", "anxious")
_MAX_ECHO_AMPLITUDE = 20   # f2-f5 and m2 have a faint room echo (10-15): kept
_MIN_VOICING = 30          # whisper has 17, caleb 0
_MAX_BREATH = 30           # aspiration noise in the first formant (caleb 100, Reed 45)

_HEADER = struct.Struct("<ii")  # (status, number of samples)
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.c_void_p)


@dataclass(frozen=True)
class VoiceSettings:
    """How one speaker talks: eSpeak voice ``accent+variant`` and prosody parameters.

    Args:
        accent: an eSpeak language voice such as ``en-us``.
        variant: a file name in ``voices/!v`` such as ``m3``.
        pitch: base pitch, 0-100 (eSpeak's default 50).
        pitch_range: pitch range, 0-100 (0 is monotone; default 50).
        rate: words per minute, 80-450 (default 175).
        word_gap: pause between words in units of 10 ms.
    """

    accent: str
    variant: str
    pitch: int
    pitch_range: int
    rate: int
    word_gap: int

    @property
    def voice_name(self) -> str:
        return f"{self.accent}+{self.variant}"


class _Engine:
    """The loaded library, initialised once per process (forked children inherit it)."""

    def __init__(self) -> None:
        self.lib: Optional[ctypes.CDLL] = None
        self.sample_rate = 0
        self.samples: List[bytes] = []
        self.callback = _CALLBACK_TYPE(self._collect)  # keep a reference: the C side holds it

    def _collect(self, wav, num_samples, _events) -> int:
        if wav and num_samples > 0:
            self.samples.append(ctypes.string_at(wav, num_samples * 2))
        return 0

    def ensure(self) -> ctypes.CDLL:
        """Load and initialise libespeak-ng if this process (or its parent) has not."""
        if self.lib is not None:
            return self.lib
        try:
            import espeakng_loader
        except ImportError:
            raise AsrktError("the 'espeakng-loader' package is not installed "
                             "(pip install espeakng-loader)") from None
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise AsrktError(f"cannot load libespeak-ng from espeakng-loader: {exc}") from None
        _declare(lib)
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(),
                                     INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise AsrktError(f"espeak_Initialize failed (data path {data_path})")
        lib.espeak_SetSynthCallback(self.callback)
        self.lib, self.sample_rate = lib, int(rate)
        return lib


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types of the functions we call."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK_TYPE]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed.restype = None
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = ctypes.c_int


_ENGINE = _Engine()


def sample_rate() -> int:
    """eSpeak's output sample rate (22050 Hz), initialising the library if needed."""
    _ENGINE.ensure()
    return _ENGINE.sample_rate


def _synthesize_here(text: str, voice: VoiceSettings, seed: int) -> bytes:
    """Synthesise in this process (only ever called in a throw-away forked child)."""
    lib = _ENGINE.ensure()
    lib.espeak_ng_SetRandSeed(seed)
    if lib.espeak_SetVoiceByName(voice.voice_name.encode()) != 0:
        raise RuntimeError(f"unknown eSpeak voice '{voice.voice_name}'")
    for param, value in ((PARAM_RATE, voice.rate), (PARAM_PITCH, voice.pitch),
                         (PARAM_RANGE, voice.pitch_range), (PARAM_WORDGAP, voice.word_gap),
                         (PARAM_VOLUME, VOLUME)):
        lib.espeak_SetParameter(param, value, 0)
    data = text.encode("utf-8") + b"\0"
    _ENGINE.samples = []
    status = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
    if status != 0 or lib.espeak_Synchronize() != 0:
        raise RuntimeError(f"espeak_Synth failed with status {status}")
    return b"".join(_ENGINE.samples)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd`` (fewer only at end of file)."""
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _fork_synthesize(text: str, voice: VoiceSettings, seed: int) -> bytes:
    """Synthesise in a forked child of this (initialised) process; little-endian int16 bytes."""
    _ENGINE.ensure()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's code
        code = 0
        try:
            os.close(read_fd)
            try:
                pcm, status = _synthesize_here(text, voice, seed), 0
            except Exception as exc:  # reported through the pipe
                pcm, status = str(exc).encode()[:1000], 1
            _write_all(write_fd, _HEADER.pack(status, len(pcm)) + pcm)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        payload = _read_all(read_fd)
    finally:
        os.close(read_fd)
        _, wait_status = os.waitpid(pid, 0)
    return _check_child_output(payload, wait_status, voice, text)


def synthesize(text: str, voice: VoiceSettings, seed: int) -> np.ndarray:
    """Speak ``text`` in a child forked from this process; same arguments, same samples.

    Forking a process that has loaded torch costs tens of milliseconds; for many utterances
    use :class:`SynthesisServer`, which forks from a small dedicated process.

    Args:
        text: what to say (UTF-8, plain text).
        voice: the speaker's voice and prosody.
        seed: eSpeak's random seed (non-negative, < 2**31).

    Returns:
        int16 samples at :func:`sample_rate`.
    """
    import numpy as np

    return np.frombuffer(_fork_synthesize(text, voice, seed), dtype="<i2").copy()


class SynthesisServer:
    """A small Python process that holds libespeak-ng and forks one child per utterance.

    The server imports nothing heavy, so its forks are cheap whatever the client has loaded.
    Use it as a context manager; requests go over its stdin, samples come back over a pipe.
    """

    def __init__(self) -> None:
        import subprocess
        import sys

        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from asrkt.corpora.espeak import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.sample_rate = struct.unpack("<i", self._read(4))[0]
        if self.sample_rate <= 0:
            message = self._read(-self.sample_rate).decode(errors="replace")
            self.close()
            raise AsrktError(message)

    def _read(self, size: int) -> bytes:
        data = _read_exactly(self.proc.stdout.fileno(), size)
        if len(data) != size:
            raise AsrktError(f"the eSpeak synthesis process exited (status {self.proc.poll()})")
        return data

    def synthesize(self, text: str, voice: VoiceSettings, seed: int) -> np.ndarray:
        """As :func:`synthesize`, done by the server (see there for the arguments)."""
        request = json.dumps({"text": text, "voice": dataclasses.asdict(voice),
                              "seed": int(seed)}).encode()
        try:
            self.proc.stdin.write(struct.pack("<i", len(request)) + request)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AsrktError("the eSpeak synthesis process exited") from None
        status, size = _HEADER.unpack(self._read(_HEADER.size))
        body = self._read(size)
        if status != 0:
            raise AsrktError(body.decode(errors="replace"))
        import numpy as np

        return np.frombuffer(body, dtype="<i2").copy()

    def close(self) -> None:
        """Stop the server (it also stops when its stdin closes)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(struct.pack("<i", 0))
                self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=10)
            except Exception:  # noqa: BLE001 - a stuck server is killed
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self) -> SynthesisServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve() -> None:
    """Main loop of :class:`SynthesisServer` (runs in its own process).

    Reads length-prefixed JSON requests from stdin and answers on the original stdout; the C
    library's own messages go to stderr (fd 1 is pointed there).
    """
    import sys

    out_fd = os.dup(1)
    os.dup2(2, 1)
    in_fd = sys.stdin.fileno()
    try:
        rate = sample_rate()
    except AsrktError as exc:
        message = str(exc).encode()
        _write_all(out_fd, struct.pack("<i", -len(message)) + message)
        return
    _write_all(out_fd, struct.pack("<i", rate))
    try:
        _serve_requests(in_fd, out_fd)
    except KeyboardInterrupt:  # the client is interrupted too; it reports that
        pass


def _serve_requests(in_fd: int, out_fd: int) -> None:
    """Answer requests until a zero length or end of file."""
    while True:
        head = _read_exactly(in_fd, 4)
        size = struct.unpack("<i", head)[0] if len(head) == 4 else 0
        if size <= 0:
            return
        request = json.loads(_read_exactly(in_fd, size))
        voice = VoiceSettings(**request["voice"])
        try:
            pcm, status = _fork_synthesize(request["text"], voice, request["seed"]), 0
        except AsrktError as exc:
            pcm, status = str(exc).encode(), 1
        _write_all(out_fd, _HEADER.pack(status, len(pcm)) + pcm)


def _check_child_output(payload: bytes, wait_status: int, voice: VoiceSettings,
                        text: str) -> bytes:
    """Samples from the child's pipe, or a one-line error saying what went wrong."""
    what = f"eSpeak ({voice.voice_name}, '{text}')"
    if os.WIFSIGNALED(wait_status) or len(payload) < _HEADER.size:
        raise AsrktError(f"{what}: the synthesis process died (status {wait_status})")
    status, size = _HEADER.unpack_from(payload)
    body = payload[_HEADER.size:]
    if status != 0:
        raise AsrktError(f"{what}: {body.decode(errors='replace')}")
    if len(body) != size or size == 0:
        raise AsrktError(f"{what}: produced no audio")
    return body


def list_variants() -> List[str]:
    """Human-sounding voice variants in ``espeak-ng-data/voices/!v``, sorted.

    Whispered, robotic, strong-echo and effect voices are left out (see the module constants).
    """
    import espeakng_loader

    folder = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    names = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name
        if " " in name or any(word in name.lower() for word in _EXCLUDED_VARIANT_WORDS):
            continue
        if _sounds_human(path.read_text(encoding="utf-8", errors="replace")):
            names.append(name)
    return names


def _sounds_human(spec: str) -> bool:
    """False for a variant file with a strong echo, little voicing, or much breath noise."""
    for line in spec.splitlines():
        fields = line.split()
        if len(fields) < 2 or not all(f.lstrip("-").isdigit() for f in fields[1:]):
            continue
        key, values = fields[0].lower(), [int(f) for f in fields[1:]]
        if key == "echo" and len(values) >= 2 and values[1] > _MAX_ECHO_AMPLITUDE:
            return False
        if key == "voicing" and values[0] < _MIN_VOICING:
            return False
        if key == "breath" and max(values) > _MAX_BREATH:
            return False
    return True
