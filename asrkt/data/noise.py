"""Additive noise of a data directory's noise copies: ``utt2noise`` and ``noise_wav.scp``.

A noise copy (:func:`asrkt.data.perturb.perturb_noise`) names, per utterance, a noise clip, an
offset into it and a signal-to-noise ratio::

    utt2noise:      <utt> <noise-id> <offset-seconds> <snr-dB>
    noise_wav.scp:  <noise-id> <path or command |>

``asrkt make-feats`` reads both (checked once, before any job starts) and mixes the noise into
the utterance's samples before extracting features: ``signal + g * noise`` with ``g`` giving the
SNR from the energies of the whole utterance and of the noise segment of the same length (as
Kaldi's wav-reverberate and ``torchaudio.functional.add_noise`` do). The segment starts at the
offset and wraps around to the clip's start when the clip is shorter (the clip is tiled); noise
at another sample rate is resampled first. Utterances that utt2noise does not list (the clean
originals after combine-data-dirs) are left as they are. combine-data-dirs and subset-data-dir
carry both files along.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional, Tuple

import numpy as np

from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError, where
from asrkt.io.audio import read_audio

if TYPE_CHECKING:
    from asrkt.data.datadir import DataDir

NOISE_FILES = ("utt2noise", "noise_wav.scp")
_CACHED_CLIPS = 64  # noise clips a job keeps decoded


@dataclass(frozen=True)
class NoiseMix:
    """One line of ``utt2noise``: noise ``noise`` from ``offset`` seconds at ``snr`` dB."""

    noise: str
    offset: float
    snr: float
    line: int  # line number in utt2noise (named in errors)


def read_noise_mixes(data_dir: DataDir) -> Optional[Tuple[Dict[str, NoiseMix], Dict[str, str]]]:
    """The noise of a data directory's utterances: (utt -> mix, noise id -> wav.scp value), or
    None when it has no ``utt2noise``; a malformed line, an unknown utterance or noise id is
    an error naming file and line.

    Args:
        data_dir: the data directory.
    """
    if not data_dir.has("utt2noise"):
        return None
    path, scp_path = data_dir.file("utt2noise"), data_dir.file("noise_wav.scp")
    if not scp_path.exists():
        raise AsrktError(f"{scp_path}: missing (utt2noise names noise clips listed there)")
    noise_wav = read_map(scp_path)
    utt2spk = data_dir.utt2spk
    mixes: Dict[str, NoiseMix] = {}
    for lineno, (utt, rest) in enumerate(read_map(path).items(), 1):
        fields = rest.split()
        try:
            if len(fields) != 3:
                raise ValueError
            offset, snr = float(fields[1]), float(fields[2])
        except ValueError:
            raise AsrktError(f"{where(path, lineno, utt)}: expected "
                             f"'<utt> <noise-id> <offset-seconds> <snr-dB>'") from None
        if not (math.isfinite(offset) and offset >= 0 and math.isfinite(snr)):
            raise AsrktError(f"{where(path, lineno, utt)}: offset must be a number >= 0 and "
                             f"the SNR a finite number, got '{fields[1]}' '{fields[2]}'")
        if utt not in utt2spk:
            raise AsrktError(f"{where(path, lineno, utt)}: not an utterance of "
                             f"{data_dir.file('utt2spk')}")
        if fields[0] not in noise_wav:
            raise AsrktError(f"{where(path, lineno, utt)}: noise '{fields[0]}' is not in "
                             f"{scp_path}")
        mixes[utt] = NoiseMix(fields[0], offset, snr, lineno)
    return mixes, {n: noise_wav[n] for n in sorted({m.noise for m in mixes.values()})}


def noise_segment(noise: np.ndarray, noise_rate: int, offset: float, length: int,
                  rate: int) -> np.ndarray:
    """``length`` samples of ``noise`` at ``rate`` Hz from ``offset`` seconds on, wrapping
    around to the clip's start when it is shorter (tiled).

    Args:
        noise: the noise clip's samples.
        noise_rate: its sample rate (resampled to ``rate`` when different).
        offset: start in seconds (taken modulo the clip's duration).
        length: number of samples wanted.
        rate: sample rate of the utterance.
    """
    if noise_rate != rate:
        import torch
        import torchaudio.functional

        noise = torchaudio.functional.resample(
            torch.from_numpy(np.ascontiguousarray(noise, dtype=np.float32)),
            noise_rate, rate).numpy()
    start = int(round(offset * rate)) % len(noise)
    return np.take(noise, (start + np.arange(length)) % len(noise)).astype(np.float32)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr: float) -> np.ndarray:
    """``signal + g * noise`` with ``g`` such that the energy ratio of ``signal`` to
    ``g * noise`` is ``snr`` dB (``torchaudio.functional.add_noise``).

    Args:
        signal: float32 samples.
        noise: float32 samples of the same length, not all zero.
        snr: the signal-to-noise ratio in dB.
    """
    import torch
    import torchaudio.functional

    wave = torch.from_numpy(np.ascontiguousarray(signal, dtype=np.float32))[None]
    add = torch.from_numpy(np.ascontiguousarray(noise, dtype=np.float32))[None]
    with torch.no_grad():
        mixed = torchaudio.functional.add_noise(wave, add, torch.tensor([float(snr)]))
    return mixed[0].numpy()


class NoiseMixer:
    """Mixes the noise of ``utt2noise`` into utterances (one per make-feats job).

    Args:
        mixes: utterance -> its noise (utterances not listed are returned unchanged).
        noise_wav: noise id -> wav.scp value of the clip.
        source: the utt2noise file (named in errors).
    """

    def __init__(self, mixes: Dict[str, NoiseMix], noise_wav: Dict[str, str], source: str):
        self.mixes, self.noise_wav, self.source = mixes, noise_wav, source
        self._clips: Dict[str, Tuple[np.ndarray, int]] = {}

    def _clip(self, noise: str) -> Tuple[np.ndarray, int]:
        if noise not in self._clips:
            if len(self._clips) >= _CACHED_CLIPS:
                self._clips.pop(next(iter(self._clips)))
            self._clips[noise] = read_audio(self.noise_wav[noise])
        return self._clips[noise]

    def __call__(self, utt: str, samples: np.ndarray, rate: int) -> np.ndarray:
        """The samples of ``utt`` with its noise mixed in (unchanged when it has none)."""
        mix = self.mixes.get(utt)
        if mix is None:
            return samples
        try:
            clip, clip_rate = self._clip(mix.noise)
        except AsrktError as exc:
            raise AsrktError(f"{where(self.source, mix.line, utt)}: noise '{mix.noise}': "
                             f"{exc}") from None
        segment = noise_segment(clip, clip_rate, mix.offset, len(samples), rate)
        if not np.any(segment):
            raise AsrktError(f"{where(self.source, mix.line, utt)}: the segment of noise "
                             f"'{mix.noise}' is digital silence; no SNR can be reached")
        return mix_at_snr(samples, segment, mix.snr)
