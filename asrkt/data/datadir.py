"""The Kaldi data directory: ``wav.scp``, ``segments``, ``text``, ``utt2spk``, ``spk2utt``,
``feats.scp``, ``cmvn.scp``, ``utt2num_frames``.

:class:`DataDir` reads each file on demand, strictly (sorted, unique keys; a one-line error
naming file and line otherwise). Consistency across files is checked by
:func:`asrkt.data.validate.validate_data_dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from asrkt.data.kaldi_files import (
    invert_utt2spk,
    read_map,
    speaker_map_problems,
    write_lists,
    write_map,
)
from asrkt.errors import AsrktError, where
from asrkt.io.audio import read_audio

PathLike = Union[str, Path]

# extract-segments' default: a segment that ends past the recording by less than this is
# truncated, by more it is an error.
MAX_SEGMENT_OVERSHOOT = 0.5

# Files keyed by utterance, in the order they are checked (utt2uniq: the original of a perturbed
# copy; utt2warp / spk2warp: VTLN warp factors that make-feats applies, as steps/make_mfcc.sh).
UTT_FILES = ("text", "segments", "feats.scp", "utt2num_frames", "utt2dur", "utt2uniq", "utt2warp")
# Files keyed by speaker.
SPK_FILES = ("cmvn.scp", "spk2warp")


@dataclass(frozen=True)
class Segment:
    """One line of ``segments``: utterance ``utt`` is ``recording[start:end]`` in seconds."""

    recording: str
    start: float
    end: float


class DataDir:
    """A Kaldi data directory.

    Args:
        path: the directory; it must exist.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise AsrktError(f"data directory '{self.path}' does not exist")

    def file(self, name: str) -> Path:
        """Path of a file inside the directory."""
        return self.path / name

    def has(self, name: str) -> bool:
        """Whether the directory has ``name``."""
        return (self.path / name).exists()

    def __repr__(self) -> str:
        return f"DataDir('{self.path}')"

    @property
    def name(self) -> str:
        """Directory base name (used in archive names, as Kaldi's make_fbank.sh does)."""
        return self.path.resolve().name

    @cached_property
    def _speakers(self) -> Tuple[Dict[str, str], Dict[str, List[str]]]:
        """(utt2spk, spk2utt), read together: a spk2utt that disagrees with utt2spk is an
        error (the rule of validate-data-dir), so no command goes on with one of the two."""
        utt2spk = read_map(self.file("utt2spk"))
        if not self.has("spk2utt"):
            return utt2spk, invert_utt2spk(utt2spk)
        spk2utt = read_map(self.file("spk2utt"))
        problem = next(speaker_map_problems(
            self.file("utt2spk"), {u: (n, s) for n, (u, s) in enumerate(utt2spk.items(), 1)},
            self.file("spk2utt"), {s: (n, u) for n, (s, u) in enumerate(spk2utt.items(), 1)}),
            None)
        if problem is not None:
            raise AsrktError(f"{problem}: spk2utt disagrees with utt2spk; run "
                             f"'asrkt fix-data-dir {self.path}' (it rewrites spk2utt from utt2spk)")
        return utt2spk, {k: v.split() for k, v in spk2utt.items()}

    @property
    def utt2spk(self) -> Dict[str, str]:
        return self._speakers[0]

    @property
    def spk2utt(self) -> Dict[str, List[str]]:
        return self._speakers[1]

    @cached_property
    def wav_scp(self) -> Dict[str, str]:
        return read_map(self.file("wav.scp"))

    @cached_property
    def text(self) -> Dict[str, List[str]]:
        """Transcripts as word lists (an empty transcript reads as an empty list)."""
        return {k: v.split() for k, v in
                read_map(self.file("text"), allow_empty_value=True).items()}

    @cached_property
    def segments(self) -> Optional[Dict[str, Segment]]:
        """Parsed ``segments`` or None when the directory has none."""
        if not self.has("segments"):
            return None
        path = self.file("segments")
        result = {}
        for lineno, (utt, rest) in enumerate(read_map(path).items(), 1):
            fields = rest.split()
            try:
                start, end = float(fields[1]), float(fields[2])
                if len(fields) != 3:
                    raise ValueError
            except (ValueError, IndexError):
                raise AsrktError(f"{where(path, lineno, utt)}: expected "
                                 f"'<utt> <recording> <start> <end>'") from None
            if start < 0 or end <= start:
                raise AsrktError(f"{where(path, lineno, utt)}: bad times {start} {end}")
            result[utt] = Segment(fields[0], start, end)
        return result

    @cached_property
    def utt2num_frames(self) -> Dict[str, int]:
        path = self.file("utt2num_frames")
        out = {}
        for lineno, (utt, value) in enumerate(read_map(path).items(), 1):
            if not value.isdigit():
                raise AsrktError(f"{where(path, lineno, utt)}: frame count '{value}' "
                                 f"is not an integer")
            out[utt] = int(value)
        return out

    @property
    def utterances(self) -> List[str]:
        """Utterance ids in C-locale order (from utt2spk, the defining file)."""
        return list(self.utt2spk)

    def iter_audio(self, utterances: Optional[List[str]] = None
                   ) -> Iterator[Tuple[str, np.ndarray, int]]:
        """Yield (utt, samples, sample_rate), cutting segments when ``segments`` exists.

        Args:
            utterances: subset/order to read; all utterances by default.
        """
        wav_scp = self.wav_scp
        segments = self.segments
        cache: Tuple[Optional[str], Optional[Tuple[np.ndarray, int]]] = (None, None)
        for utt in utterances if utterances is not None else self.utterances:
            recording = segments[utt].recording if segments is not None else utt
            if segments is not None and utt not in segments:
                raise AsrktError(f"{self.file('segments')}: no segment for utterance '{utt}'")
            if recording not in wav_scp:
                raise AsrktError(f"{self.file('wav.scp')}: no entry for recording '{recording}'")
            if cache[0] != recording:
                try:
                    cache = (recording, read_audio(wav_scp[recording]))
                except AsrktError as exc:
                    raise AsrktError(f"{self.file('wav.scp')} ({recording}): {exc}") from None
            samples, rate = cache[1]
            if segments is not None:
                samples = self._cut_segment(utt, segments[utt], samples, rate)
            yield utt, samples, rate

    def _cut_segment(self, utt: str, seg: Segment, samples: np.ndarray, rate: int) -> np.ndarray:
        duration = len(samples) / rate
        if seg.start >= duration or seg.end > duration + MAX_SEGMENT_OVERSHOOT:
            raise AsrktError(
                f"{self.file('segments')} ({utt}): segment {seg.start:.2f}-{seg.end:.2f}s "
                f"lies past the end of recording '{seg.recording}' ({duration:.2f}s)")
        return samples[int(round(seg.start * rate)):min(len(samples), int(round(seg.end * rate)))]


def write_data_dir(path: PathLike, *, wav_scp: Dict[str, str], text: Dict[str, str],
                   utt2spk: Dict[str, str], segments: Optional[Dict[str, str]] = None) -> DataDir:
    """Create a data directory from maps (spk2utt is derived); files are sorted and atomic.

    Args:
        path: output directory (created).
        wav_scp: recording -> path or ``cmd |``.
        text: utterance -> transcript (words joined by spaces).
        utt2spk: utterance -> speaker.
        segments: optional utterance -> ``recording start end``.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    write_map(path / "wav.scp", wav_scp)
    write_map(path / "text", text)
    write_map(path / "utt2spk", utt2spk)
    write_lists(path / "spk2utt", invert_utt2spk(utt2spk))
    if segments is not None:
        write_map(path / "segments", segments)
    return DataDir(path)
