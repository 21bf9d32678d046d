"""recipes/common/targets.sh's network names and variants (the study scripts' vocabulary): a
variant suffix adds exactly its option to the trainer's command, the caller's home targets carry
no suffix, an unknown variant or system stops with one line naming it. The trainers are replaced
by functions that print their arguments, so this checks the command a study would run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

TARGETS_SH = Path(__file__).resolve().parents[2] / "recipes" / "common" / "targets.sh"


def network(system: str, targets: str = "mono", home: str = "") -> subprocess.CompletedProcess:
    script = (f"{'targets_home=' + home + ';' if home else ''} . {TARGETS_SH}; "
              "train_teacher_system() { echo teacher \"$@\"; }; "
              "finetune_system() { echo finetune \"$@\"; }; "
              f"targets_network E S TRAIN C {targets} {system} 7 '--num-threads 1'")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True)


@pytest.mark.parametrize("system, expected", [
    ("dnn_rand", "teacher S/dnn_rand TRAIN E/mono_ali --config C/dnn.yaml --seed 7 "
                 "--num-threads 1"),
    ("dnn_rbm_fm8", "teacher S/dnn_rbm_fm8 TRAIN E/mono_ali --config C/dnn.yaml --seed 7 "
                    "--num-threads 1 --dbn S/dbn --freq-mask 8"),
    ("lstm_ce_e40_st8", "finetune S/lstm_ce_e40_st8 TRAIN E/mono_ali --config C/lstm.yaml --seed 7 "
                        "--num-threads 1 --max-epochs 40 --num-streams 8"),
    ("dnn_rand_do20", "teacher S/dnn_rand_do20 TRAIN E/mono_ali --config C/dnn.yaml --seed 7 "
                      "--num-threads 1 --dropout 0.20"),
])
def test_variants_add_their_option(system, expected):
    result = network(system)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


def test_home_targets_carry_no_suffix():
    assert network("dnn_rand", "tri1").stdout.split()[1] == "S/dnn_rand_tri1"
    out = network("dnn_rand", "tri2", home="tri2").stdout.split()
    assert out[1:4] == ["S/dnn_rand", "TRAIN", "E/tri2_ali"]


@pytest.mark.parametrize("system, message", [
    ("dnn_rand_x3", "unknown variant 'x3'"),
    ("dnn_big", "SYSTEM is dnn_rand, dnn_rbm or lstm_ce"),
])
def test_bad_names_stop_with_one_line(system, message):
    result = network(system)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
