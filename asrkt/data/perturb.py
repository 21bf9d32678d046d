"""Data augmentation by copies of a data directory.

:func:`perturb_vtln` is the VTLN counterpart of Kaldi's utils/data/perturb_data_dir_speed.sh:
a copy of the data directory whose utterance, speaker and recording ids carry the prefix
``vtlp<warp>-`` and whose ``spk2warp`` makes ``asrkt make-feats`` warp the mel filterbank by that
factor (vocal tract length perturbation, Jaitly & Hinton 2013). Because the warp does not change
the number of frames, the copy can be aligned with the same GMM as the original (or decoded).
``utt2uniq`` maps every copy to its original utterance, so trainers that hold out a CV set keep
all copies of one recording on the same side (as Kaldi's nnet3 egs do).

Combining the copies with the original: :func:`asrkt.data.combine.combine_data_dirs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import invert_utt2spk, read_map, write_lists, write_map
from asrkt.data.warp import MAX_WARP, MIN_WARP
from asrkt.errors import AsrktError

PathLike = Union[str, Path]

# Files a perturbed copy cannot keep: features and statistics must be recomputed.
_DROPPED = ("feats.scp", "cmvn.scp", "utt2num_frames")


def vtln_prefix(warp: float) -> str:
    """Id prefix of the copies warped by ``warp`` (``vtlp0.9-``)."""
    return f"vtlp{warp:g}-"


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
    if Path(dst).resolve() == source.path.resolve():
        raise AsrktError(f"the perturbed copy must go to a new directory, not {source.path}")
    if source.has("spk2warp") or source.has("utt2warp"):
        raise AsrktError(f"{source.path} already has warp factors (spk2warp/utt2warp); "
                         f"perturb the unperturbed data directory")
    prefix = vtln_prefix(warp)
    uniq = read_map(source.file("utt2uniq")) if source.has("utt2uniq") else {}
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    utt2spk = {prefix + u: prefix + s for u, s in source.utt2spk.items()}
    write_map(out / "utt2spk", utt2spk)
    write_lists(out / "spk2utt", invert_utt2spk(utt2spk))
    write_map(out / "utt2uniq", {prefix + u: uniq.get(u, u) for u in source.utterances})
    write_map(out / "spk2warp", {spk: f"{warp:g}" for spk in set(utt2spk.values())})
    if source.has("text"):
        write_map(out / "text", {prefix + u: " ".join(w) for u, w in source.text.items()})
    write_map(out / "wav.scp", {prefix + r: v for r, v in source.wav_scp.items()})
    if source.has("segments"):
        write_map(out / "segments", {prefix + u: f"{prefix}{s.recording} {s.start:g} {s.end:g}"
                                     for u, s in source.segments.items()})
    for name in _DROPPED:
        (out / name).unlink(missing_ok=True)
    return DataDir(out)
