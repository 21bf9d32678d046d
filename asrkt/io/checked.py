"""The one checked reader of Kaldi binary objects (matrices, vectors, int32 vectors, Posteriors).

Every reader of matrices in asrkt (features, CMVN stats, soft targets, log-likelihoods), of
alignments and of Posterior tables goes through :func:`read_object`, via :mod:`asrkt.io.tables`.
It checks what kaldiio does not: the binary type token against the kind the caller expects
(``FM``/``DM``/``CM``/``CM2``/``CM3`` for matrices, ``FV``/``DV`` for vectors, the int32 marker
for alignments and Posteriors), the declared dimensions against the bytes left in the file, the
consistency of Kaldi-compressed headers (finite minimum and range, per-column percentiles in
order) and the finiteness of every value (Posteriors: finite weights, non-negative ids). Each
problem is an :class:`AsrktError` naming file and key.

A binary Posterior starts like an int32 vector (``\\4 int32 T``), then per frame ``\\4 int32 n``
and n pairs ``\\4 int32 id \\4 float32 weight``; only the caller's kind tells the two apart, as
in Kaldi. Entries whose frames all hold the same number of pairs (top-k dumps, ``ali-to-post``)
are parsed by one numpy view; ragged ones frame by frame. Posteriors are also read in Kaldi's
text form (``[ 0 0.9 3 0.1 ] [ 2 1 ]``, one line per entry); other text objects are not.

Payload damage that still decodes to finite numbers of the declared shape cannot be detected
(Kaldi archives have no checksums).
"""

from __future__ import annotations

import contextlib
import re
import struct
from typing import BinaryIO, Iterator, List, Optional, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError, reason
from asrkt.io.sparse import PAIR_DTYPE, SparsePosterior, frame_dtype

MATRIX_TYPES = ("FM", "DM", "CM", "CM2", "CM3")
VECTOR_TYPES = ("FV", "DV")
INT_VECTOR = "int32 vector"
KINDS = {"matrix": MATRIX_TYPES, "vector": VECTOR_TYPES, "int-vector": (INT_VECTOR,),
         "posterior": (INT_VECTOR,)}
TEXT_MATRIX, TEXT_POSTERIOR = "text matrix", "text Posterior"  # what peek_type reports for text
MAX_KEY_BYTES = 4096
MAX_ELEMENTS = 1 << 31  # for streams whose size is unknown
_CHUNK = 1 << 20


def describe(source: str, key: Optional[str]) -> str:
    """``file (key)`` for messages."""
    return f"{source} ({key})" if key is not None else source


def _read_exact(fd: BinaryIO, count: int, what: str) -> bytes:
    """Exactly ``count`` bytes (read in chunks so a bogus huge size allocates nothing)."""
    if count <= _CHUNK:
        data = fd.read(count)
        if len(data) == count:
            return data
        raise AsrktError(f"truncated: {what} needs {count} bytes, only {len(data)} left")
    parts, left = [], count
    while left > 0:
        chunk = fd.read(min(left, _CHUNK))
        if not chunk:
            raise AsrktError(f"truncated: {what} needs {count} bytes, only {count - left} left")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _check_room(count: int, itemsize: int, left: Optional[int], what: str) -> None:
    """Declared size against the bytes left in the file (or a sane maximum for streams)."""
    if count < 0:
        raise AsrktError(f"negative size in {what} header")
    if left is not None and count * itemsize > left:
        raise AsrktError(f"{what} declares {count * itemsize} bytes of data but the file "
                         f"has only {left} left (truncated or corrupt header)")
    if count > MAX_ELEMENTS:
        raise AsrktError(f"{what} declares an insane size ({count} elements)")


def read_key(fd: BinaryIO) -> Optional[str]:
    """The next archive key (up to the space), or None at a clean end of file."""
    peek = getattr(fd, "peek", None)  # buffered files and pipes: the key from the buffer
    space = peek(1).find(b" ", 0, MAX_KEY_BYTES + 1) if peek is not None else -1
    raw = fd.read(space + 1)[:-1] if space >= 0 else bytearray()
    while space < 0:
        char = fd.read(1)
        if not char:
            if raw:
                raise AsrktError(f"truncated archive: key {bytes(raw)[:40]!r} without data")
            return None
        if char == b" ":
            break
        raw += char
        if len(raw) > MAX_KEY_BYTES:
            raise AsrktError(f"no key/value separator in the first {MAX_KEY_BYTES} bytes "
                             f"(not a binary Kaldi archive?): {bytes(raw)[:40]!r}...")
    try:
        key = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AsrktError(f"key {bytes(raw)[:40]!r} is not UTF-8 (corrupt archive?)") from None
    # isprintable() is False for every whitespace character but ' ', which ends the key
    if not key or not key.isprintable():
        raise AsrktError(f"invalid key {key[:40]!r} (corrupt archive?)")
    return key


