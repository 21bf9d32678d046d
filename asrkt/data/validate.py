"""Checks of Kaldi's utils/validate_data_dir.sh and the repairs of utils/fix_data_dir.sh.

:func:`validate_data_dir` reads every file leniently and reports *all* problems, each as one line
``file:line (key): what is wrong``. :func:`fix_data_dir` keeps the utterances every file agrees
on, sorts and de-duplicates, and says what it dropped.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Set

from asrkt.data.datadir import SPK_FILES, UTT_FILES
from asrkt.data.kaldi_files import LenientFile, read_lenient, sort_key, speaker_map_problems
from asrkt.data.subset import write_restricted
from asrkt.errors import AsrktError, where


def _compare_keys(ref: LenientFile, other: LenientFile, what: str) -> List[str]:
    """Problems for keys in ``other`` missing from ``ref`` and vice versa."""
    problems = []
    for key in sorted(other.keys - ref.keys, key=sort_key):
        problems.append(f"{where(other.path, other.entries[key][0], key)}: {what} "
                        f"not in {ref.path.name}")
    for key in sorted(ref.keys - other.keys, key=sort_key):
        problems.append(f"{where(ref.path, ref.entries[key][0], key)}: {what} "
                        f"missing from {other.path.name}")
    return problems


def validate_data_dir(path: Path, no_text: bool = False, no_feats: bool = False,
                      no_wav: bool = False) -> List[str]:
    """All problems of a data directory, one line each (empty list: valid).

    Args:
        path: the data directory.
        no_text: don't require ``text`` (as validate_data_dir.sh --no-text).
        no_feats: don't check ``feats.scp`` even if present.
        no_wav: don't require ``wav.scp``.
    """
    path = Path(path)
    if not path.is_dir():
        raise AsrktError(f"data directory '{path}' does not exist")
    required = (["utt2spk", "spk2utt"] + ([] if no_text else ["text"])
                + ([] if no_wav else ["wav.scp"]))
    problems = [f"{path / name}: missing" for name in required if not (path / name).exists()]
    if not (path / "utt2spk").exists():
        return problems
    files = {name: read_lenient(path / name) for name in
             ("utt2spk", "spk2utt", "wav.scp") + SPK_FILES + UTT_FILES if (path / name).exists()}
    if no_feats:
        files.pop("feats.scp", None)
    for f in files.values():
        problems.extend(f.problems)
    utt2spk = files["utt2spk"]
    for utt, (lineno, value) in utt2spk.entries.items():
        if len(value.split()) != 1:
            problems.append(f"{where(utt2spk.path, lineno, utt)}: expected '<utt> <speaker>'")
    if "spk2utt" in files:
        spk2utt = files["spk2utt"]
        problems.extend(speaker_map_problems(utt2spk.path, utt2spk.entries,
                                             spk2utt.path, spk2utt.entries))
    for name in UTT_FILES:
        if name in files:
            problems.extend(_compare_keys(utt2spk, files[name], "utterance"))
    if "text" in files:
        for utt, (lineno, value) in files["text"].entries.items():
            if not value.strip():
                problems.append(f"{where(files['text'].path, lineno, utt)}: empty transcript")
    problems.extend(_check_recordings(files, utt2spk))
    for name in SPK_FILES:
        if name in files and "spk2utt" in files:
            problems.extend(_compare_keys(files["spk2utt"], files[name], "speaker"))
    return problems


def _check_recordings(files: Dict[str, LenientFile], utt2spk: LenientFile) -> List[str]:
    """wav.scp covers the utterances (or, with segments, every segment's recording)."""
    if "wav.scp" not in files:
        return []
    wav = files["wav.scp"]
    if "segments" not in files:
        return _compare_keys(utt2spk, wav, "utterance")
    seg = files["segments"]
    return [f"{where(seg.path, lineno, utt)}: recording '{value.split()[0]}' not in wav.scp"
            for utt, (lineno, value) in seg.entries.items()
            if value.split() and value.split()[0] not in wav.keys]


def fix_data_dir(path: Path) -> Dict[str, List[str]]:
    """Keep the utterances present in every file, sort, de-duplicate (first entry wins).

    The originals are copied to ``<path>/.backup/`` first (as fix_data_dir.sh does).

    Args:
        path: the data directory.

    Returns:
        Dropped utterance ids per reason (file they were missing from / empty transcript).
    """
    path = Path(path)
    if not (path / "utt2spk").exists():
        raise AsrktError(f"{path / 'utt2spk'}: missing; cannot fix a data dir without it")
    files = {name: read_lenient(path / name) for name in
             ("utt2spk", "wav.scp") + SPK_FILES + UTT_FILES if (path / name).exists()}
    keep = set(files["utt2spk"].keys)
    dropped: Dict[str, List[str]] = {}

    def drop(reason: str, utts: Set[str]) -> None:
        gone = keep & utts
        if gone:
            dropped.setdefault(reason, []).extend(sorted(gone, key=sort_key))
            keep.difference_update(gone)

    for name in UTT_FILES:
        if name in files:
            drop(f"missing from {name}", keep - files[name].keys)
    if "text" in files:
        drop("empty transcript",
             {u for u, (_, v) in files["text"].entries.items() if not v.strip()})
    if "wav.scp" in files:
        if "segments" in files:
            drop("recording missing from wav.scp",
                 {u for u, (_, v) in files["segments"].entries.items()
                  if v.split()[0] not in files["wav.scp"].keys})
        else:
            drop("missing from wav.scp", keep - files["wav.scp"].keys)
    _write_fixed(path, files, keep)
    return dropped


def _write_fixed(path: Path, files: Dict[str, LenientFile], keep: Set[str]) -> None:
    """Back up the originals to ``.backup/``, then rewrite them restricted to ``keep``."""
    backup = path / ".backup"
    backup.mkdir(exist_ok=True)
    for name in list(files) + ["spk2utt"]:
        if (path / name).exists():
            shutil.copy2(path / name, backup / name)
    write_restricted(path, files, keep)
