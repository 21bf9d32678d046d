"""Kill-safety of temporary names: every temporary file a command creates (all atomic writers
go through tempfile.mkstemp) must be one that the command's next run removes, or a kill at that
instant leaves a stray hidden file for good."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence

from click.testing import CliRunner

from asrkt.cli.main import cli


def _invoke(args: Sequence) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def hidden_files(*folders: Path) -> List[Path]:
    return [p for folder in folders for p in folder.rglob(".*") if p.is_file()]


def outputs(*folders: Path, volatile: Iterable[str] = ()) -> Dict[Path, bytes]:
    """Every file's bytes under ``folders``, logs and files whose name or folder is in
    ``volatile`` (e.g. timed checkpoints) aside."""
    skip = {"log", *volatile}
    return {p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*"))
            if p.is_file() and not skip & {p.name, *p.relative_to(folder).parts}}


def recorded_temporaries(monkeypatch, args: Sequence,
                         invoke: Callable[[Sequence], None] = _invoke) -> List[Path]:
    """Run ``asrkt ARGS`` (or ``invoke(ARGS)``) in-process (it must succeed); the temporary
    files it created."""
    created: List[Path] = []
    mkstemp = tempfile.mkstemp

    def recording(*a, **kw):
        fd, name = mkstemp(*a, **kw)
        created.append(Path(name))
        return fd, name

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", recording)
        invoke(args)
    return created


def check_rerun_removes_temporaries(monkeypatch, args: Sequence, folders: Sequence[Path],
                                    volatile: Iterable[str] = (), markers: Iterable[str] = (),
                                    invoke: Callable[[Sequence], None] = _invoke) -> List[Path]:
    """Run the command, leave a file of each temporary name it created under ``folders`` (what
    a kill at that point leaves), run it again: no hidden file may be left and the outputs
    must be the first run's.

    Args:
        markers: names of hidden completion markers the command writes last (``.done``): not
            stray files, and removed before the re-run, as a kill before the end leaves none.
        invoke: runs the command from ``args`` in-process (default: ``asrkt ARGS``).

    Returns:
        The temporaries that were left behind (for the caller to check that there were some).
    """
    markers = set(markers)
    created = recorded_temporaries(monkeypatch, args, invoke)
    before = outputs(*folders, volatile=volatile)
    left = [p for p in created if any(f in p.parents for f in folders)]
    for path in left:
        path.write_bytes(b"half")
    for path in hidden_files(*folders):
        if path.name in markers:
            path.unlink()
    invoke(args)
    assert [p for p in hidden_files(*folders) if p.name not in markers] == []
    after = outputs(*folders, volatile=volatile)
    assert {p: after.get(p) for p in before} == before
    return left
