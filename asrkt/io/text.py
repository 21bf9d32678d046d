"""Kaldi text tables (``key value`` per line): the line reader every text table shares, from the
data dir's files to ``.scp`` script files.

Lines end in ``\\n`` only: a carriage return (Windows line ends, CRLF) is refused, as Kaldi's
validate_text.pl does, rather than dropped here and kept by other tools.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Iterator, Tuple, Union

from asrkt.errors import AsrktError, where

PathLike = Union[str, Path]


def carriage_return(line: str) -> str:
    """What is wrong with a line holding a carriage return."""
    if line.endswith("\r") and "\r" not in line[:-1]:
        return "Windows line end (CRLF); Kaldi files need Unix line ends (LF)"
    return "carriage return (\\r) inside the line; Kaldi files need Unix line ends (LF)"


def strip_carriage_returns_command(path: PathLike) -> str:
    """The shell command that removes every carriage return of ``path``."""
    return f"sed -i 's/\\r//g' {shlex.quote(str(path))}"


def iter_lines(path: PathLike) -> Iterator[Tuple[int, str, str]]:
    """Yield (line number, key, rest) for each non-empty line of a Kaldi key-value file.

    Args:
        path: the file; a blank line, a non-UTF-8 line or one with a carriage return (Windows
            line ends) is an error naming the line.
    """
    path = Path(path)
    if not path.exists():
        raise AsrktError(f"{path}: file does not exist")
    with open(path, "rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").rstrip("\n")
            except UnicodeDecodeError:
                raise AsrktError(f"{where(path, lineno)}: not valid UTF-8") from None
            if "\r" in line:
                raise AsrktError(f"{where(path, lineno)}: {carriage_return(line)}: "
                                 f"run {strip_carriage_returns_command(path)}")
            if not line.strip():
                raise AsrktError(f"{where(path, lineno)}: empty line")
            parts = line.strip().split(maxsplit=1)
            yield lineno, parts[0], parts[1] if len(parts) > 1 else ""
