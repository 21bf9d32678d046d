"""User-facing errors.

Every problem caused by the user's input or environment is raised as :class:`AsrktError`.
The CLI prints its message as one line (``asrkt <command>: error: <message>``) and exits
with status 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class AsrktError(Exception):
    """A problem with input data, configuration or environment, reported as one line."""


def where(path: Union[str, Path], line: Optional[int] = None, key: Optional[str] = None) -> str:
    """Format a location as ``file:line (key)`` for error messages.

    Args:
        path: the file the problem is in.
        line: 1-based line number, if known.
        key: the utterance/speaker/word key, if known.
    """
    text = str(path)
    if line is not None:
        text += f":{line}"
    if key is not None:
        text += f" ({key})"
    return text


def os_error_text(exc: OSError) -> str:
    """``<path>: <reason>`` for an OSError (both paths for a failed rename)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def reason(exc: BaseException) -> str:
    """A non-empty, one-line reason for a caught library exception (its type when the
    message is empty)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
