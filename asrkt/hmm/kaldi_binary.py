"""Kaldi's object serialisation primitives (base/io-funcs): tokens, basic types, integer vectors
and double matrices, written in the binary form and read from the binary or the text form.

Binary: a token is its text and one space; an int32 is the byte 4 then 4 little-endian bytes
(an unsigned one: the byte -4); a float the byte 4 or 8 then the value; an integer vector the
byte 4, an int32 count, then the values; a bool the character T or F; a matrix the token
``DM``/``FM``, rows and columns as int32, then the row-major values. Text: whitespace separated,
vectors and matrices in ``[ ... ]``. Used for Kaldi's tree and tree-statistics files.
"""

from __future__ import annotations

import struct
from typing import Tuple

import numpy as np

from asrkt.errors import AsrktError


def token(text: str) -> bytes:
    """A binary token."""
    return text.encode() + b" "


def int32(value: int) -> bytes:
    """A binary int32 basic type."""
    return b"\x04" + struct.pack("<i", value)


def uint32(value: int) -> bytes:
    """A binary uint32 basic type."""
    return b"\xfc" + struct.pack("<I", value)


def float64(value: float) -> bytes:
    """A binary double basic type."""
    return b"\x08" + struct.pack("<d", value)


def float32(value: float) -> bytes:
    """A binary float basic type."""
    return b"\x04" + struct.pack("<f", value)


def int_vector(values) -> bytes:
    """A binary integer vector (WriteIntegerVector of int32)."""
    values = [int(v) for v in values]
    return b"\x04" + struct.pack("<i", len(values)) + struct.pack(f"<{len(values)}i", *values)


def double_matrix(matrix: np.ndarray) -> bytes:
    """A binary Matrix<double>."""
    matrix = np.ascontiguousarray(matrix, dtype="<f8")
    return (token("DM") + int32(matrix.shape[0]) + int32(matrix.shape[1]) + matrix.tobytes())


class KaldiReader:
    """Reads tokens and basic types from the bytes of a Kaldi object, binary or text.

    Args:
        data: the bytes (without the ``\\0B`` header of a binary file).
        binary: binary or text form.
        source: what the bytes are, for error messages.
        what: the kind of object, for error messages (``not a valid Kaldi <what>``).
    """

    def __init__(self, data: bytes, binary: bool, source: str, what: str):
        self.data, self.binary, self.source, self.what, self.pos = data, binary, source, what, 0

    def fail(self, problem: str) -> AsrktError:
        return AsrktError(f"{self.source}: not a valid Kaldi {self.what} ({problem} at byte "
                          f"{self.pos})")

    def _skip_space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos:self.pos + 1].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        if not self.binary:
            self._skip_space()
        return self.pos >= len(self.data)

    def token(self) -> str:
        if not self.binary:
            self._skip_space()
        end = self.pos
        while end < len(self.data) and not self.data[end:end + 1].isspace():
            end += 1
        if end == self.pos or (self.binary and end >= len(self.data)):
            raise self.fail("truncated: expected a token")
        text = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1 if self.binary else end
        return text

    def expect(self, expected: str) -> None:
        got = self.token()
        if got != expected:
            raise self.fail(f"expected '{expected}', found '{got[:20]}'")

    def peek(self) -> str:
        if not self.binary:
            self._skip_space()
        if self.pos >= len(self.data):
            raise self.fail("truncated")
        return chr(self.data[self.pos])

    def _text_number(self, kind):
        text = self.token()
        try:
            return kind(text)
        except ValueError:
            raise self.fail(f"expected a number, found '{text[:20]}'") from None

    def integer(self, signed: bool = True) -> int:
        if not self.binary:
            return self._text_number(int)
        if self.pos + 5 > len(self.data):
            raise self.fail("truncated integer")
        if self.data[self.pos] != (4 if signed else 0xFC):
            raise self.fail("integer of unexpected size")
        value = struct.unpack_from("<i" if signed else "<I", self.data, self.pos + 1)[0]
        self.pos += 5
        return value

    def real(self) -> float:
        if not self.binary:
            return self._text_number(float)
        if self.pos >= len(self.data) or self.data[self.pos] not in (4, 8):
            raise self.fail("truncated or malformed real number")
        size = self.data[self.pos]
        if self.pos + 1 + size > len(self.data):
            raise self.fail("truncated real number")
        value = struct.unpack_from("<f" if size == 4 else "<d", self.data, self.pos + 1)[0]
        self.pos += 1 + size
        return float(value)

    def boolean(self) -> bool:
        text = self.token() if not self.binary else self._binary_char()
        if text not in ("T", "F"):
            raise self.fail(f"expected T or F, found '{text[:20]}'")
        return text == "T"

    def _binary_char(self) -> str:
        if self.pos >= len(self.data):
            raise self.fail("truncated")
        self.pos += 1
        return chr(self.data[self.pos - 1])

    def _bracketed(self, read_one) -> list:
        """Text values between ``[`` and ``]``."""
        self.expect("[")
        values = []
        while self.peek() != "]":
            values.append(read_one())
        self.expect("]")
        return values

    def int_vector(self) -> Tuple[int, ...]:
        if not self.binary:
            return tuple(self._bracketed(self.integer))
        if self.pos + 5 > len(self.data) or self.data[self.pos] != 4:
            raise self.fail("truncated or malformed integer vector")
        count = struct.unpack_from("<i", self.data, self.pos + 1)[0]
        self.pos += 5
        if count < 0 or self.pos + 4 * count > len(self.data):
            raise self.fail("truncated integer vector")
        values = struct.unpack_from(f"<{count}i", self.data, self.pos)
        self.pos += 4 * count
        return tuple(values)

    def matrix(self, rows: int) -> np.ndarray:
        """A Matrix<float|double> (text: ``rows`` rows expected) as float64."""
        if not self.binary:
            values = self._bracketed(self.real)
            if len(values) % max(rows, 1):
                raise self.fail(f"matrix of {len(values)} values is not {rows} rows")
            return np.array(values, dtype=np.float64).reshape(rows, -1)
        kind = self.token()
        if kind not in ("DM", "FM"):
            raise self.fail(f"expected a matrix, found '{kind[:20]}'")
        num_rows, num_cols = self.integer(), self.integer()
        size = 8 if kind == "DM" else 4
        count = num_rows * num_cols
        if num_rows < 0 or num_cols < 0 or self.pos + size * count > len(self.data):
            raise self.fail("truncated matrix")
        values = np.frombuffer(self.data, dtype="<f8" if size == 8 else "<f4", count=count,
                               offset=self.pos)
        self.pos += size * count
        return values.astype(np.float64).reshape(num_rows, num_cols)


def split_header(data: bytes) -> Tuple[bytes, bool]:
    """(bytes without Kaldi's ``\\0B`` binary header, whether it was binary)."""
    if data.startswith(b"\x00B"):
        return data[2:], True
    return data, False
