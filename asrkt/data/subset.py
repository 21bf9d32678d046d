"""Part of a data directory (Kaldi's utils/subset_data_dir.sh), and the restricted copy of a data
directory's files that ``fix_data_dir`` writes in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Set, Tuple

from asrkt.data.datadir import SPK_FILES, UTT_FILES
from asrkt.data.kaldi_files import (
    LenientFile,
    invert_utt2spk,
    read_lenient,
    read_map,
    write_lists,
    write_map,
)
from asrkt.data.noise import NOISE_FILES
from asrkt.errors import AsrktError


def write_restricted(dst: Path, files: Dict[str, LenientFile], keep: Set[str]) -> None:
    """Write every file of ``files`` into ``dst`` restricted to ``keep`` (and its speakers and
    recordings); spk2utt is derived from the restricted utt2spk.

    Args:
        dst: the output directory (may be the source: fix_data_dir rewrites in place).
        files: the source's files by name, read with :func:`read_lenient`; needs ``utt2spk``.
        keep: the utterance ids to keep.
    """
    utt2spk = {u: v for u, (_, v) in files["utt2spk"].entries.items() if u in keep}
    speakers = set(utt2spk.values())
    for name in files:
        if name in SPK_FILES:
            write_map(dst / name, {s: v for s, (_, v) in files[name].entries.items()
                                   if s in speakers})
        elif name != "wav.scp":
            write_map(dst / name, {u: v for u, (_, v) in files[name].entries.items() if u in keep})
    write_lists(dst / "spk2utt", invert_utt2spk(utt2spk))
    if "wav.scp" in files:
        recordings = ({v.split()[0] for u, (_, v) in files["segments"].entries.items() if u in keep}
                      if "segments" in files else keep)
        write_map(dst / "wav.scp", {r: v for r, (_, v) in files["wav.scp"].entries.items()
                                    if r in recordings})


def subset_data_dir(src: Path, dst: Path, utterances: List[str],
                    extra: Tuple[str, ...] = ()) -> None:
    """Copy the given utterances of ``src`` into a new data dir ``dst`` (utils/subset_data_dir.sh).

    Args:
        src: source data directory (must be clean: sorted, unique keys).
        dst: new directory (created).
        utterances: utterance ids to keep.
        extra: further utterance-keyed files to carry over.
    """
    src, dst = Path(src), Path(dst)
    if not (src / "utt2spk").exists():
        raise AsrktError(f"{src / 'utt2spk'}: missing")
    dst.mkdir(parents=True, exist_ok=True)
    files = {name: read_lenient(src / name) for name in
             ("utt2spk", "wav.scp") + SPK_FILES + UTT_FILES + tuple(extra) if (src / name).exists()}
    for f in files.values():
        if f.problems:
            raise AsrktError(f.problems[0])
    write_restricted(dst, files, set(utterances))
    _restrict_noise(src, dst, set(utterances))


def _restrict_noise(src: Path, dst: Path, keep: Set[str]) -> None:
    """utt2noise of the kept utterances and the noise_wav.scp entries they name, so that
    make-feats still mixes the noise of a subset's noise copies."""
    for name in NOISE_FILES:
        (dst / name).unlink(missing_ok=True)
    if not (src / "utt2noise").exists():
        return
    utt2noise = {u: v for u, v in read_map(src / "utt2noise").items() if u in keep}
    if not utt2noise:
        return
    used = {v.split()[0] for v in utt2noise.values()}
    noise_wav = read_map(src / "noise_wav.scp") if (src / "noise_wav.scp").exists() else {}
    write_map(dst / "noise_wav.scp", {n: w for n, w in noise_wav.items() if n in used})
    write_map(dst / "utt2noise", utt2noise)
