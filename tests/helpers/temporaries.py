"""Kill-safety of temporary names: every temporary file a command creates (all atomic writers
go through tempfile.mkstemp) must be one that the command's next run removes, or a kill at that
instant leaves a stray hidden file for good."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

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


def recorded_temporaries(monkeypatch, args: Sequence) -> List[Path]:
    """Run ``asrkt ARGS`` in-process (it must succeed); the temporary files it created."""
    created: List[Path] = []
    mkstemp = tempfile.mkstemp

    def recording(*a, **kw):
        fd, name = mkstemp(*a, **kw)
        created.append(Path(name))
        return fd, name

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", recording)
        _invoke(args)
    return created


def check_rerun_removes_temporaries(monkeypatch, args: Sequence, folders: Sequence[Path],
                                    volatile: Iterable[str] = ()) -> List[Path]:
    """Run the command, leave a file of each temporary name it created under ``folders`` (what
    a kill at that point leaves), run it again: no hidden file may be left and the outputs
    must be the first run's.

    Returns:
        The temporaries that were left behind (for the caller to check that there were some).
    """
    created = recorded_temporaries(monkeypatch, args)
    before = outputs(*folders, volatile=volatile)
    left = [p for p in created if any(f in p.parents for f in folders)]
    for path in left:
        path.write_bytes(b"half")
    _invoke(args)
    assert hidden_files(*folders) == []
    after = outputs(*folders, volatile=volatile)
    assert {p: after.get(p) for p in before} == before
    return left
