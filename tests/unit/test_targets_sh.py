"""recipes/common/targets.sh's network names and variants (the study scripts' vocabulary): a
variant suffix adds exactly its option to the trainer's command, the caller's home targets carry
no suffix, an unknown variant or system stops with one line naming it. The trainers are replaced
by functions that print their arguments, so this checks the command a study would run. Also the
alignments' suffix ($targets_ali_suffix, _aug: run.sh's noisy copy) and the --noisy option of
recipes/speech_commands/local/targets_study.sh, which sets it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

TARGETS_SH = Path(__file__).resolve().parents[2] / "recipes" / "common" / "targets.sh"
REPO = TARGETS_SH.parents[2]


def network(system: str, targets: str = "mono", home: str = "",
            suffix: str = "") -> subprocess.CompletedProcess:
    script = (f"{'targets_home=' + home + ';' if home else ''} "
              f"{'targets_ali_suffix=' + suffix + ';' if suffix else ''} "
              f". {TARGETS_SH.parent}/systems.sh; "
              f". {TARGETS_SH}; "     # systems.sh's trainers replaced by echoes below
              "train_teacher_system() { echo teacher \"$@\"; }; "
              "finetune_system() { echo finetune \"$@\"; }; "
              "kt_system() { echo kt \"$@\"; }; "
              "posteriors_system() { echo posteriors \"$@\"; }; "
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
    ("dnn_rand_sgd_lr2.048_e20", "teacher S/dnn_rand_sgd_lr2.048_e20 TRAIN E/mono_ali --config "
                                 "C/dnn.yaml --seed 7 --num-threads 1 --optimizer sgd "
                                 "--learning-rate 2.048 --max-epochs 20"),
    ("dnn_rand_ki", "teacher S/dnn_rand_ki TRAIN E/mono_ali --config C/dnn.yaml --seed 7 "
                    "--num-threads 1 --weight-init nnet1"),
    ("lstm_ce_bi_st4", "finetune S/lstm_ce_bi_st4 TRAIN E/mono_ali --config C/lstm.yaml --seed 7 "
                       "--num-threads 1 --model blstm --num-streams 4"),
    ("lstm_ce_nl1_hd64_pd0_dl3_l2x1e-5_nv_cmu",
     "finetune S/lstm_ce_nl1_hd64_pd0_dl3_l2x1e-5_nv_cmu TRAIN E/mono_ali --config C/lstm.yaml "
     "--seed 7 --num-threads 1 --num-layers 1 --hidden-dim 64 --proj-dim 0 --target-delay 3 "
     "--l2-penalty 1e-5 --norm-vars --cmvn utterance"),
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
    ("dnn_big", "SYSTEM is dnn_rand, dnn_rbm, lstm_ce or lstm_kt_"),
    ("lstm_kt_big_ft", "a student's teacher is rand or rbm"),
    ("lstm_kt_rbm_ft_lr0.1_ftreg", "one fine-tuning per name"),
    ("lstm_kt_rbm_ft_q2", "unknown variant 'q2'"),
    ("lstm_kt_rbm_ft_k5", "belongs to the KT stage"),
    ("lstm_kt_rbm_k5x", "k<N> is a number of posteriors"),
])
def test_bad_names_stop_with_one_line(system, message):
    result = network(system)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_students_name_their_kt_stage_and_their_fine_tuning():
    """The variants before _ft/_ftreg are the KT stage's (its directory is the init), those after
    the fine-tuning's; ftreg keeps the KT loss on the same teacher's soft targets."""
    kt = ("kt S/lstm_kt_rbm_lr0.0003 TRAIN S/dnn_rbm_post --config C/kt.yaml --seed 7 "
          "--num-threads 1 --temperature 2.0 --learning-rate 0.0003")
    out = network("lstm_kt_rbm_lr0.0003_ft_lr0.0001_e30_mn10_kl2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == kt.split()
    assert out.stdout.splitlines()[1].split() == (
        "finetune S/lstm_kt_rbm_lr0.0003_ft_lr0.0001_e30_mn10_kl2 TRAIN E/mono_ali --init "
        "S/lstm_kt_rbm_lr0.0003 --config C/finetune.yaml --seed 7 --num-threads 1 --learning-rate "
        "0.0001 --max-epochs 30 --min-epochs 10 --keep-lr-epochs 2").split()
    reg = network("lstm_kt_rand_ftreg").stdout.splitlines()
    assert reg[0].split()[1] == "S/lstm_kt_rand" and "--learning-rate" not in reg[0]
    assert reg[1].split()[4:12] == ("--init S/lstm_kt_rand --kt-weight 0.25 --post-dir "
                                    "S/dnn_rand_post --temperature 2.0").split()
    only_kt = network("lstm_kt_rand_e5").stdout.splitlines()
    assert len(only_kt) == 1 and only_kt[0].split()[1] == "S/lstm_kt_rand_e5"


def test_a_student_of_the_top_n_posteriors_has_its_own_soft_targets():
    """k<N>: the teacher's top N posteriors dumped into their own directory, which the KT stage
    and the fine-tuning with the KT loss kept both read (run.sh's K-20 targets untouched)."""
    out = network("lstm_kt_rbm_k5_lr0.0003_ftreg").stdout.splitlines()
    assert out[0].split() == ("posteriors S/dnn_rbm_post_k5 S/dnn_rbm TRAIN --temperature 2.0 "
                              "--top-k 5 --num-threads 1").split()
    assert out[1].split()[1:3] == ["S/lstm_kt_rbm_k5_lr0.0003", "TRAIN"]
    assert out[1].split()[3] == "S/dnn_rbm_post_k5" and "--top-k" not in out[1]
    assert out[2].split()[1] == "S/lstm_kt_rbm_k5_lr0.0003_ftreg"
    assert "--post-dir S/dnn_rbm_post_k5" in out[2]


def test_students_only_on_the_teachers_targets():
    result = network("lstm_kt_rbm_ft", "tri1")
    assert result.returncode != 0 and "on mono's targets only, not tri1" in result.stderr


def test_the_alignments_suffix_reaches_teachers_and_students():
    out = network("dnn_rbm_ki_fm8", suffix="_aug")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ("teacher S/dnn_rbm_ki_fm8 TRAIN E/mono_ali_aug --config "
                                  "C/dnn.yaml --seed 7 --num-threads 1 --dbn S/dbn --weight-init "
                                  "nnet1 --freq-mask 8").split()
    student = network("lstm_kt_rand_ft", suffix="_aug").stdout.splitlines()
    assert student[0].split()[0] == "kt" and "_aug" not in student[0]  # soft targets: no alignments
    assert student[1].split()[1:4] == ["S/lstm_kt_rand_ft", "TRAIN", "E/mono_ali_aug"]


def _study_dir(work: Path, aug: bool) -> None:
    """The files speech_commands' targets_study.sh checks before any work (run.sh stages 0-3)."""
    files = ["data/mfcc/full/train/feats.scp", "data/fbank/full/train/feats.scp",
             "data/fbank/full/train_aug/feats.scp", "exp/full/mono_ali/pdf.scp",
             "data/lang_test/G.fst", "data/fbank/dev/feats.scp"]
    for f in files + (["exp/full/mono_ali_aug/pdf.scp"] if aug else []):
        (work / f).parent.mkdir(parents=True, exist_ok=True)
        (work / f).write_text("")


def study(work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "recipes" / "speech_commands" / "local"
                                       / "targets_study.sh"), "--work", str(work), *args],
                          capture_output=True, text=True, timeout=120)


def test_speech_commands_study_noisy_needs_the_noisy_copys_alignments(tmp_path):
    work = tmp_path / "work"
    _study_dir(work, aug=False)
    for args, message in ((["--noisy", "yes"], "--noisy takes true or false, not 'yes'"),
                          (["--noisy", "true", "--targets", "mono"],
                           "exp/full/mono_ali_aug/pdf.scp does not exist")):
        bad = study(work, *args)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 1 and len(lines) == 1, bad.stderr
        assert message in lines[0], lines
    _study_dir(work, aug=True)   # mono's copy exists, tri1's does not (run.sh makes --nn-gmm's)
    bad = study(work, "--noisy", "true", "--targets", "mono tri1")
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 1 and len(lines) == 1, bad.stderr
    assert "exp/full/tri1_ali_aug/pdf.scp does not exist" in lines[0]
    assert "--nn-gmm tri1" in lines[0]