def _read_token(fd: BinaryIO) -> str:
    raw = bytearray()
    while len(raw) <= 4:
        char = fd.read(1)
        if not char:
            raise AsrktError("truncated: no type token after the binary marker")
        if char == b" ":
            return raw.decode("latin-1")
        raw += char
    raise AsrktError(f"unknown binary type token {bytes(raw)!r}")


# what a damaged object can raise while it is read: our checks' AsrktError and the rest
_READ_ERRORS = (AsrktError, ValueError, struct.error, OverflowError, MemoryError)


def _named(exc: Exception, source: str, key: Optional[str]) -> AsrktError:
    """A problem met while reading (one of ``_READ_ERRORS``) as one line naming file and key."""
    if isinstance(exc, AsrktError):
        return AsrktError(f"{describe(source, key)}: {exc}")
    return AsrktError(f"{describe(source, key)}: corrupt object ({reason(exc)})")


@contextlib.contextmanager
def _naming(source: str, key: Optional[str]) -> Iterator[None]:
    """Every problem while reading becomes one AsrktError line naming file and key."""
    try:
        yield
    except _READ_ERRORS as exc:
        raise _named(exc, source, key) from None


def read_object(fd: BinaryIO, kind: Optional[str] = None, left: Optional[int] = None,
                source: str = "?", key: Optional[str] = None
                ) -> Union[np.ndarray, SparsePosterior]:
    """Read and check one Kaldi object at the current position of ``fd``.

    Args:
        fd: binary file object positioned at the object (``\\0B``; a text Posterior's ``[``).
        kind: 'matrix', 'vector', 'int-vector', 'posterior' or None (any but a Posterior).
        left: bytes left in the file from here (None for pipes: sizes are then capped).
        source: file name for messages.
        key: table key for messages.

    Returns:
        float32/float64 matrix or vector, an int32 vector, or a :class:`SparsePosterior`.
    """
    try:  # _naming, without a context manager per object (read once per table entry)
        return _read_object(fd, kind, left)
    except _READ_ERRORS as exc:
        raise _named(exc, source, key) from None


def _binary_token(fd: BinaryIO) -> str:
    """The type token after ``\\0B`` (``FM``, ..., or INT_VECTOR for the bare int32 marker)."""
    peek = fd.read(1)
    if peek == b"\4":
        return INT_VECTOR
    return (peek + _read_token(fd).encode("latin-1")).decode("latin-1")


def _read_object(fd: BinaryIO, kind: Optional[str], left: Optional[int]
                 ) -> Union[np.ndarray, SparsePosterior]:
    if kind == "posterior":
        first = fd.read(1)
        if first not in (b"\0", b""):
            return _read_text_posterior(first, fd, left)
        head = first + fd.read(1)
    else:
        head = fd.read(2)
    if head != b"\0B":
        raise AsrktError(f"not a binary Kaldi object (starts with {head!r}; text archives "
                         f"are not supported, convert with copy-feats/copy-vector --binary=true)")
    token = _binary_token(fd)
    allowed = KINDS[kind] if kind is not None else MATRIX_TYPES + VECTOR_TYPES + (INT_VECTOR,)
    if token not in allowed:
        known = token in MATRIX_TYPES + VECTOR_TYPES + (INT_VECTOR,)
        raise AsrktError(f"expected a {kind} ({'/'.join(allowed)}), found "
                         f"{'a ' + token if known else 'unknown type token ' + repr(token)}")
    used = 3 if token == INT_VECTOR else 2 + len(token) + 1
    left = None if left is None else left - used
    if token == INT_VECTOR:
        return _read_posterior(fd, left) if kind == "posterior" else _read_int_vector(fd, left)
    if token in ("CM", "CM2", "CM3"):
        return _read_compressed(fd, token, left)
    return _read_plain(fd, token, left)


