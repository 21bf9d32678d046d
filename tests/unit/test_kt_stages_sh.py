"""recipes/common/kt_stages.sh: each stage runs its systems.sh trainer once per cell with the
caller's training data, alignments and options; teacher_nn_opts reaches the two teachers and
nothing else. The trainers are replaced by functions that print their arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

COMMON = Path(__file__).resolve().parents[2] / "recipes" / "common"


def stages(body: str, teacher_opts: str = "") -> list:
    script = (f". {COMMON}/systems.sh; . {COMMON}/kt_stages.sh; "
              "cells() { echo 'full 1'; echo 'quarter 2'; }; "
              "nn_train() { echo data/$2/$1; }; nn_ali() { echo exp/$2/ali_$1; }; "
              "conf=C; thr='--num-threads 1'; temperature=2.0; extra_nn_opts='--max-epochs 3'; "
              + (f"teacher_nn_opts='{teacher_opts}'; " if teacher_opts else "")
              + "train_teacher_system() { echo teacher \"$@\"; }; "
              "kt_system() { echo kt \"$@\"; }; "
              "student_finetune_system() { echo ft \"$@\"; }; "
              + body)
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def test_teachers_of_every_cell_with_the_callers_data_and_options():
    lines = stages("kt_teachers_stage")
    assert [ln[:4] for ln in lines] == [
        ["teacher", "exp/full/seed1/dnn_rand", "data/full/kt", "exp/full/ali_kt"],
        ["teacher", "exp/full/seed1/dnn_rbm", "data/full/kt", "exp/full/ali_kt"],
        ["teacher", "exp/quarter/seed2/dnn_rand", "data/quarter/kt", "exp/quarter/ali_kt"],
        ["teacher", "exp/quarter/seed2/dnn_rbm", "data/quarter/kt", "exp/quarter/ali_kt"]]
    assert lines[0][4:] == ["--config", "C/dnn.yaml", "--seed", "1", "--num-threads", "1",
                            "--max-epochs", "3"]
    assert lines[1][-2:] == ["--dbn", "exp/full/seed1/dbn"]


def test_teacher_options_reach_the_teachers_only():
    teachers = stages("kt_teachers_stage", "--freq-mask 8")
    assert all(ln[10:14] == ["--max-epochs", "3", "--freq-mask", "8"] for ln in teachers)
    others = stages("kt_students_stage; kt_finetune_stage ft 0", "--freq-mask 8")
    assert len(others) == 8 and not any("--freq-mask" in ln for ln in others)


def test_a_conditions_own_config_follows_the_shared_one(tmp_path):
    """conf/<cond>/<name>.yaml, where present, is a second --config after conf/<name>.yaml for
    that condition's cells only, and only for that config."""
    (tmp_path / "quarter").mkdir()
    (tmp_path / "quarter" / "finetune.yaml").write_text("learning_rate: 0.0003\n")
    lines = stages(f"conf={tmp_path}; kt_finetune_stage ft 0; kt_students_stage")
    configs = {(ln[0], ln[1]): [ln[i + 1] for i, w in enumerate(ln) if w == "--config"]
               for ln in lines}
    shared, own = str(tmp_path / "finetune.yaml"), str(tmp_path / "quarter" / "finetune.yaml")
    assert configs[("ft", "exp/full/seed1/lstm_kt_rand_ft")] == [shared]
    assert configs[("ft", "exp/quarter/seed2/lstm_kt_rbm_ft")] == [shared, own]
    assert configs[("kt", "exp/quarter/seed2/lstm_kt_rand")] == [str(tmp_path / "kt.yaml")]


def test_kt_teachers_runs_one_chain_of_each_cell():
    """kt_teachers=rbm: the RBMs, dnn_rbm, its soft targets and its students only (the rand
    chain can run beside it in another process); rand: no RBMs; an unknown name stops."""
    body = ("rbm_system() { echo rbm \"$@\"; }; posteriors_system() { echo post \"$@\"; }; "
            "kt_rbm_stage; kt_teachers_stage; kt_posteriors_stage; kt_students_stage; "
            "kt_finetune_stage ft 0")
    rbm = [ln[:2] for ln in stages("kt_teachers=rbm; " + body)]
    assert rbm == [[kind, f"exp/{c}/{name}"] for kind, name in
                   [("rbm", "dbn"), ("teacher", "dnn_rbm"), ("post", "dnn_rbm_post"),
                    ("kt", "lstm_kt_rbm"), ("ft", "lstm_kt_rbm_ft")]
                   for c in ("full/seed1", "quarter/seed2")]
    rand = stages("kt_teachers=rand; " + body)
    assert [ln[1] for ln in rand if ln[1].startswith("exp/full/")] == [
        "exp/full/seed1/dnn_rand", "exp/full/seed1/dnn_rand_post", "exp/full/seed1/lstm_kt_rand",
        "exp/full/seed1/lstm_kt_rand_ft"]
    assert not any("--dbn" in ln for ln in rand)
    both = stages(body)
    assert len(both) == len(rand) + len(stages("kt_teachers=rbm; " + body))
    script = (f". {COMMON}/systems.sh; . {COMMON}/kt_stages.sh; set -e; "
              "cells() { echo 'full 1'; }; kt_teachers='rand dnn'; kt_teachers_stage; echo reached")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode != 0 and "reached" not in result.stdout
    assert "kt_stages.sh: --kt-teachers: rand or rbm, not 'dnn'" in result.stderr
