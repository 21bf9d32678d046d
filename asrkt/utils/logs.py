"""Logging: console plus a per-command log file in the experiment directory."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Iterator, Optional, Union

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
logger = logging.getLogger("asrkt")


def setup_console_logging(verbose: bool = False) -> None:
    """Send asrkt's log records to stderr (once per process)."""
    root = logging.getLogger("asrkt")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(getattr(h, "_asrkt_console", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        handler._asrkt_console = True  # type: ignore[attr-defined]
        root.addHandler(handler)


@contextlib.contextmanager
def command_log(log_dir: Union[str, Path], command: str,
                argv: Optional[list] = None, append: bool = False) -> Iterator[Path]:
    """Log to ``log_dir/<command>.log``: the command line at the top, the status at the bottom.

    Args:
        log_dir: directory for the log (created).
        command: command name, used as the file name.
        argv: the command line to record (sys.argv by default).
        append: add to an existing log instead of replacing it: a run that continues (or finds
            done) an earlier run's work keeps that run's log, its own lines following from its
            command line on (resumable training commands).
    """
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{command}.log"
    handler = logging.FileHandler(path, mode="a" if append else "w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("asrkt")
    root.addHandler(handler)
    level = root.level
    if root.getEffectiveLevel() > logging.INFO:  # called as a library (no console set-up): the
        root.setLevel(logging.INFO)              # log file still records the INFO lines
    start = time.time()
    root.info("# %s", " ".join(shlex.quote(a) for a in (argv or sys.argv)))
    try:
        yield path
    except BaseException as exc:
        root.error("# failed after %.1fs: %s", time.time() - start, exc)
        raise
    else:
        root.info("# finished OK after %.1fs", time.time() - start)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        with contextlib.suppress(OSError):  # a full disk: the command's own error counts
            handler.close()
