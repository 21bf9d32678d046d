"""Kaldi ``Posterior`` tables (what ``ali-to-post``, ``copy-post`` and nnet1's ``--targets``
read and write): per frame a list of (pdf id, weight) pairs, binary or text.

Binary entry (after ``key `` and ``\\0B``): ``\\4 int32 T``, then per frame ``\\4 int32 n`` and
n pairs ``\\4 int32 id \\4 float32 weight``. Text entry: ``key [ 0 0.9 3 0.1 ] [ 2 1 ]`` on one
line. In memory a table entry is a :class:`SparsePosterior`: ``ids`` [T, K] int32 and ``weights``
[T, K] float32, frames with fewer than K pairs padded with (0, 0.0) (``sizes`` keeps the real
counts so a ragged entry is written back unchanged).

Binary entries whose frames all hold the same number of pairs (top-k dumps, ``ali-to-post``)
are parsed by one numpy view per utterance; ragged ones frame by frame. (kaldi_native_io's
PosteriorReader/Writer read the same format, but build a Python list of tuples per frame, about
20 us per frame of 20 pairs: minutes per epoch of 100 hours; the tests cross-check against it
when it is installed.)
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter, as_rspecifier

PathLike = Union[str, Path]


@dataclass
class SparsePosterior:
    """One utterance's posteriors: ``ids``/``weights`` [T, K]; ``sizes`` [T] pairs per frame
    (None: K in every frame)."""

    ids: np.ndarray
    weights: np.ndarray
    sizes: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, frames: slice) -> SparsePosterior:
        return SparsePosterior(self.ids[frames], self.weights[frames],
                               None if self.sizes is None else self.sizes[frames])

    @property
    def width(self) -> int:
        """K: pairs stored per frame."""
        return int(self.ids.shape[1])

    @classmethod
    def from_pairs(cls, frames: Sequence[Sequence[Tuple[int, float]]]) -> SparsePosterior:
        """From per-frame lists of (id, weight) pairs."""
        sizes = np.array([len(f) for f in frames], dtype=np.int64)
        width = int(sizes.max()) if sizes.size else 0
        ids = np.zeros((len(frames), width), dtype=np.int32)
        weights = np.zeros((len(frames), width), dtype=np.float32)
        for t, frame in enumerate(frames):
            for j, (pdf, weight) in enumerate(frame):
                ids[t, j], weights[t, j] = pdf, weight
        return cls(ids, weights, None if np.all(sizes == width) else sizes)

    def to_pairs(self) -> List[List[Tuple[int, float]]]:
        """Per-frame lists of (id, weight) pairs (padding left out)."""
        sizes = self.sizes if self.sizes is not None else [self.width] * len(self)
        return [list(zip(self.ids[t, :n].tolist(), self.weights[t, :n].tolist()))
                for t, n in enumerate(sizes)]

    def to_dense(self, num_pdfs: int) -> np.ndarray:
        """[T, num_pdfs] float32 (weights of repeated ids add up, as Kaldi's PosteriorToMatrix)."""
        dense = np.zeros((len(self), num_pdfs), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), self.width)
        np.add.at(dense, (rows, self.ids.reshape(-1)), self.weights.reshape(-1))
        return dense


def _frame_dtype(width: int) -> np.dtype:
    pair = np.dtype([("a", "i1"), ("id", "<i4"), ("b", "i1"), ("w", "<f4")])
    return np.dtype([("s", "i1"), ("n", "<i4"), ("p", pair, (width,))])


def _read_int32(handle: BinaryIO, what: str) -> int:
    raw = handle.read(5)
    if len(raw) != 5 or raw[0] != 4:
        raise ValueError(f"bad {what} (expected a 4-byte int)")
    return struct.unpack("<i", raw[1:])[0]


