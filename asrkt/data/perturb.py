"""Data augmentation by copies of a data directory.

:func:`perturb_vtln` is the VTLN counterpart of Kaldi's utils/data/perturb_data_dir_speed.sh:
a copy of the data directory whose utterance, speaker and recording ids carry the prefix
``vtlp<warp>-`` and whose ``spk2warp`` makes ``asrkt make-feats`` warp the mel filterbank by that
factor (vocal tract length perturbation, Jaitly & Hinton 2013). Because the warp does not change
the number of frames, the copy can be aligned with the same GMM as the original (or decoded).
``utt2uniq`` maps every copy to its original utterance, so trainers that hold out a CV set keep
all copies of one recording on the same side (as Kaldi's nnet3 egs do).

:func:`perturb_noise` is the additive-noise counterpart (as Kaldi's steps/data/augment_data_dir.py
with ``--fg-noise-dir``): ids get the prefix ``noise<copy>-``, and ``utt2noise`` +
``noise_wav.scp`` make ``asrkt make-feats`` mix a noise clip into every utterance at a random SNR
(:mod:`asrkt.data.noise`). Additive noise keeps the frame count too, so the copy's targets are
the clean original's alignment (``asrkt copy-ali``).

Combining the copies with the original: :func:`asrkt.data.combine.combine_data_dirs`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Dict, Optional, Union

from asrkt.data.config import NoiseConfig
from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import invert_utt2spk, read_map, write_lists, write_map
from asrkt.data.noise import NOISE_FILES
from asrkt.data.warp import MAX_WARP, MIN_WARP
from asrkt.errors import AsrktError
from asrkt.utils.config import check_config

PathLike = Union[str, Path]

# Files a perturbed copy cannot keep: features and statistics must be recomputed; the
# perturbation files of an earlier copy in the same place.
_DROPPED = ("feats.scp", "cmvn.scp", "utt2num_frames", "spk2warp", "utt2warp") + NOISE_FILES


def vtln_prefix(warp: float) -> str:
    """Id prefix of the copies warped by ``warp`` (``vtlp0.9-``)."""
    return f"vtlp{warp:g}-"


def noise_prefix(copy: int) -> str:
    """Id prefix of noise copy number ``copy`` (``noise1-``)."""
    return f"noise{copy}-"


def _prefixed_copy(source: DataDir, dst: PathLike, prefix: str) -> Path:
    """Write ``source``'s utt2spk, spk2utt, text, wav.scp, segments and utt2uniq to ``dst``
    with ``prefix`` on every utterance, speaker and recording id (utt2uniq: to the originals)."""
    if Path(dst).resolve() == source.path.resolve():
        raise AsrktError(f"the perturbed copy must go to a new directory, not {source.path}")
    uniq = read_map(source.file("utt2uniq")) if source.has("utt2uniq") else {}
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    utt2spk = {prefix + u: prefix + s for u, s in source.utt2spk.items()}
    write_map(out / "utt2spk", utt2spk)
    write_lists(out / "spk2utt", invert_utt2spk(utt2spk))
    write_map(out / "utt2uniq", {prefix + u: uniq.get(u, u) for u in source.utterances})
    if source.has("text"):
        write_map(out / "text", {prefix + u: " ".join(w) for u, w in source.text.items()})
    write_map(out / "wav.scp", {prefix + r: v for r, v in source.wav_scp.items()})
    if source.has("segments"):
        write_map(out / "segments", {prefix + u: f"{prefix}{s.recording} {s.start:g} {s.end:g}"
                                     for u, s in source.segments.items()})
    for name in _DROPPED:
        (out / name).unlink(missing_ok=True)
    return out


def perturb_vtln(src: PathLike, dst: PathLike, warp: float) -> DataDir:
    """Write a VTLN-perturbed copy of ``src`` to ``dst``.

    Args:
        src: source data directory (wav.scp, text, utt2spk; optional segments, utt2uniq).
        dst: new data directory (created; must not be ``src``).
        warp: VTLN warp factor, e.g. 0.9 or 1.1 (Kaldi's valid range is about 0.8-1.2).

    Returns:
        The new data directory (no features yet: run ``asrkt make-feats`` on it).
    """
    if not MIN_WARP <= warp <= MAX_WARP or warp == 1.0:
        raise AsrktError(f"VTLN warp factor must be in [{MIN_WARP:g}, {MAX_WARP:g}] and not 1, "
                         f"got {warp:g}")
    source = DataDir(src)
    if source.has("spk2warp") or source.has("utt2warp"):
        raise AsrktError(f"{source.path} already has warp factors (spk2warp/utt2warp); "
                         f"perturb the unperturbed data directory")
    if source.has("utt2noise"):
        raise AsrktError(f"{source.path} is a noise copy (utt2noise); warp the clean data "
                         f"directory first, then add noise to the warped copy")
    prefix = vtln_prefix(warp)
    out = _prefixed_copy(source, dst, prefix)
    write_map(out / "spk2warp", {prefix + spk: f"{warp:g}" for spk in source.spk2utt})
    return DataDir(out)


def perturb_noise(src: PathLike, dst: PathLike, noise_dir: PathLike,
                  config: Optional[NoiseConfig] = None) -> DataDir:
    """Write a copy of ``src`` to ``dst`` that ``make-feats`` mixes with noise.

    Per utterance (in C-locale order) a generator seeded from ``config.seed`` and
    ``config.copy`` draws a noise clip uniformly among ``noise_dir``'s utterances, an offset
    uniformly within that clip and an SNR uniformly in [snr_min, snr_max]; they go to
    ``dst/utt2noise``, the clips' wav.scp entries to ``dst/noise_wav.scp``. VTLN warp files of
    ``src`` are kept (noise on warped copies).

    Args:
        src: source data directory (wav.scp, text, utt2spk; optional segments, utt2uniq, warps).
        dst: new data directory (created; must not be ``src``).
        noise_dir: data directory of noise recordings (wav.scp, utt2spk; no segments).
        config: SNR range, seed and copy number (range-checked here); None: the defaults.

    Returns:
        The new data directory (no features yet: run ``asrkt make-feats`` on it).
    """
    config = NoiseConfig() if config is None else config
    check_config(config, "perturb-data-dir")
    source, noise = DataDir(src), DataDir(noise_dir)
    if source.has("utt2noise"):
        raise AsrktError(f"{source.path} is already a noise copy (utt2noise); "
                         f"add noise to the clean data directory")
    durations = _NoiseDurations(noise)
    rng = random.Random(f"asrkt-noise {config.seed} {config.copy}")
    prefix = noise_prefix(config.copy)
    utt2noise: Dict[str, str] = {}
    for utt in source.utterances:
        clip = durations.ids[int(rng.random() * len(durations.ids))]
        offset = rng.random() * durations[clip]
        snr = config.snr_min + rng.random() * (config.snr_max - config.snr_min)
        utt2noise[prefix + utt] = f"{clip} {offset:.3f} {snr:.2f}"
    out = _prefixed_copy(source, dst, prefix)
    for name in ("spk2warp", "utt2warp"):
        if source.has(name):
            write_map(out / name, {prefix + k: v for k, v in read_map(source.file(name)).items()})
    used = {value.split()[0] for value in utt2noise.values()}
    write_map(out / "noise_wav.scp", {n: noise.wav_scp[n] for n in used})
    write_map(out / "utt2noise", utt2noise)
    return DataDir(out)


class _NoiseDurations:
    """Durations of a noise directory's clips, read when first asked for.

    Args:
        noise: the noise data directory.
    """

    def __init__(self, noise: DataDir):
        if noise.has("segments"):
            raise AsrktError(f"{noise.file('segments')}: a noise directory must have one "
                             f"recording per utterance (no segments)")
        self.noise, self.ids = noise, noise.utterances
        if not self.ids:
            raise AsrktError(f"{noise.file('utt2spk')}: no noise utterances")
        self._seconds: Dict[str, float] = {}

    def __getitem__(self, clip: str) -> float:
        if clip not in self._seconds:
            wav_scp = self.noise.file("wav.scp")
            if clip not in self.noise.wav_scp:
                raise AsrktError(f"{wav_scp}: no entry for noise recording '{clip}'")
            [(_, samples, rate)] = self.noise.iter_audio([clip])
            self._seconds[clip] = len(samples) / rate
        return self._seconds[clip]
