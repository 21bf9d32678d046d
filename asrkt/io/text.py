"""Kaldi text tables (``key value`` per line): the line reader every text table shares, from the
data dir's files to ``.scp`` script files."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Tuple, Union

from asrkt.errors import AsrktError, where

PathLike = Union[str, Path]


def iter_lines(path: PathLike) -> Iterator[Tuple[int, str, str]]:
    """Yield (line number, key, rest) for each non-empty line of a Kaldi key-value file.

    Args:
        path: the file; a blank line or a non-UTF-8 line is an error naming the line.
    """
    path = Path(path)
    if not path.exists():
        raise AsrktError(f"{path}: file does not exist")
    with open(path, "rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise AsrktError(f"{where(path, lineno)}: not valid UTF-8") from None
            if not line.strip():
                raise AsrktError(f"{where(path, lineno)}: empty line")
            parts = line.strip().split(maxsplit=1)
            yield lineno, parts[0], parts[1] if len(parts) > 1 else ""
