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


def test_a_directory_done_by_another_command_is_not_taken_for_this_one(tmp_path):
    """.done records the command: a study's network trained on the clean copy is not skipped as
    run.sh's trained on the noisy one (it stops with one line); the options that do not change
    the result (--nj, --num-threads, --resume) and the checkout's own path do not count; an
    empty .done of an earlier run is taken as done."""
    config = COMMON.parent / "speech_commands" / "conf" / "lstm.yaml"
    first = run_system(f"finetune_system D data/train ALI --config {config} --num-threads 1",
                       tmp_path)
    assert first.startswith("asrkt finetune")
    done = (tmp_path / "D" / ".done").read_text()
    assert "data/train ALI" in done and "<repo>/recipes/speech_commands/conf/lstm.yaml" in done
    assert "--num-threads" not in done
    assert run_system(f"finetune_system D data/train ALI --config {config} --num-threads 2",
                      tmp_path) == ""
    script = (f". {COMMON}/stage.sh; . {COMMON}/systems.sh; asrkt() {{ echo asrkt \"$@\"; }}; "
              f"finetune_system D data/train_aug ALI --config {config}")
    other = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert other.returncode != 0 and other.stdout == ""
    assert other.stderr.startswith("ERROR: D was made by another command (asrkt finetune")
    assert "data/train_aug" in other.stderr and len(other.stderr.splitlines()) == 1
    dotted = run_system(f"finetune_system ./D ./data/train ALI --config {config}", tmp_path)
    assert dotted == ""                             # ./data/train is data/train
    (tmp_path / "D" / ".done").write_text("")       # a run before .done recorded the command
    assert run_system("finetune_system D data/train_aug ALI", tmp_path) == ""


def run_decode(tmp_path: Path, forward_opts: str, write_loglikes: str = "") \
        -> subprocess.CompletedProcess:
    """decode_system, asrkt replaced: forward writes LOGLIKES/loglikes.scp, decode-nnet prints."""
    fake = ('asrkt() { if [ "$1" = forward ]; then mkdir -p "${@: -1}"; '
            'echo "$@" > "${@: -1}/loglikes.scp"; fi; echo asrkt "$@"; }')
    setting = f"decode_write_loglikes={write_loglikes}; " if write_loglikes else ""
    script = (f". {COMMON}/stage.sh; . {COMMON}/systems.sh; {fake}; {setting}"
              f"decode_system DEC NET DATA GRAPH GMM LL '{forward_opts}' --beam 11")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)


def test_a_decode_with_other_options_is_not_taken_for_this_one(tmp_path):
    first = run_decode(tmp_path, "--prior-scale 1.0")
    assert first.returncode == 0, first.stderr
    assert "asrkt forward --prior-scale 1.0 NET DATA LL" in first.stdout
    assert "asrkt decode-nnet --beam 11" in first.stdout
    assert (tmp_path / "DEC" / "options").read_text().strip() == \
        "forward --prior-scale 1.0 | decode-nnet --beam 11"
    threads = run_decode(tmp_path, "--num-threads 1 --prior-scale 1.0")   # the same result
    assert threads.returncode == 0 and "asrkt" not in threads.stdout
    again = run_decode(tmp_path, "--prior-scale 1.0")
    assert again.returncode == 0 and "asrkt" not in again.stdout    # done: skipped
    other = run_decode(tmp_path, "--prior-scale 0.5")
    assert other.returncode != 0
    assert "DEC was decoded with other options (forward --prior-scale 1.0" in other.stderr
    assert "move it aside" in other.stderr


def test_log_likelihoods_of_other_forward_options_are_computed_again(tmp_path):
    (tmp_path / "LL").mkdir()
    (tmp_path / "LL" / "loglikes.scp").write_text("old\n")
    (tmp_path / "LL" / "forward_opts").write_text("--prior-scale 1.0\n")
    result = run_decode(tmp_path, "--prior-scale 0.5")
    assert result.returncode == 0, result.stderr
    assert "asrkt forward --prior-scale 0.5" in result.stdout
    assert (tmp_path / "LL" / "forward_opts").read_text().strip() == "--prior-scale 0.5"
    (tmp_path / "DEC" / ".done").unlink()
    reused = run_decode(tmp_path, "--num-threads 2 --prior-scale 0.5")   # the same result: reused
    assert "asrkt forward" not in reused.stdout and "asrkt decode-nnet" in reused.stdout


