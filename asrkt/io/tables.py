"""Kaldi archive/script tables over kaldiio, with atomic writes.

Reading accepts Kaldi rspecifiers (``scp:feats.scp``, ``ark,s,cs:foo.ark``, ``ark:-``) or a bare
``.scp``/``.ark`` path. Writing goes to a temporary archive that is renamed into place, and the
script file is written afterwards with the archive's final name, so an interrupted job never
leaves an archive or scp that looks complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import kaldiio
import numpy as np

from asrkt.errors import AsrktError
from asrkt.utils.fileio import atomic_open, temp_path_for

PathLike = Union[str, Path]

# Kaldi's "compress" default in copy-feats/compute-*-feats is kAutomaticMethod (1), which picks
# the speech-feature (per-column) format for matrices with more than 8 rows.
KALDI_COMPRESSION_METHOD = 1


def as_rspecifier(spec: PathLike) -> str:
    """Turn a bare ``*.scp``/``*.ark`` path into an rspecifier; leave rspecifiers alone."""
    text = str(spec)
    head = text.split(":", 1)[0]
    if ":" in text and set(head.split(",")) <= {"scp", "ark", "s", "cs", "p", "o", "t", "b", "f"}:
        return text
    if text.endswith(".scp"):
        return f"scp:{text}"
    return f"ark:{text}"


def read_table(spec: PathLike) -> Iterator[Tuple[str, np.ndarray]]:
    """Iterate (key, array) over a Kaldi table given as rspecifier or path.

    Args:
        spec: rspecifier (``scp:x.scp``, ``ark,s,cs:x.ark``) or a path ending in .scp/.ark.
    """
    rspec = as_rspecifier(spec)
    path = rspec.split(":", 1)[1]
    if path != "-" and not path.endswith("|") and not os.path.exists(path):
        raise AsrktError(f"table '{path}' does not exist")
    key = None
    try:
        with kaldiio.ReadHelper(rspec) as reader:
            for key, value in reader:
                yield key, value
    except AsrktError:
        raise
    except Exception as exc:  # kaldiio raises bare Exceptions on corrupt data
        after = f" after key '{key}'" if key is not None else ""
        raise AsrktError(f"cannot read table '{path}'{after}: {exc}") from None


def load_scp(path: PathLike) -> "kaldiio.matio.LazyLoader":
    """Random-access (lazy) view of a script file, keyed by utterance."""
    path = Path(path)
    if not path.exists():
        raise AsrktError(f"script file '{path}' does not exist")
    return kaldiio.load_scp(str(path))


def read_scp_entry(loader, key: str, scp_path: PathLike) -> np.ndarray:
    """One entry of a lazy scp loader, with a one-line error naming the key on failure."""
    try:
        return loader[key]
    except KeyError:
        raise AsrktError(f"{scp_path}: no entry for '{key}'") from None
    except Exception as exc:
        raise AsrktError(f"{scp_path}: cannot read entry '{key}': {exc}") from None


class ArkScpWriter:
    """Write a binary ark and its scp atomically, as ``ark,scp:A.ark,A.scp`` would.

    Args:
        ark_path: final archive path.
        scp_path: final script path (optional).
        compress: store matrices in Kaldi's compressed format (kAutomaticMethod).

    Use as a context manager; call :meth:`write` per entry. Nothing carries the final names
    unless the block finishes without an exception.
    """

    def __init__(self, ark_path: PathLike, scp_path: Optional[PathLike] = None,
                 compress: bool = False):
        self.ark_path = Path(ark_path)
        self.scp_path = Path(scp_path) if scp_path is not None else None
        self.compress = compress
        self.entries: List[Tuple[str, int]] = []
        self._tmp: Optional[Path] = None
        self._handle = None

    def __enter__(self) -> "ArkScpWriter":
        self._tmp = temp_path_for(self.ark_path)
        self._handle = open(self._tmp, "wb")
        return self

    def write(self, key: str, array: np.ndarray) -> None:
        """Append one matrix/vector under ``key``."""
        if not key or any(c.isspace() for c in key):
            raise AsrktError(f"invalid table key {key!r}: keys must be non-empty without spaces")
        offset = self._handle.tell() + len(key.encode()) + 1
        method = KALDI_COMPRESSION_METHOD if self.compress and array.ndim == 2 else None
        kaldiio.save_ark(self._handle, {key: array}, compression_method=method)
        self.entries.append((key, offset))

    def __exit__(self, exc_type, exc, tb) -> None:
        self._handle.close()
        if exc_type is not None:
            os.unlink(self._tmp)
            return
        os.replace(self._tmp, self.ark_path)
        if self.scp_path is not None:
            write_scp(self.scp_path, [(k, f"{self.ark_path}:{o}") for k, o in self.entries])


def write_scp(path: PathLike, entries: List[Tuple[str, str]]) -> None:
    """Write ``key value`` lines atomically, in the given order."""
    with atomic_open(path) as handle:
        for key, value in entries:
            handle.write(f"{key} {value}\n")


def write_table(ark_path: PathLike, scp_path: Optional[PathLike],
                items: Dict[str, np.ndarray], compress: bool = False) -> None:
    """Write a whole dict as ark (+scp) in sorted key order."""
    with ArkScpWriter(ark_path, scp_path, compress=compress) as writer:
        for key in sorted(items):
            writer.write(key, items[key])


def read_kaldi_text_vector(path: PathLike) -> np.ndarray:
    """Read a Kaldi text vector ``[ v0 v1 ... ]`` (``copy-vector --binary=false``) as float64.

    Args:
        path: the file; missing, unbracketed, empty or non-numeric is a one-line error.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"'{path}' does not exist")
    tokens = path.read_text(encoding="utf-8").split()
    if len(tokens) < 2 or tokens[0] != "[" or tokens[-1] != "]":
        raise AsrktError(f"{path}: expected a Kaldi text vector '[ c0 c1 ... ]'")
    try:
        values = np.array([float(t) for t in tokens[1:-1]], dtype=np.float64)
    except ValueError:
        raise AsrktError(f"{path}: non-numeric value in the Kaldi vector") from None
    if values.size == 0:
        raise AsrktError(f"{path}: empty vector")
    return values


def write_kaldi_text_vector(path: PathLike, values: np.ndarray) -> None:
    """Write ``[ v0 v1 ... ]`` atomically (integral values without decimals or exponents)."""
    items = " ".join(str(int(v)) if float(v).is_integer() else repr(float(v))
                     for v in np.asarray(values).ravel())
    with atomic_open(path) as handle:
        handle.write(f"[ {items} ]\n")
