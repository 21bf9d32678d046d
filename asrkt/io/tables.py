"""Kaldi archive/script tables over kaldiio, with atomic writes.

Reading accepts Kaldi rspecifiers (``scp:feats.scp``, ``ark,s,cs:foo.ark``, ``ark:-``) or a bare
``.scp``/``.ark`` path. Writing goes to a temporary archive that is renamed into place, and the
script file is written afterwards with the archive's final name, so an interrupted job never
leaves an archive or scp that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple, Union

import kaldiio
import numpy as np

from asrkt.errors import AsrktError, reason, where
from asrkt.io.checked import (
    MAX_KEY_BYTES,
    check_array,
    check_followed_by_entry,
    followed_by_entry_buffered,
    peek_type,
    read_key,
    read_object,
    read_object_buffered,
)
from asrkt.io.sparse import SparsePosterior
from asrkt.io.text import iter_lines
from asrkt.utils.fileio import atomic_open, close_or_discard, name_output, temp_path_for

PathLike = Union[str, Path]
Value = Union[np.ndarray, SparsePosterior]

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


def _table_path(rspec: str) -> str:
    return rspec.split(":", 1)[1]


def _is_plain_file(path: str) -> bool:
    text = path.strip()
    return text != "-" and not text.endswith("|") and not text.startswith("|")


def read_table(spec: PathLike, kind: Optional[str] = None) -> Iterator[Tuple[str, Value]]:
    """Iterate (key, value) over a Kaldi table given as rspecifier or path.

    Every object goes through the checked reader (:func:`asrkt.io.checked.read_object`).

    Args:
        spec: rspecifier (``scp:x.scp``, ``ark,s,cs:x.ark``) or a path ending in .scp/.ark.
        kind: 'matrix', 'vector', 'int-vector', 'posterior' (values are then
            :class:`SparsePosterior`; binary or text) or None (any but a Posterior).
    """
    rspec = as_rspecifier(spec)
    path = _table_path(rspec)
    if _is_plain_file(path) and not os.path.exists(path):
        raise AsrktError(f"table '{path}' does not exist")
    if rspec.split(":", 1)[0].split(",")[0] == "scp":
        with load_scp(path) as table:  # one open archive while entries point into it
            yield from _read_scp(table, path, kind)
        return
    yield from _read_ark(path, kind)


# bytes of an archive read at a time by the buffered paths of _read_ark and _read_scp
_READ_AHEAD = 1 << 20


def _read_ark(path: str, kind: Optional[str]) -> Iterator[Tuple[str, Value]]:
    """Sequential read of a binary archive (a file, ``-`` or a ``cmd |`` pipe).

    A regular file is read _READ_AHEAD bytes at a time and each entry parsed from those bytes
    (:func:`asrkt.io.checked.read_object_buffered`) when it is a plain matrix, vector or int32
    vector that passes every check; any other entry (compressed, a Posterior, larger than
    what is left of the bytes, or failing a check) is read from the file by read_key and
    read_object, which name the problem."""
    from kaldiio.utils import open_like_kaldi

    key = None
    try:
        with _quiet_kaldiio(), open_like_kaldi(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size if _is_plain_file(path) else None
            buffered = (size is not None and kind != "posterior"
                        and stat.S_ISREG(os.fstat(handle.fileno()).st_mode))
            # buf[:held] holds the file's bytes from base on (one buffer, read into again)
            buf, base, held, pos = bytearray(_READ_AHEAD if buffered else 0), 0, 0, 0
            while True:
                if buffered:
                    at = pos - base
                    if held - at < _READ_AHEAD // 2 and base + held < size:
                        handle.seek(pos)  # less than half left: read on from the entry
                        base, held, at = pos, handle.readinto(buf), 0
                    entry = _buffered_entry(buf, at, held, kind)
                    if entry is not None:
                        key, value, stop = entry
                        pos = base + stop
                        yield key, value
                        continue
                    handle.seek(pos)
                try:
                    key = read_key(handle)
                except AsrktError as exc:
                    after = f" after key '{key}'" if key is not None else " at its start"
                    raise AsrktError(f"{path}{after}: {exc}") from None
                if key is None:
                    return
                left = None if size is None else size - handle.tell()
                value = read_object(handle, kind, left, path, key)
                pos = handle.tell() if buffered else 0
                yield key, value
    except OSError as exc:
        raise AsrktError(f"cannot read table '{path}': {exc.strerror or exc}") from None


def _buffered_entry(buf: bytearray, at: int, held: int, kind: Optional[str]
                    ) -> Optional[Tuple[str, Value, int]]:
    """(key, value, position after it) of the archive entry at ``buf[at:]`` when its key (as
    read_key takes it) and object (read_object_buffered) are whole and valid in
    ``buf[:held]``; else None."""
    space = buf.find(b" ", at, min(at + MAX_KEY_BYTES + 1, held))
    if space <= at:
        return None
    try:
        key = buf[at:space].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not key.isprintable():
        return None
    got = read_object_buffered(buf, space + 1, held, kind)
    return None if got is None else (key, got[0], got[1])


def _read_scp(table: ScpTable, path: str, kind: Optional[str]) -> Iterator[Tuple[str, Value]]:
    """Every entry of a script table in its order, checked (:func:`read_scp_entry`).

    A run of entries that follow each other in one archive (each next entry's offset is
    where the scp says the entry before ends, as in the scp of an archive written in one go)
    is read in one piece of up to about _READ_AHEAD bytes and each entry parsed from it
    (:func:`asrkt.io.checked.read_object_buffered`, then the entry-boundary check from the
    same bytes); an entry that is not a plain matrix, vector or int32 vector passing every
    check, and every entry outside such a run, is read by read_scp_entry, which names the
    problem."""
    keys = list(table.entries)
    places, limits = table.places, table.limits
    i = 0
    while i < len(keys):
        key = keys[i]
        place = places[key]
        j = i + 1
        if place is not None and kind != "posterior":
            ark, first = place
            end = limits.get(key)  # where the next entry of the archive starts (+ 2)
            while (end is not None and end - first <= _READ_AHEAD and j < len(keys)
                   and places[keys[j]] == (ark, end + 2)):
                end = limits.get(keys[j])
                j += 1
        if j == i + 1:  # alone (another order, a pipe, a Posterior): read by itself
            yield key, read_scp_entry(table, key, path, kind)
            i = j
            continue
        # up to the next entry's "\0B" (the last entry's boundary check) or the file's end
        buf, size = _read_stretch(table, key, path, ark, first,
                                  None if end is None else end + 4)
        for run_key in keys[i:j]:
            offset = places[run_key][1] - first
            limit = min(size, limits.get(run_key, size)) - first
            got = read_object_buffered(buf, offset, min(limit, len(buf)), kind)
            if got is not None and followed_by_entry_buffered(buf, got[1],
                                                             first + got[1] == size):
                yield run_key, got[0]
            else:
                yield run_key, read_scp_entry(table, run_key, path, kind)
        i = j


@contextlib.contextmanager
def _quiet_kaldiio():
    """kaldiio warns (two lines on stderr) on some corrupt reads; the error says it all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