def peek_type(fd: BinaryIO, source: str = "?", key: Optional[str] = None) -> str:
    """The type of the object at ``fd``'s position, reading only its head (Kaldi's own
    detection of Posterior vs matrix tables).

    Args:
        fd: positioned at the object, as for :func:`read_object`.
        source / key: for messages.

    Returns:
        the binary type token (``FM``, ..., INT_VECTOR for int32 vectors and Posteriors), or
        TEXT_MATRIX (a ``[`` alone on the key's line) / TEXT_POSTERIOR (``[ id weight ... ]``).
    """
    with _naming(source, key):
        first = fd.read(1)
        if not first:
            raise AsrktError("truncated: no object after the key")
        if first != b"\0":
            line = (first + fd.readline(MAX_KEY_BYTES)).split(b"\n")[0].strip()
            return TEXT_MATRIX if line == b"[" or not line.startswith(b"[") else TEXT_POSTERIOR
        if fd.read(1) != b"B":
            raise AsrktError("not a Kaldi object (no binary marker after \\0)")
        return _binary_token(fd)


def _less(left: Optional[int], used: int) -> Optional[int]:
    return None if left is None else left - used


def _frame_size(head: bytes, frame: int) -> int:
    """The pair count of a binary Posterior frame from its 5-byte head."""
    if head[:1] != b"\4":
        raise AsrktError(f"bad size marker {head[:1]!r} of Posterior frame {frame}")
    count = struct.unpack("<i", head[1:])[0]
    if count < 0:
        raise AsrktError(f"negative pair count {count} in Posterior frame {frame}")
    return count


def _read_posterior(fd: BinaryIO, left: Optional[int]) -> SparsePosterior:
    """A binary Posterior (after its int32 marker): one view when every frame has the same
    number of pairs and the file can be read ahead, else frame by frame."""
    frames = struct.unpack("<i", _read_exact(fd, 4, "Posterior"))[0]
    if frames < 0:
        raise AsrktError(f"negative frame count {frames} in Posterior header")
    left = _less(left, 4)
    _check_room(frames, 5, left, "Posterior")
    if frames == 0:
        return SparsePosterior(np.zeros((0, 0), np.int32), np.zeros((0, 0), np.float32))
    head = _read_exact(fd, 5, "Posterior frame 0")
    width = _frame_size(head, 0)
    record = frame_dtype(width)
    size = frames * record.itemsize
    if left is not None and size <= left and fd.seekable():
        start, buf = fd.tell(), bytearray(size)
        buf[:5] = head
        if fd.readinto(memoryview(buf)[5:]) == size - 5:
            rec = np.frombuffer(buf, dtype=record)
            pairs = rec["p"]
            if (np.all(rec["s"] == 4) and np.all(rec["n"] == width)
                    and np.all(pairs["a"] == 4) and np.all(pairs["b"] == 4)):
                return _checked_posterior(SparsePosterior(pairs["id"].astype(np.int32),
                                                          pairs["w"].astype(np.float32)))
        fd.seek(start)
    return _read_ragged(fd, frames, width, _less(left, 5))


def _read_ragged(fd: BinaryIO, frames: int, width: int, left: Optional[int]) -> SparsePosterior:
    """Frames of any sizes, frame 0's head (``width`` pairs) already read."""
    ids: List[np.ndarray] = []
    weights: List[np.ndarray] = []
    count = width
    for frame in range(frames):
        if frame:
            count = _frame_size(_read_exact(fd, 5, f"Posterior frame {frame}"), frame)
            left = _less(left, 5)
        _check_room(count, PAIR_DTYPE.itemsize, left, f"Posterior frame {frame}")
        raw = _read_exact(fd, count * PAIR_DTYPE.itemsize, f"Posterior frame {frame}")
        left = _less(left, len(raw))
        pairs = np.frombuffer(raw, dtype=PAIR_DTYPE)
        if np.any(pairs["a"] != 4) or np.any(pairs["b"] != 4):
            raise AsrktError(f"Posterior frame {frame}: malformed pairs (expected int32 ids "
                             f"and float32 weights)")
        ids.append(pairs["id"])
        weights.append(pairs["w"])
    return _checked_posterior(SparsePosterior.from_frames(ids, weights))


def _checked_posterior(post: SparsePosterior) -> SparsePosterior:
    """Non-negative ids and finite weights, or an error naming the first bad frame."""
    if post.ids.size and post.ids.min() < 0:
        frame, pair = (int(i) for i in np.argwhere(post.ids < 0)[0])
        raise AsrktError(f"Posterior frame {frame}: negative pdf id {int(post.ids[frame, pair])}")
    if not np.all(np.isfinite(post.weights)):
        frame = int(np.argwhere(~np.isfinite(post.weights))[0][0])
        raise AsrktError(f"Posterior frame {frame}: NaN/inf weight")
    return post