def _read_binary(handle: BinaryIO) -> SparsePosterior:
    """One binary Posterior from ``handle`` (positioned after ``\\0B``); seekable handles only."""
    frames = _read_int32(handle, "frame count")
    if frames < 0:
        raise ValueError(f"negative frame count {frames}")
    start = handle.tell()
    if frames == 0:
        return SparsePosterior(np.zeros((0, 0), np.int32), np.zeros((0, 0), np.float32))
    width = _read_int32(handle, "pair count")
    handle.seek(start)
    dtype = _frame_dtype(width)
    raw = handle.read(frames * dtype.itemsize) if width >= 0 else b""
    if len(raw) == frames * dtype.itemsize:
        rec = np.frombuffer(raw, dtype=dtype)
        pairs = rec["p"]
        if (np.all(rec["s"] == 4) and np.all(rec["n"] == width)
                and np.all(pairs["a"] == 4) and np.all(pairs["b"] == 4)):
            return SparsePosterior(pairs["id"].astype(np.int32), pairs["w"].astype(np.float32))
    handle.seek(start)  # ragged: frame by frame
    out: List[List[Tuple[int, float]]] = []
    for _ in range(frames):
        count = _read_int32(handle, "pair count")
        if count < 0:
            raise ValueError(f"negative pair count {count}")
        raw = handle.read(10 * count)
        if len(raw) != 10 * count:
            raise ValueError("truncated pair list")
        rec = np.frombuffer(raw, dtype=_frame_dtype(count)["p"].base) if count else None
        if count and (np.any(rec["a"] != 4) or np.any(rec["b"] != 4)):
            raise ValueError("malformed pair list (expected int32 ids and float32 weights)")
        out.append(list(zip(rec["id"].tolist(), rec["w"].tolist())) if count else [])
    return SparsePosterior.from_pairs(out)


def parse_text(line: str) -> SparsePosterior:
    """A text Posterior ``[ 0 0.9 3 0.1 ] [ 2 1 ]`` (one utterance, without its key)."""
    tokens = line.split()
    frames: List[List[Tuple[int, float]]] = []
    i = 0
    while i < len(tokens):
        if tokens[i] != "[":
            raise ValueError(f"expected '[' at token {i + 1}, got '{tokens[i]}'")
        try:
            end = tokens.index("]", i)
        except ValueError:
            raise ValueError("missing ']'") from None
        body = tokens[i + 1:end]
        if len(body) % 2:
            raise ValueError(f"frame {len(frames)}: odd number of values (id weight pairs)")
        try:
            frames.append([(int(body[j]), float(body[j + 1])) for j in range(0, len(body), 2)])
        except ValueError:
            raise ValueError(f"frame {len(frames)}: non-numeric id or weight") from None
        i = end + 1
    return SparsePosterior.from_pairs(frames)


def _read_value(handle: BinaryIO) -> SparsePosterior:
    """The Posterior at the handle's position (after ``key ``): binary or text."""
    head = handle.read(2)
    if head == b"\0B":
        return _read_binary(handle)
    return parse_text((head + handle.readline()).decode("utf-8"))


def _read_key(handle: BinaryIO) -> Optional[str]:
    chars = bytearray()
    while True:
        c = handle.read(1)
        if not c:
            if chars.strip():
                raise ValueError(f"truncated archive after '{chars.decode(errors='replace')}'")
            return None
        if c == b" ":
            if chars.strip():
                return chars.decode("utf-8").strip()
            continue
        chars += c


def _split_spec(spec: PathLike) -> Tuple[str, str]:
    rspec = as_rspecifier(spec)
    kind, path = rspec.split(":", 1)
    if path == "-" or path.endswith("|"):
        raise AsrktError(f"'{spec}': Posterior tables must be files (no pipes or stdin)")
    if not os.path.exists(path):
        raise AsrktError(f"table '{path}' does not exist")
    return ("scp" if "scp" in kind.split(",") else "ark"), path


