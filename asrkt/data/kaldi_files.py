"""Line-oriented Kaldi files (``key value...``): strict readers and atomic writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Set, Tuple, Union

from asrkt.errors import AsrktError, where
from asrkt.io.text import carriage_return, iter_lines  # noqa: F401 (iter_lines re-exported)
from asrkt.utils.fileio import atomic_open

PathLike = Union[str, Path]


def read_map(path: PathLike, allow_empty_value: bool = False,
             require_sorted: bool = True) -> Dict[str, str]:
    """Read ``key value`` lines into an ordered dict; reject duplicates and unsorted keys.

    Args:
        path: the Kaldi file (wav.scp, text, utt2spk, ...).
        allow_empty_value: accept lines with a key only (e.g. an empty transcript in ``text``).
        require_sorted: keys must be in C-locale order (Kaldi's ``sort`` with LC_ALL=C).
    """
    result: Dict[str, str] = {}
    previous = None
    for lineno, key, rest in iter_lines(path):
        if key in result:
            raise AsrktError(f"{where(path, lineno, key)}: duplicate key")
        if require_sorted and previous is not None and sort_key(key) < sort_key(previous):
            raise AsrktError(
                f"{where(path, lineno, key)}: keys not sorted ('{key}' after '{previous}'); "
                f"run 'asrkt fix-data-dir' or sort with LC_ALL=C"
            )
        if not rest and not allow_empty_value:
            raise AsrktError(f"{where(path, lineno, key)}: missing value after the key")
        result[key] = rest
        previous = key
    return result


def sort_key(key: str) -> bytes:
    """C-locale (byte order) sort key, as Kaldi's utilities sort."""
    return key.encode("utf-8")


def write_map(path: PathLike, mapping: Dict[str, str]) -> None:
    """Write ``key value`` lines atomically, sorted in C-locale order."""
    with atomic_open(path) as handle:
        for key in sorted(mapping, key=sort_key):
            value = mapping[key]
            handle.write(f"{key} {value}\n" if value != "" else f"{key}\n")


def invert_utt2spk(utt2spk: Dict[str, str]) -> Dict[str, List[str]]:
    """spk2utt from utt2spk, speakers and their utterances in C-locale order."""
    spk2utt: Dict[str, List[str]] = {}
    for utt in sorted(utt2spk, key=sort_key):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: spk2utt[spk] for spk in sorted(spk2utt, key=sort_key)}


def write_lists(path: PathLike, mapping: Dict[str, Iterable[str]]) -> None:
    """Write ``key v1 v2 ...`` lines atomically (e.g. spk2utt)."""
    write_map(path, {k: " ".join(v) for k, v in mapping.items()})


def speaker_map_problems(utt2spk_path: PathLike, utt2spk: Mapping[str, Tuple[int, str]],
                         spk2utt_path: PathLike, spk2utt: Mapping[str, Tuple[int, str]]
                         ) -> Iterator[str]:
    """Where ``spk2utt`` disagrees with ``utt2spk`` (Kaldi: spk2utt_to_utt2spk.pl of spk2utt
    must give utt2spk), one line each: the one rule of validate-data-dir and of every reader.

    Args:
        utt2spk_path, spk2utt_path: the files (for the messages).
        utt2spk: utterance -> (line, speaker).
        spk2utt: speaker -> (line, space-separated utterances).
    """
    listed: Dict[str, str] = {}
    for spk, (lineno, value) in spk2utt.items():
        for utt in value.split():
            if utt in listed:
                yield (f"{where(spk2utt_path, lineno, spk)}: utterance '{utt}' listed twice "
                       f"(also under speaker '{listed[utt]}')")
                continue
            listed[utt] = spk
            if utt2spk.get(utt, (0, None))[1] != spk:
                yield (f"{where(spk2utt_path, lineno, spk)}: utterance '{utt}' is not mapped "
                       f"to this speaker in utt2spk")
    for utt, (lineno, spk) in utt2spk.items():
        if utt not in listed:
            yield (f"{where(utt2spk_path, lineno, utt)}: speaker '{spk}' in utt2spk but not in "
                   f"spk2utt")


@dataclass
class LenientFile:
    """A key-value file read without stopping at the first problem."""

    path: Path
    entries: Dict[str, Tuple[int, str]] = field(default_factory=dict)  # key -> (line, value)
    problems: List[str] = field(default_factory=list)

    @property
    def keys(self) -> Set[str]:
        return set(self.entries)


def read_lenient(path: Path) -> LenientFile:
    """Read ``path`` and record duplicate, unsorted, blank and malformed lines as problems.

    Carriage returns (Windows line ends) are one problem per file, at their first line; the
    entries are read without them, so that ``fix-data-dir`` writes the files back without.
    """
    result = LenientFile(path)
    previous = None
    with_cr: List[Tuple[int, str]] = []
    with open(path, "rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").rstrip("\n")
            except UnicodeDecodeError:
                result.problems.append(f"{where(path, lineno)}: not valid UTF-8")
                continue
            if "\r" in line:
                with_cr.append((lineno, line))
                line = line.replace("\r", " ")
            line = line.strip()
            if not line:
                result.problems.append(f"{where(path, lineno)}: empty line")
                continue
            parts = line.split(maxsplit=1)
            key, value = parts[0], parts[1] if len(parts) > 1 else ""
            if key in result.entries:
                result.problems.append(f"{where(path, lineno, key)}: duplicate key "
                                       f"(first on line {result.entries[key][0]})")
                continue
            if previous is not None and sort_key(key) < sort_key(previous):
                result.problems.append(f"{where(path, lineno, key)}: not sorted "
                                       f"(comes after '{previous}'; Kaldi needs LC_ALL=C order)")
            result.entries[key] = (lineno, value)
            previous = key
    if with_cr:
        lineno, line = with_cr[0]
        result.problems.append(f"{where(path, lineno)}: {carriage_return(line)} ({len(with_cr)} "
                               f"line(s), the first here): run 'asrkt fix-data-dir {path.parent}'")
    return result
