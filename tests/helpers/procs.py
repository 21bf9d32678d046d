"""Process helpers for the kill tests (Linux /proc)."""

from __future__ import annotations

from pathlib import Path
from typing import List


def alive(pid: str) -> bool:
    """The process exists and is not a zombie (a killed job reparented to an init that does
    not reap is still dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> List[str]:
    """Child process ids of ``pid`` (empty when it is gone)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