def test_without_an_archive_the_network_runs_inside_the_decoder(tmp_path):
    result = run_decode(tmp_path, "--num-threads 1 --prior-scale 0.5", write_loglikes="false")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ("asrkt decode-hybrid --num-threads 1 --prior-scale 0.5 "
                                     "--beam 11 GRAPH NET DATA GMM DEC").split()
    assert not (tmp_path / "LL").exists()
    # the same numbers as forward | decode-nnet: a dir done either way is the same decode
    assert (tmp_path / "DEC" / "options").read_text().strip() == \
        "forward --prior-scale 0.5 | decode-nnet --beam 11"
    (tmp_path / "DEC" / ".done").unlink()
    (tmp_path / "LL").mkdir()      # log-likelihoods of these options already there: used
    (tmp_path / "LL" / "loglikes.scp").write_text("old\n")
    (tmp_path / "LL" / "forward_opts").write_text("--prior-scale 0.5\n")
    reused = run_decode(tmp_path, "--prior-scale 0.5", write_loglikes="false")
    assert "decode-hybrid" not in reused.stdout and "asrkt decode-nnet" in reused.stdout


@pytest.mark.parametrize("weight, kept", [("0", False), ("0.25", True)])
def test_a_student_keeps_the_kt_loss_only_at_a_positive_weight(tmp_path, weight, kept):
    words = run_system(f"student_finetune_system D TRAIN ALI KT POST {weight} 2.0 --seed 3",
                       tmp_path).split()
    assert words[:2] == ["asrkt", "finetune"] and words[-3:] == ["TRAIN", "ALI", "D"]
    assert words[words.index("--init") + 1] == "KT" and "--seed" in words
    reg = ["--kt-weight", weight, "--post-dir", "POST", "--temperature", "2.0"]
    assert (" ".join(reg) in " ".join(words)) == kept
    assert ("--post-dir" in words) == kept


def test_a_gmm_decode_keeps_its_options_and_jobs_do_not_count(tmp_path):
    def decode(*opts: str) -> subprocess.CompletedProcess:
        script = (f". {COMMON}/stage.sh; . {COMMON}/systems.sh; asrkt() {{ echo asrkt \"$@\"; }}; "
                  f"decode_gmm_system DEC GRAPH DATA GMM {' '.join(opts)}")
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                              cwd=tmp_path)
    first = decode("--nj", "2", "--beam", "10")
    assert first.returncode == 0 and first.stdout.strip() == \
        "asrkt decode --nj 2 --beam 10 GRAPH DATA GMM DEC"
    assert (tmp_path / "DEC" / "options").read_text().strip() == "decode --beam 10"
    same = decode("--nj", "1", "--beam", "10")
    assert same.returncode == 0 and same.stdout == "" and "done already" in same.stderr
    other = decode("--beam", "13")
    assert other.returncode == 2 and "DEC was decoded with other options (decode --beam 10)" \
        in other.stderr


def test_graph_decode_gmm_makes_the_graph_then_decodes_into_the_model_dir(tmp_path):
    """graph_decode_gmm MODEL LANG_TEST DATA NAME [opts]: make-graph into MODEL/graph, then
    decode through it into MODEL/NAME with the options kept; a second call does nothing."""
    fake = ('asrkt() { echo asrkt "$@"; [ "$1" = make-graph ] && mkdir -p "${@: -1}"; '
            'return 0; }')
    call = f"{fake}; graph_decode_gmm M LT DEV decode_dev --nj 2 --min-lmwt 7"
    assert run_system(call, tmp_path).splitlines() == [
        "asrkt make-graph LT M M/graph",
        "asrkt decode --nj 2 --min-lmwt 7 M/graph DEV M M/decode_dev"]
    assert (tmp_path / "M" / "decode_dev" / "options").read_text().strip() == "decode --min-lmwt 7"
    assert run_system(call, tmp_path) == ""    # both done: skipped
