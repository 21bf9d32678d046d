"""Read audio named by a wav.scp entry: a file path or a ``cmd |`` pipe, as Kaldi does."""

from __future__ import annotations

import io
import subprocess
from typing import Tuple

import numpy as np
import soundfile

from asrkt.errors import AsrktError


def _read_bytes(spec: str) -> bytes:
    """Bytes of a wav.scp value: run ``cmd |`` through the shell, else read the file."""
    if spec.endswith("|"):
        proc = subprocess.run(spec[:-1], shell=True, capture_output=True)
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip().splitlines()
            raise AsrktError(
                f"command '{spec[:-1].strip()}' exited with status {proc.returncode}"
                + (f": {detail[-1]}" if detail else "")
            )
        return proc.stdout
    try:
        with open(spec, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise AsrktError(f"audio file '{spec}' does not exist") from None
    except OSError as exc:
        raise AsrktError(f"cannot read audio file '{spec}': {exc.strerror}") from None


def read_audio(spec: str) -> Tuple[np.ndarray, int]:
    """Decode one wav.scp entry to mono samples on Kaldi's scale (16-bit integer range).

    Args:
        spec: the wav.scp value: a path (any format libsndfile reads) or a command ending in ``|``.

    Returns:
        (samples, sample_rate): float32 samples of channel 0, scaled so that full scale is 32768,
        as Kaldi's WaveData gives them.

    Raises:
        AsrktError: the file is missing, unreadable, empty or contains NaN/inf.
    """
    data = _read_bytes(spec)
    if not data:
        raise AsrktError(f"audio '{spec}' is empty (0 bytes)")
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AsrktError(f"audio '{spec}' is not a readable sound file ({exc})") from None
    if samples.shape[0] == 0:
        raise AsrktError(f"audio '{spec}' has no samples")
    mono = samples[:, 0] * np.float32(32768.0)
    if not np.all(np.isfinite(mono)):
        bad = int(np.flatnonzero(~np.isfinite(mono))[0])
        raise AsrktError(f"audio '{spec}' contains NaN or inf (first at sample {bad})")
    return mono, int(rate)
