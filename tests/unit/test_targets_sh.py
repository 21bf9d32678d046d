"""recipes/common/targets.sh (the targets-and-priors studies' steps) and the --noisy option of
recipes/speech_commands/local/targets_study.sh: a variant name becomes one option per part, the
networks train on the alignments E/<targets>_ali plus $targets_ali_suffix (the noisy copy's
_aug), and a study that cannot find what it needs stops with one line. The trainers are replaced
by functions that print their arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMON = REPO / "recipes" / "common"


def network(system: str, suffix: str = "") -> list:
    script = (f". {COMMON}/systems.sh; . {COMMON}/targets.sh; "
              + (f"targets_ali_suffix={suffix}; " if suffix else "")
              + "train_teacher_system() { echo teacher \"$@\"; }; "
              "finetune_system() { echo finetune \"$@\"; }; "
              "kt_system() { echo kt \"$@\"; }; "
              "posteriors_system() { echo post \"$@\"; }; "
              "student_finetune_system() { echo ft \"$@\"; }; "
              f"targets_network E S T C mono {system} 2 '--num-threads 1'")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def test_teacher_variants_and_the_alignments_suffix():
    (line,) = network("dnn_rbm_ki_fm8", "_aug")
    assert line[:4] == ["teacher", "S/dnn_rbm_ki_fm8", "T", "E/mono_ali_aug"]
    assert line[4:] == ["--config", "C/dnn.yaml", "--seed", "2", "--num-threads", "1",
                        "--dbn", "S/dbn", "--weight-init", "nnet1", "--freq-mask", "8"]
    (line,) = network("dnn_rand")
    assert line[:4] == ["teacher", "S/dnn_rand", "T", "E/mono_ali"]


def test_students_fine_tune_on_the_suffixed_alignments():
    lines = network("lstm_kt_rand_ft", "_aug")
    assert [ln[0] for ln in lines] == ["kt", "ft"]
    assert lines[1][1:5] == ["S/lstm_kt_rand_ft", "T", "E/mono_ali_aug", "S/lstm_kt_rand"]


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