def _read_text_posterior(first: bytes, fd: BinaryIO, left: Optional[int]) -> SparsePosterior:
    """Kaldi's text Posterior: the rest of the line, ``[ 0 0.9 3 0.1 ] [ 2 1 ]``."""
    line = first + fd.readline(-1 if left is None else max(left - 1, 0))
    if not line.endswith(b"\n"):
        raise AsrktError("text Posterior: no newline at the end of the entry (truncated?)")
    try:
        tokens = line.decode("utf-8").split()
    except UnicodeDecodeError:
        raise AsrktError("text Posterior: not UTF-8 text (a corrupt binary entry?)") from None
    ids: List[np.ndarray] = []
    weights: List[np.ndarray] = []
    i = 0
    while i < len(tokens):
        frame = len(ids)
        if tokens[i] != "[":
            raise AsrktError(f"text Posterior frame {frame}: expected '[', got {tokens[i][:20]!r}")
        try:
            end = tokens.index("]", i)
        except ValueError:
            raise AsrktError(f"text Posterior frame {frame}: missing ']'") from None
        body = tokens[i + 1:end]
        if len(body) % 2:
            raise AsrktError(f"text Posterior frame {frame}: odd number of values "
                             f"(id weight pairs)")
        try:
            ids.append(np.array([int(t) for t in body[0::2]], dtype=np.int32))
            weights.append(np.array([float(t) for t in body[1::2]], dtype=np.float32))
        except (ValueError, OverflowError):
            raise AsrktError(f"text Posterior frame {frame}: non-numeric or out-of-range id "
                             f"or weight") from None
        i = end + 1
    return _checked_posterior(SparsePosterior.from_frames(ids, weights))


def _read_int_vector(fd: BinaryIO, left: Optional[int]) -> np.ndarray:
    size = struct.unpack("<i", _read_exact(fd, 4, "int32 vector"))[0]
    _check_room(size, 5, None if left is None else left - 4, "int32 vector")
    if size == 0:
        raise AsrktError("empty int32 vector")
    data = _read_exact(fd, 5 * size, "int32 vector")
    if data[0::5] != b"\4" * size:  # every element's size marker
        bad = next(i for i, marker in enumerate(data[0::5]) if marker != 4)
        raise AsrktError(f"bad element marker {data[5 * bad:5 * bad + 1]!r} at element {bad} "
                         f"of an int32 vector")
    return np.ndarray((size,), "<i4", data, 1, (5,)).astype(np.int32)


def _read_plain(fd: BinaryIO, token: str, left: Optional[int]) -> np.ndarray:
    dtype = np.dtype("<f4") if token[0] == "F" else np.dtype("<f8")
    header = 10 if token.endswith("M") else 5
    sizes = _read_exact(fd, header, token)  # rows (and columns): each b"\4" + int32
    for at in range(0, header, 5):
        if sizes[at] != 4:
            raise AsrktError(f"bad size marker {sizes[at:at + 1]!r} in {token} (expected "
                             f"b'\\x04')")
    rows = struct.unpack("<i", sizes[1:5])[0]
    cols = struct.unpack("<i", sizes[6:])[0] if header == 10 else None
    if rows < 0 or (cols is not None and cols < 0):
        raise AsrktError(f"negative dimension in {token} header ({rows} x {cols})")
    count = rows * (cols if cols is not None else 1)
    _check_room(count, dtype.itemsize, None if left is None else left - header, token)
    if count == 0:
        raise AsrktError(f"empty {token} ({rows} x {cols})" if cols is not None
                         else f"empty {token}")
    size = count * dtype.itemsize
    readinto = getattr(fd, "readinto", None)
    if left is not None and readinto is not None:  # a file: straight into the array
        array = np.empty(count, dtype=dtype)
        got = readinto(memoryview(array).cast("B"))
        if got != size:
            raise AsrktError(f"truncated: {token} needs {size} bytes, only {got or 0} left")
        array = array.astype(dtype.newbyteorder("="), copy=False)
    else:  # a pipe: in chunks, so that a bogus size allocates nothing
        array = np.frombuffer(_read_exact(fd, size, token), dtype=dtype)
        array = array.astype(dtype.newbyteorder("="), copy=True)
    return _finite(array.reshape((rows, cols) if cols is not None else (rows,)), token)


