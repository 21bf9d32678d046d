"""The union of several data directories (Kaldi's utils/combine_data.sh), e.g. VTLN-perturbed
copies (:mod:`asrkt.data.perturb`) with their original.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Union

from asrkt.data.datadir import SPK_FILES, UTT_FILES, DataDir
from asrkt.data.kaldi_files import invert_utt2spk, read_map, write_lists, write_map
from asrkt.data.noise import NOISE_FILES
from asrkt.errors import AsrktError

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.data")


def combine_data_dirs(dst: PathLike, sources: Sequence[PathLike]) -> DataDir:
    """The union of ``sources`` in ``dst`` (utils/combine_data.sh).

    An utterance-keyed file is combined when every source has it, except ``utt2uniq`` (a
    source without it maps its utterances to themselves), warp files (factor 1 where a source
    has none) and the noise files ``utt2noise`` + ``noise_wav.scp`` (a source without them adds
    clean utterances); a file only some sources have is left out with a warning. Ids must be
    unique across the sources.

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
    for name in ("wav.scp", "text", "segments") + UTT_FILES + SPK_FILES + NOISE_FILES:
        present = [d for d in dirs if d.has(name)]
        if name == "cmvn.scp" and present and shared:
            logger.warning("combine-data-dirs: cmvn.scp left out: speaker(s) %s occur in more "
                           "than one source; run 'asrkt compute-cmvn %s'",
                           " ".join(sorted(shared)[:5]), out)
            (out / name).unlink(missing_ok=True)
            continue
        if name in ("utt2uniq", "utt2warp", "spk2warp") + NOISE_FILES and present:
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
    if name in NOISE_FILES:
        return lambda d: {}
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
                if name in ("spk2warp", "wav.scp", "noise_wav.scp") and merged[key] == value:
                    continue  # the same speaker/recording/noise clip in two sources is fine
                raise AsrktError(f"{d.file(name)} ({key}): {what} also in {origin[key]}; "
                                 f"ids must be unique across the combined directories")
            merged[key] = value
            origin[key] = d.file(name)
    return merged
