"""Data augmentation by copies of a data directory, and combining data directories.

:func:`perturb_vtln` is the VTLN counterpart of Kaldi's utils/data/perturb_data_dir_speed.sh:
a copy of the data directory whose utterance, speaker and recording ids carry the prefix
``vtlp<warp>-`` and whose ``spk2warp`` makes ``asrkt make-feats`` warp the mel filterbank by that
factor (vocal tract length perturbation, Jaitly & Hinton 2013). Because the warp does not change
the number of frames, the copy can be aligned with the same GMM as the original (or decoded).
``utt2uniq`` maps every copy to its original utterance, so trainers that hold out a CV set keep
all copies of one recording on the same side (as Kaldi's nnet3 egs do).

:func:`combine_data_dirs` is utils/combine_data.sh: the union of several data directories.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Union

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import invert_utt2spk, read_map, write_lists, write_map
from asrkt.data.validate import SPK_FILES, UTT_FILES
from asrkt.errors import AsrktError
from asrkt.feats.extract import MAX_WARP, MIN_WARP

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.data")

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


def combine_data_dirs(dst: PathLike, sources: Sequence[PathLike]) -> DataDir:
    """The union of ``sources`` in ``dst`` (utils/combine_data.sh).

    An utterance-keyed file is combined when every source has it, except ``utt2uniq`` (a
    source without it maps its utterances to themselves) and warp files (factor 1 where a source
    has none); a file only some sources have is left out with a warning. Ids must be unique
    across the sources.

    Args:
        dst: output directory (created; must not be one of the sources).
        sources: at least one data directory.
    """
    if not sources:
        raise AsrktError("combine-data-dirs: no source data directories")
    dirs = [DataDir(s) for s in sources]
    out = Path(dst)
    if any(out.resolve() == d.path.resolve() for d in dirs):
        raise AsrktError(f"{out}: the combined directory must not be one of the sources")
    out.mkdir(parents=True, exist_ok=True)
    utt2spk = _union(dirs, "utt2spk", "utterance")
    write_map(out / "utt2spk", utt2spk)
    write_lists(out / "spk2utt", invert_utt2spk(utt2spk))
    sources_of = Counter(spk for d in dirs for spk in d.spk2utt)
    shared = {spk for spk, n in sources_of.items() if n > 1}
    for name in ("wav.scp", "text", "segments") + UTT_FILES + SPK_FILES:
        present = [d for d in dirs if d.has(name)]
        if name == "cmvn.scp" and present and shared:
            logger.warning("combine-data-dirs: cmvn.scp left out: speaker(s) %s occur in more "
                           "than one source; run 'asrkt compute-cmvn %s'",
                           " ".join(sorted(shared)[:5]), out)
            (out / name).unlink(missing_ok=True)
            continue
        if name in ("utt2uniq", "utt2warp", "spk2warp") and present:
            merged = _union(dirs, name, "id", default=_default_of(name))
        elif present and len(present) == len(dirs):
            merged = _union(dirs, name, "id")
        else:
            if present:
                logger.warning("combine-data-dirs: %s is in %d of %d sources; left out",
                               name, len(present), len(dirs))
            (out / name).unlink(missing_ok=True)
            continue
        write_map(out / name, merged)
    return DataDir(out)


def _default_of(name: str):
    """Value of ``name`` for the keys of a source that lacks the file."""
    if name == "utt2uniq":
        return lambda d: {u: u for u in d.utterances}
    if name == "utt2warp":
        return lambda d: {u: "1" for u in d.utterances}
    return lambda d: {s: "1" for s in d.spk2utt}


def _union(dirs: List[DataDir], name: str, what: str, default=None) -> Dict[str, str]:
    """Entries of file ``name`` of every dir (``default(dir)`` where it has none); a key in two
    sources is an error naming both."""
    merged: Dict[str, str] = {}
    origin: Dict[str, Path] = {}
    for d in dirs:
        if d.has(name):
            entries = read_map(d.file(name), allow_empty_value=name == "text")
        else:
            entries = default(d)
        for key, value in entries.items():
            if key in merged:
                if name in ("spk2warp", "wav.scp") and merged[key] == value:
                    continue  # the same speaker/recording in two sources is fine
                raise AsrktError(f"{d.file(name)} ({key}): {what} also in {origin[key]}; "
                                 f"ids must be unique across the combined directories")
            merged[key] = value
            origin[key] = d.file(name)
    return merged