class ScpTable(Mapping):
    """Random access to a script file (``key ark_path:offset`` lines), read with checks.

    The archive of the last entry read stays open (one handle per table, as Kaldi's table
    readers keep theirs), so reading entries that point into the same archive, in any order,
    opens it once; an entry in another archive closes it and opens that one. The handle
    belongs to the process and is used under a lock: a forked child or another thread reads
    correctly (a child opens its own). :meth:`close` (or ``with load_scp(...) as table``)
    closes it; a table that is garbage-collected closes it too.

    Args:
        path: the .scp file; entries are read lazily by :func:`read_scp_entry`.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.entries: Dict[str, Tuple[int, str]] = {}
        for lineno, key, value in iter_lines(self.path):
            if not value:
                raise AsrktError(f"{where(self.path, lineno, key)}: no archive location")
            if key in self.entries:
                raise AsrktError(f"{where(self.path, lineno, key)}: duplicate key")
            self.entries[key] = (lineno, value)
        self.places = {key: _place(value) for key, (_, value) in self.entries.items()}
        self.limits = _entry_limits(self.places)
        self._lock = threading.Lock()
        # (archive, process, handle, size) of the archive kept open
        self._open: Optional[Tuple[str, int, BinaryIO, int]] = None

    def __getitem__(self, key: str) -> Value:
        return read_scp_entry(self, key, self.path)

    def __contains__(self, key: object) -> bool:  # the index only: nothing is read
        return key in self.entries

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def _read_at(self, ark: str, offset: int, location: Callable[[], str],
                 read: Callable[[BinaryIO, int], Value]) -> Value:
        """``read(handle positioned at offset, archive size)`` on the archive kept open (its
        size taken when it was opened), under the table's lock; an offset past the end is an
        error (``location()``: where, for the message)."""
        with self._lock:
            opened = self._open
            if opened is None or opened[0] != ark or opened[1] != _PROCESS[0]:
                self._close()
                handle = open(ark, "rb")
                opened = self._open = (ark, _PROCESS[0], handle,
                                       os.fstat(handle.fileno()).st_size)
            handle, size = opened[2], opened[3]
            if offset >= size:
                raise AsrktError(f"{location()}: offset {offset} is beyond the end of '{ark}' "
                                 f"({size} bytes)")
            handle.seek(offset)
            return read(handle, size)

    def _close(self) -> None:
        opened, self._open = self._open, None
        if opened is not None and opened[1] == _PROCESS[0]:
            opened[2].close()
        # a forked child's copy of the parent's handle is dropped unclosed: its descriptor
        # goes with the object and the parent's own handle is unaffected

    def close(self) -> None:
        """Close the archive kept open (the table stays usable; the next read reopens)."""
        with self._lock:
            self._close()

    def __enter__(self) -> ScpTable:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._close()

    def __getstate__(self) -> Dict[str, object]:  # pickled without the handle and lock
        state = dict(self.__dict__)
        state["_open"], state["_lock"] = None, None
        return state

    def __setstate__(self, state: Dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def load_scp(path: PathLike) -> ScpTable:
    """Random-access (lazy) view of a script file, keyed by utterance."""
    path = Path(path)
    if not path.exists():
        raise AsrktError(f"script file '{path}' does not exist")
    return ScpTable(path)


# the process an open archive belongs to: a forked child gets a new number and opens its own
# (reading through the parent's descriptor would move the parent's file position)
_PROCESS = [0]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _PROCESS.__setitem__(0, _PROCESS[0] + 1))


def _entry_limits(places: Dict[str, Optional[Tuple[str, int]]]) -> Dict[str, int]:
    """Where each ``ark:offset`` entry must end: before the next entry's key (of at least one
    byte and a space) in the same archive. A header declaring more data is corrupt even when
    the file goes on.

    Args:
        places: (archive, offset) of every key (None: not an ``ark:offset`` entry).
    """
    offsets: Dict[str, List[int]] = {}
    for place in places.values():
        if place is not None:
            offsets.setdefault(place[0], []).append(place[1])
    following: Dict[str, Dict[int, int]] = {}  # per archive: offset -> the next one
    for ark, found in offsets.items():
        ordered = sorted(set(found))
        following[ark] = dict(zip(ordered, ordered[1:]))
    limits: Dict[str, int] = {}
    for key, place in places.items():
        if place is not None:
            after = following[place[0]].get(place[1])
            if after is not None:
                limits[key] = after - 2
    return limits


def _place(value: str) -> Optional[Tuple[str, int]]:
    """(archive, offset) of an ``archive:offset`` scp value (a non-empty archive, decimal
    digits after the last colon), else None."""
    ark, colon, offset = value.rpartition(":")
    return (ark, int(offset)) if ark and offset.isdecimal() else None


def read_scp_entry(table: ScpTable, key: str, scp_path: PathLike,
                   kind: Optional[str] = None) -> Value:
    """One entry of a script file, checked; a problem is one line naming file, line and key.

    Args:
        table: from :func:`load_scp`.
        key: the utterance/speaker.
        scp_path: the script file (for messages).
        kind: 'matrix', 'vector', 'int-vector', 'posterior' or None (any but a Posterior).
    """
    if key not in table.entries:
        raise AsrktError(f"{scp_path}: no entry for '{key}'")
    place = table.places[key]
    if place is None:  # pipes, [ranges], whole files: kaldiio reads, then the same checks
        location = _location(table, key, scp_path)
        if kind == "posterior":
            raise AsrktError(f"{location}: Posterior entries must be 'archive:offset' "
                             f"(no pipes or ranges)")
        return check_array(_kaldiio_load(table.entries[key][1], location), kind, location, None)
    ark, offset = place

    def read(handle: BinaryIO, size: int) -> Value:
        text = False
        if kind == "posterior":
            text = handle.read(1) != b"\0"  # a text line ends itself
            handle.seek(offset)
        end = min(size, table.limits.get(key, size))
        array = read_object(handle, kind, end - offset, ark, key)
        if not text:
            check_followed_by_entry(handle, ark, key)
        return array

    try:
        return table._read_at(ark, offset, lambda: _location(table, key, scp_path), read)
    except OSError as exc:
        raise AsrktError(f"{_location(table, key, scp_path)}: cannot read '{ark}': "
                         f"{exc.strerror or exc}") from None


def _read_stretch(table: ScpTable, key: str, scp_path: PathLike, ark: str, first: int,
                  stop: Optional[int]) -> Tuple[bytes, int]:
    """(the bytes of ``ark`` from ``first`` to ``stop`` or its end, at most 2 * _READ_AHEAD;
    the archive's size), read through the table's open archive; ``key``: the entry at
    ``first``, named by errors (an offset beyond the end, a failed read)."""

    def read(handle: BinaryIO, size: int) -> Tuple[bytes, int]:
        last = size if stop is None else min(size, stop)
        return handle.read(min(last, first + 2 * _READ_AHEAD) - first), size

    try:
        return table._read_at(ark, first, lambda: _location(table, key, scp_path), read)
    except OSError as exc:
        raise AsrktError(f"{_location(table, key, scp_path)}: cannot read '{ark}': "
                         f"{exc.strerror or exc}") from None


def _location(table: ScpTable, key: str, scp_path: PathLike) -> str:
    """``file:line (key)`` of an entry, for messages."""
    return where(scp_path, table.entries[key][0], key)


def peek_table_type(spec: PathLike) -> str:
    """The type of a table's first entry (:func:`asrkt.io.checked.peek_type`), read from its
    head only: a binary type token, INT_VECTOR (int32 vectors and Posteriors), TEXT_MATRIX or
    TEXT_POSTERIOR.

    Args:
        spec: rspecifier or path of a table in a file (a pipe cannot be read twice).
    """
    rspec = as_rspecifier(spec)
    path = _table_path(rspec)
    if not _is_plain_file(path):
        raise AsrktError(f"'{spec}': the type of a table is only detected in files "
                         f"(no pipes or stdin)")
    if rspec.split(":", 1)[0].split(",")[0] == "scp":
        with load_scp(path) as table:
            key = next(iter(table), None)
            if key is None:
                raise AsrktError(f"{path}: empty table")
            location = _location(table, key, path)
            place = table.places[key]
            if place is None:
                raise AsrktError(f"{location}: expected 'archive:offset' to detect the table "
                                 f"type")
            ark, offset = place
            try:
                return table._read_at(ark, offset, lambda: location,
                                      lambda handle, _: peek_type(handle, ark, key))
            except OSError as exc:
                raise AsrktError(f"{location}: cannot read '{ark}': "
                                 f"{exc.strerror or exc}") from None
    if not os.path.exists(path):
        raise AsrktError(f"table '{path}' does not exist")
    try:
        with open(path, "rb") as handle:
            try:
                key = read_key(handle)
            except AsrktError as exc:
                raise AsrktError(f"{path}: {exc}") from None
            if key is None:
                raise AsrktError(f"{path}: empty table")
            return peek_type(handle, path, key)
    except OSError as exc:
        raise AsrktError(f"cannot read table '{path}': {exc.strerror or exc}") from None


def _kaldiio_load(value: str, location: str):
    try:
        with _quiet_kaldiio():
            return kaldiio.load_mat(value)
    except AsrktError:
        raise
    except Exception as exc:  # kaldiio raises bare Exceptions on corrupt data
        raise AsrktError(f"{location}: cannot read {value!r}: {reason(exc)}") from None


def _check_key(key: str) -> None:
    if not key or any(c.isspace() for c in key):
        raise AsrktError(f"invalid table key {key!r}: keys must be non-empty without spaces")


class ArkScpWriter:
    """Write a binary ark and its scp atomically, as ``ark,scp:A.ark,A.scp`` would.

    Args:
        ark_path: final archive path.
        scp_path: final script path (optional).
        compress: store matrices in Kaldi's compressed format (kAutomaticMethod).
        before_install: called once the new archive is complete, after the old scp and
            archive were removed and before the new ones get their names: for files that
            describe the table (they then never sit next to an old table).

    Use as a context manager; call :meth:`write` per entry. Nothing carries the final names
    unless the block finishes without an exception.
    """

    def __init__(self, ark_path: PathLike, scp_path: Optional[PathLike] = None,
                 compress: bool = False, before_install: Optional[Callable[[], None]] = None):
        self.ark_path = Path(ark_path)
        self.before_install = before_install
        self.scp_path = Path(scp_path) if scp_path is not None else None
        self.compress = compress
        self.entries: List[Tuple[str, int]] = []
        self._tmp: Optional[Path] = None
        self._handle = None

    def __enter__(self) -> ArkScpWriter:
        try:
            self._tmp = temp_path_for(self.ark_path)
            self._handle = open(self._tmp, "wb")
        except OSError as exc:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
            raise name_output(exc, self.ark_path, self._tmp) from None
        return self

    def write(self, key: str, array: np.ndarray) -> None:
        """Append one matrix/vector under ``key``."""
        _check_key(key)
        offset = self._handle.tell() + len(key.encode()) + 1
        method = KALDI_COMPRESSION_METHOD if self.compress and array.ndim == 2 else None
        try:
            kaldiio.save_ark(self._handle, {key: array}, compression_method=method)
        except OSError as exc:
            raise name_output(exc, self.ark_path, self._tmp) from None
        self.entries.append((key, offset))

    def write_encoded(self, key: str, payload: bytes) -> None:
        """Append ``key``, a space and ``payload``: an object already in Kaldi's encoding
        (binary: starting with ``\\0B``), for the types kaldiio does not write (Posterior)."""
        _check_key(key)
        try:
            self._handle.write(key.encode() + b" ")
            offset = self._handle.tell()
            self._handle.write(payload)
        except OSError as exc:
            raise name_output(exc, self.ark_path, self._tmp) from None
        self.entries.append((key, offset))

    def __exit__(self, exc_type, exc, tb) -> None:
        # The temporary archive goes away on any failure, also when flushing/closing it fails
        # (disk full). The scp is the commit point: it is written to a temporary name first,
        # the old scp is removed, the archive renamed, then the new scp renamed in, so an
        # old scp never points into a new archive.
        try:
            close_or_discard(self._handle, self._tmp, failed=exc_type is not None)
            if exc_type is None:
                self._install()
        except OSError as exc:
            raise name_output(exc, self.ark_path, self._tmp) from None

    def _install(self) -> None:
        try:
            if self.scp_path is None:
                self._replace_archive()
                return
            final = absolute(self.ark_path)
            scp_tmp = temp_path_for(self.scp_path)
            try:
                try:
                    write_scp(scp_tmp, [(k, f"{final}:{o}") for k, o in self.entries],
                              atomic=False)
                except OSError as exc:
                    raise name_output(exc, self.scp_path, scp_tmp) from None
                self.scp_path.unlink(missing_ok=True)
                self._replace_archive()
                os.replace(scp_tmp, self.scp_path)
            finally:
                scp_tmp.unlink(missing_ok=True)
        finally:
            self._tmp.unlink(missing_ok=True)

    def _replace_archive(self) -> None:
        if self.before_install is not None:  # never next to the old archive
            self.ark_path.unlink(missing_ok=True)
            self.before_install()
        os.replace(self._tmp, self.ark_path)


def absolute(path: PathLike) -> Path:
    """The absolute form of ``path`` (symlinks kept) that every scp writer records.

    The rule for every scp asrkt writes: archive locations are absolute paths, so a table can
    be read from any working directory (what Kaldi's scripts get by passing full paths).
    """
    return Path(os.path.abspath(path))


def write_scp(path: PathLike, entries: List[Tuple[str, str]], atomic: bool = True) -> None:
    """Write ``key value`` lines, in the given order.

    Args:
        path: the scp file.
        entries: (key, value) pairs.
        atomic: through a temporary name renamed at the end; False writes ``path`` itself,
            for a path that is already a temporary name (a temporary of a temporary would be
            a name that a re-run's clean-up of stale temporaries does not know).
    """
    with (atomic_open(path) if atomic else open(path, "w", encoding="utf-8")) as handle:
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
