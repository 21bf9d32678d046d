"""recipes/common/systems.sh's trainers continue an interrupted run: a network directory that
holds checkpoints (and no .done) gets --resume, a fresh one does not, a finished one is skipped.
asrkt is replaced by a function that prints its arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[2] / "recipes" / "common"


def run_system(call: str, cwd: Path) -> str:
    script = (f". {COMMON}/stage.sh; . {COMMON}/systems.sh; "
              f"asrkt() {{ echo asrkt \"$@\"; }}; {call}")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("call, command", [
    ("rbm_system D TRAIN --seed 2", "pretrain-rbm"),
    ("train_teacher_system D TRAIN ALI --seed 2", "train-teacher"),
    ("kt_system D TRAIN POST --seed 2", "kt-pretrain"),
    ("finetune_system D TRAIN ALI --seed 2", "finetune"),
])
def test_an_interrupted_training_resumes(tmp_path, call, command):
    fresh = run_system(call, tmp_path).split()
    assert fresh[:2] == ["asrkt", command] and "--resume" not in fresh
    (tmp_path / "D" / ".done").unlink()
    (tmp_path / "D" / "checkpoints").mkdir()
    (tmp_path / "D" / "checkpoints" / "epoch-3.pt").write_bytes(b"")
    resumed = run_system(call, tmp_path).split()
    assert resumed[:3] == ["asrkt", command, "--resume"] and "--seed" in resumed
    assert run_system(call, tmp_path) == ""    # .done: skipped