def read_scp_lines(path: PathLike) -> Iterator[Tuple[str, str, int]]:
    """(key, archive, offset) of each line of a script file."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.split()
            ark, sep, offset = parts[-1].rpartition(":")
            if len(parts) != 2 or not sep or not offset.isdigit():
                raise AsrktError(f"{path}:{number}: expected 'key archive:offset'")
            yield parts[0], ark, int(offset)


def read_posteriors(spec: PathLike) -> Iterator[Tuple[str, SparsePosterior]]:
    """Iterate (key, :class:`SparsePosterior`) over a Posterior table (scp or ark, binary or
    text); malformed data is a one-line error naming the table and key."""
    kind, path = _split_spec(spec)
    if kind == "scp":
        reader = PosteriorReader(path)
        for key in reader.keys():
            yield key, reader[key]
        return
    with open(path, "rb") as handle:
        key = None
        while True:
            try:
                key = _read_key(handle)
                if key is None:
                    return
                value = _read_value(handle)
            except (ValueError, UnicodeDecodeError, struct.error) as exc:
                after = f" ({key})" if key else ""
                raise AsrktError(f"{path}{after}: not a Kaldi Posterior: {exc}") from None
            yield key, value


class PosteriorReader:
    """Random access to a Posterior script file (``key archive:offset`` lines); the archives
    are opened once and kept open."""

    def __init__(self, scp: PathLike):
        self.scp = Path(scp)
        self._where: Dict[str, Tuple[str, int]] = {k: (a, o) for k, a, o in read_scp_lines(scp)}
        self._handles: Dict[str, BinaryIO] = {}

    def keys(self) -> List[str]:
        return list(self._where)

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, key: str) -> SparsePosterior:
        ark, offset = self._where[key]
        try:
            handle = self._handles.get(ark)
            if handle is None:
                handle = self._handles[ark] = open(ark, "rb")
            handle.seek(offset)
            return _read_value(handle)
        except OSError as exc:
            raise AsrktError(f"{self.scp} ({key}): cannot read {ark}: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            raise AsrktError(f"{self.scp} ({key}): not a Kaldi Posterior: {exc}") from None

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


def table_kind(spec: PathLike) -> str:
    """'posterior' or 'matrix': the type of a table's first entry (Kaldi's own detection:
    binary Posteriors start with an int32 marker, matrices with a token such as ``FM``; a text
    matrix has its ``[`` alone on the key's line)."""
    kind, path = _split_spec(spec)
    if kind == "scp":
        first = next(read_scp_lines(path), None)
        if first is None:
            raise AsrktError(f"{path}: empty table")
        path, offset = first[1], first[2]
    else:
        offset = None
    with open(path, "rb") as handle:
        if offset is None and _read_key(handle) is None:
            raise AsrktError(f"{path}: empty table")
        if offset is not None:
            handle.seek(offset)
        head = handle.read(3)
        if head[:2] == b"\0B":
            return "posterior" if head[2:] == b"\x04" else "matrix"
        rest = head if b"\n" in head else head + handle.readline()
        line = rest.split(b"\n")[0].decode("utf-8", errors="replace").strip()
        return "matrix" if line == "[" or not line.startswith("[") else "posterior"


def encode_binary(post: SparsePosterior) -> bytes:
    """The binary Posterior bytes of one utterance (after ``key \\0B``)."""
    head = b"\x04" + struct.pack("<i", len(post))
    if post.sizes is None:
        rec = np.empty(len(post), dtype=_frame_dtype(post.width))
        rec["s"], rec["n"] = 4, post.width
        rec["p"]["a"], rec["p"]["b"] = 4, 4
        rec["p"]["id"], rec["p"]["w"] = post.ids, post.weights
        return head + rec.tobytes()
    parts = [head]
    for t, n in enumerate(post.sizes.tolist()):
        rec = np.empty(1, dtype=_frame_dtype(n))
        rec["s"], rec["n"] = 4, n
        if n:
            rec["p"]["a"], rec["p"]["b"] = 4, 4
            rec["p"]["id"][0], rec["p"]["w"][0] = post.ids[t, :n], post.weights[t, :n]
        parts.append(rec.tobytes())
    return b"".join(parts)


def encode_text(post: SparsePosterior) -> str:
    """The text Posterior of one utterance, as Kaldi writes it (``[ 0 0.9 3 0.1 ] [ 2 1 ]``)."""
    frames = ("[ " + "".join(f"{pdf} {weight:.7g} " for pdf, weight in frame) + "]"
              for frame in post.to_pairs())
    return " ".join(frames) + " "


class PosteriorWriter(ArkScpWriter):
    """Write a Posterior ark (binary, or text with ``text=True``) and its scp atomically.

    Args:
        ark_path: final archive path.
        scp_path: final script path (optional).
        text: Kaldi text format instead of binary.
        before_install: see :class:`ArkScpWriter`.
    """

    def __init__(self, ark_path: PathLike, scp_path: Optional[PathLike] = None,
                 text: bool = False, before_install: Optional[Callable[[], None]] = None):
        super().__init__(ark_path, scp_path, before_install=before_install)
        self.text = text

    def write(self, key: str, post: SparsePosterior) -> None:  # type: ignore[override]
        """Append one utterance's posteriors under ``key``."""
        if not key or any(c.isspace() for c in key):
            raise AsrktError(f"invalid table key {key!r}: keys must be non-empty without spaces")
        self._handle.write(key.encode() + b" ")
        self.entries.append((key, self._handle.tell()))
        if self.text:
            self._handle.write(encode_text(post).encode() + b"\n")
        else:
            self._handle.write(b"\0B" + encode_binary(post))