def _finite(array: np.ndarray, token: str) -> np.ndarray:
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise AsrktError(f"{token} contains NaN/inf (first at index {tuple(int(i) for i in bad)})")
    return array


def _read_compressed(fd: BinaryIO, token: str, left: Optional[int]) -> np.ndarray:
    min_value, span, rows, cols = struct.unpack("<ffii", _read_exact(fd, 16, token + " header"))
    if not (np.isfinite(min_value) and np.isfinite(span) and span > 0
            and np.isfinite(np.float32(min_value) + np.float32(span))):
        raise AsrktError(f"{token} header: min {min_value!r} / range {span!r} not finite and "
                         f"positive")
    if rows <= 0 or cols <= 0:
        raise AsrktError(f"{token} header: bad dimensions {rows} x {cols}")
    room = None if left is None else left - 16
    if token == "CM":
        _check_room(rows * cols + 8 * cols, 1, room, token)
        percentiles = np.frombuffer(_read_exact(fd, 8 * cols, "CM column headers"), "<u2")
        percentiles = percentiles.reshape(cols, 4).astype(np.int64)
        if np.any(np.diff(percentiles, axis=1) <= 0):
            col = int(np.argmax(np.any(np.diff(percentiles, axis=1) <= 0, axis=1)))
            raise AsrktError(f"CM column header {col}: percentiles "
                             f"{percentiles[col].tolist()} not increasing")
        data = np.frombuffer(_read_exact(fd, rows * cols, "CM data"), "u1").reshape(cols, rows)
        return _finite(_decode_cm(data, percentiles, min_value, span), token)
    itemsize = 2 if token == "CM2" else 1
    _check_room(rows * cols, itemsize, room, token)
    data = np.frombuffer(_read_exact(fd, itemsize * rows * cols, token + " data"),
                         "<u2" if itemsize == 2 else "u1").reshape(rows, cols)
    scale = 65535.0 if itemsize == 2 else 255.0
    out = np.float32(min_value) + data.astype(np.float32) * np.float32(span / scale)
    return _finite(out.astype(np.float32), token)


def _decode_cm(data: np.ndarray, percentiles: np.ndarray, min_value: float,
               span: float) -> np.ndarray:
    """Kaldi's per-column speech-feature decompression (CompressedMatrix::CopyToMat)."""
    p = (np.float32(min_value)
         + percentiles.astype(np.float32) * np.float32(span / 65535.0))[:, :, None]
    p0, p25, p75, p100 = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    x = data.astype(np.float32)
    low = p0 + (p25 - p0) * x * np.float32(1 / 64.0)
    mid = p25 + (p75 - p25) * (x - 64.0) * np.float32(1 / 128.0)
    high = p75 + (p100 - p75) * (x - 192.0) * np.float32(1 / 63.0)
    out = np.where(x <= 64, low, np.where(x <= 192, mid, high))
    return np.ascontiguousarray(out.T, dtype=np.float32)


_NEXT_ENTRY = re.compile(rb"[^\x00-\x20]{1,%d} \0B" % MAX_KEY_BYTES)

# read_object_buffered: for each kind it takes and type token, the element type and number of
# dimensions of the plain types (None: the int32 marker, an int32 vector)
_BUFFERED = {}
for _kind, _tokens in ((None, ("FM", "DM", "FV", "DV")), ("matrix", ("FM", "DM")),
                       ("vector", ("FV", "DV"))):
    for _token in _tokens:
        _BUFFERED[_kind, _token.encode() + b" "] = (
            np.dtype("<f4" if _token[0] == "F" else "<f8"), 2 if _token[1] == "M" else 1)
_INT_KINDS = (None, "int-vector")
_TAG_AT = struct.Struct("<2s3s").unpack_from  # b"\0B" and the token with its space
_INT32_AT = struct.Struct("<i").unpack_from
_SIZE_AT = struct.Struct("<bi").unpack_from  # b"\4" size
_DIMS_AT = struct.Struct("<bibi").unpack_from  # b"\4" rows b"\4" cols


