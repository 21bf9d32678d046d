"""Atomic file writes: nothing half-written ever carries a final name."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator, Optional, Union

PathLike = Union[str, Path]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by the owner only; final outputs get the usual permissions.
_FILE_MODE = 0o666 & ~_current_umask()


def temp_path_for(path: PathLike) -> Path:
    """A fresh temporary name in the same directory as ``path`` (so rename is atomic).

    Temporary files of ``path`` that an earlier, killed run left behind are removed first
    (two commands writing the same output at once are not supported anyway). ``path`` must
    not be a temporary name itself: a temporary of one is a name no later clean-up removes
    (write such a path directly, e.g. ``write_scp(..., atomic=False)``).
    """
    path = Path(path)
    if path.name.startswith(".") and path.name.endswith(".tmp"):
        raise ValueError(f"{path}: already a temporary name; write it directly")
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, _FILE_MODE)
    os.close(fd)
    return Path(tmp)


def remove_stale_temporaries(folder: PathLike) -> int:
    """Remove every temporary file :func:`temp_path_for` names (``.<name>.<random>.tmp``) under
    ``folder``, at any depth; the number removed.

    For a command that resumes (keeps the outputs an earlier run finished): a re-run that
    skips an output never asks :func:`temp_path_for` for its name, so it would not remove a
    temporary of it that a kill left behind.
    """
    removed = 0
    for stale in Path(folder).rglob(".*.tmp"):
        if stale.is_file() and stale.name.count(".") >= 3:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                removed += 1
    return removed


def close_or_discard(handle: IO, tmp: PathLike, failed: bool) -> None:
    """Close a temporary file's handle; delete the file when ``failed`` or when closing
    (flushing) it fails, e.g. on a full disk, and re-raise that error.

    Args:
        handle: the open file object.
        tmp: its path.
        failed: the write already failed (the file is deleted in any case).
    """
    try:
        if not failed:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            return
    except BaseException:
        failed = True
        raise
    finally:
        if failed:
            with contextlib.suppress(OSError):
                handle.close()  # a failed flush again: the descriptor is released anyway
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``path``, on error delete it.

    Args:
        path: the final file name.
    """
    try:
        tmp = temp_path_for(path)
    except OSError as exc:
        raise name_output(exc, path) from None
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise name_output(exc, path, tmp) from None
        raise


def name_output(exc: OSError, path: PathLike, tmp: Optional[PathLike] = None) -> OSError:
    """Name the final output in an OSError that names no file or only its temporary name,
    so the one-line error says which output could not be written.

    Args:
        exc: the error.
        path: the final output path.
        tmp: its temporary name, if any.

    Returns:
        ``exc`` itself, or an OSError of the same errno naming ``path``.
    """
    if exc.errno is not None and (exc.filename is None or
                                  (tmp is not None and str(exc.filename) == str(tmp))):
        return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
    return exc


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; it becomes ``path`` only if the block succeeds.

    Args:
        path: the final file name.
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        encoding: text encoding for text mode.
    """
    with atomic_output(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with open(tmp, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
