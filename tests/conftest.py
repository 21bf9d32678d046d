"""Shared fixtures: locations of the shared corpora (tests skip with a message without them);
the end-to-end files run first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# first: pins numpy's and torch's CPU kernels (asrkt/kernels.py) before any test module loads
# them, so that what a test computes in its own process is what the commands compute
import asrkt  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("ASRKT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _corpus(name: str, probe: str) -> Path:
    path = SHARED_DATA / name
    if not (path / probe).exists():
        pytest.skip(f"corpus '{name}' not found at {path} (set ASRKT_SHARED_DATA to its parent)")
    return path


@pytest.fixture(scope="session")
def fsdd_dir() -> Path:
    """``../shared/data/fsdd`` (recordings/ inside); skips when absent."""
    return _corpus("fsdd", "recordings")


@pytest.fixture(scope="session")
def speech_commands_dir() -> Path:
    """``../shared/data/speech_commands`` (yes/ inside); skips when absent."""
    return _corpus("speech_commands", "yes")


@pytest.fixture(scope="session")
def yesno_dir() -> Path:
    """``../shared/data/yesno`` (waves_yesno/ inside); skips when absent."""
    return _corpus("yesno", "waves_yesno")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def pytest_collection_modifyitems(items) -> None:
    """Run tests/e2e first (a stable sort: the order inside each part is kept). Its files are
    the longest (whole recipe runs, minutes each); started first under ``make test``'s
    ``-n 2 --dist loadfile``, they leave no worker alone with one of them at the end."""
    e2e = ROOT / "tests" / "e2e"
    items.sort(key=lambda item: e2e not in Path(item.path).parents)