def read_object_buffered(buf: Union[bytes, bytearray], pos: int, end: int,
                         kind: Optional[str] = None) -> Optional[Tuple[np.ndarray, int]]:
    """The object at ``buf[pos:]``, parsed from the bytes in memory, when it is one that
    :func:`read_object` would return unchanged: a plain ``FM``/``DM``/``FV``/``DV`` matrix or
    vector or an int32 vector of the caller's kind, whose sizes, size markers and values pass
    every one of read_object's checks and which ends by ``end``. Anything else (another type,
    a failed check, an object reaching past ``end``) gives None, and the caller reads the
    object with read_object, which says what is wrong (so a message never depends on the
    path taken).

    Args:
        buf: bytes of the file (a whole archive or a stretch of it).
        pos: where the object starts (``\0B``).
        end: where the bytes the object may use end (the file's end or the entry's limit;
            at most ``len(buf)``).
        kind: as for read_object ('posterior' is never parsed here).

    Returns:
        (the array, the position after the object) or None.
    """
    if end - pos < 14 or kind == "posterior":  # 14: the smallest plain object
        return None
    mark, tag = _TAG_AT(buf, pos)
    if mark != b"\0B":
        return None
    if tag[0] == 4:  # the int32 marker: an int32 vector
        if kind not in _INT_KINDS:
            return None
        size = _INT32_AT(buf, pos + 3)[0]
        stop = pos + 7 + 5 * size
        if size <= 0 or stop > end or buf[pos + 7:stop:5] != b"\4" * size:
            return None
        return np.ndarray((size,), "<i4", buf, pos + 8, (5,)).astype(np.int32), stop
    plain = _BUFFERED.get((kind, tag))
    if plain is None:
        return None
    dtype, ndim = plain
    if ndim == 2:
        if end - pos < 15:
            return None
        four, rows, four2, cols = _DIMS_AT(buf, pos + 5)
        if four != 4 or four2 != 4 or rows <= 0 or cols <= 0 or rows * cols > MAX_ELEMENTS:
            return None
        count, start = rows * cols, pos + 15
    else:
        four, count = _SIZE_AT(buf, pos + 5)
        if four != 4 or count <= 0:
            return None
        start = pos + 10
    stop = start + count * dtype.itemsize
    if stop > end:
        return None
    array = np.frombuffer(buf, dtype, count, start).astype(dtype.newbyteorder("="))
    if np.count_nonzero(np.isfinite(array)) != count:
        return None  # read_object names the first NaN/inf
    return (array.reshape(rows, cols) if ndim == 2 else array), stop


def followed_by_entry_buffered(buf: bytes, pos: int, at_end: bool) -> bool:
    """:func:`check_followed_by_entry` decided from bytes in memory: True when the object that
    ends at ``buf[pos]`` ends the file (``at_end``) or is followed by ``key \0B`` in ``buf``
    (False also when ``buf`` ends too soon to tell: the caller then reads the entry with the
    checks that name the problem)."""
    return at_end or _NEXT_ENTRY.match(buf, pos, pos + MAX_KEY_BYTES + 3) is not None


def check_followed_by_entry(fd: BinaryIO, source: str, key: Optional[str]) -> None:
    """After a randomly accessed object: the archive must end or go on with ``key \0B``.

    A damaged size that still fits in the file (a smaller row count, say) is caught here:
    the object would end inside the data instead of at an entry boundary.

    Args:
        fd: positioned just after the object.
        source / key: for messages.
    """
    peek = getattr(fd, "peek", None)
    if peek is not None and _NEXT_ENTRY.match(peek(1)):
        return  # decided from the buffer, without reading on (and seeking back)
    peek = fd.read(MAX_KEY_BYTES + 3)
    if peek and not _NEXT_ENTRY.match(peek):
        raise AsrktError(f"{describe(source, key)}: the object does not end at an entry "
                         f"boundary (corrupt size in its header?)")


def check_array(array, kind: Optional[str], source: str, key: Optional[str]) -> np.ndarray:
    """The same checks for an array that came another way (pipes, ranges, text via kaldiio).

    Args:
        array: what was read.
        kind: 'matrix', 'vector', 'int-vector' or None.
        source / key: for messages.
    """
    where = describe(source, key)
    if not isinstance(array, np.ndarray):
        raise AsrktError(f"{where}: not a matrix or vector ({type(array).__name__})")
    want_ndim = {"matrix": 2, "vector": 1, "int-vector": 1}.get(kind)
    if want_ndim is not None and array.ndim != want_ndim:
        raise AsrktError(f"{where}: expected a {kind}, found {array.ndim}-D data "
                         f"of shape {array.shape}")
    if kind == "int-vector" and not np.issubdtype(array.dtype, np.integer):
        raise AsrktError(f"{where}: expected an int32 vector, found {array.dtype} data")
    if array.size == 0:
        raise AsrktError(f"{where}: empty {kind or 'object'}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise AsrktError(f"{where}: contains NaN/inf")
    return array
