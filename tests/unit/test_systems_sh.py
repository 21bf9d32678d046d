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


def run_decodes(tmp_path: Path, quads: str, write_loglikes: str = "false") \
        -> subprocess.CompletedProcess:
    """decode_systems, asrkt replaced: forward writes LOGLIKES/loglikes.scp, the rest print."""
    fake = ('asrkt() { if [ "$1" = forward ]; then mkdir -p "${@: -1}"; '
            'echo "$@" > "${@: -1}/loglikes.scp"; fi; echo asrkt "$@"; }')
    script = (f". {COMMON}/stage.sh; . {COMMON}/systems.sh; {fake}; "
              f"decode_write_loglikes={write_loglikes}; "
              f"decode_systems GRAPH GMM '--prior-scale 0.5' '{quads}' --beam 11")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)


def test_pending_hybrid_decodes_share_one_process(tmp_path):
    """decode_systems: the quadruples not yet decoded go to one decode-hybrid (the first as its
    arguments, the others as --also), each DIR then marked done with decode_system's options;
    done ones are skipped; one done with other options stops it; a run that writes archives
    (or finds one) decodes each as decode_system does."""
    quads = "D1 N1 DEV L1 D2 N2 TEST L2 D3 N3 DEV L3"
    first = run_decodes(tmp_path, quads)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ("asrkt decode-hybrid --prior-scale 0.5 --beam 11 "
                                    "--also N2 TEST D2 --also N3 DEV D3 "
                                    "GRAPH N1 DEV GMM D1").split()
    for d in ("D1", "D2", "D3"):
        assert (tmp_path / d / ".done").is_file()
        assert (tmp_path / d / "options").read_text().strip() == \
            "forward --prior-scale 0.5 | decode-nnet --beam 11"
    assert run_decodes(tmp_path, quads).stdout == ""                  # all done: skipped
    (tmp_path / "D2" / ".done").unlink()
    again = run_decodes(tmp_path, quads)
    assert again.stdout.split() == ("asrkt decode-hybrid --prior-scale 0.5 --beam 11 "
                                    "GRAPH N2 TEST GMM D2").split()     # only the one not done
    (tmp_path / "D3" / "options").write_text("forward --prior-scale 1.0 | decode-nnet\n")
    other = run_decodes(tmp_path, quads + " D4 N4 DEV L4")
    assert other.returncode != 0 and "D3 was decoded with other options" in other.stderr
    assert not (tmp_path / "D4").exists()                              # nothing decoded
    bad = run_decodes(tmp_path, "D5 N5 DEV")
    assert bad.returncode != 0 and "DIR MODEL DATA LOGLIKES quadruples" in bad.stderr
    archives = run_decodes(tmp_path, "D6 N6 DEV L6 D7 N7 TEST L7", write_loglikes="true")
    assert archives.returncode == 0, archives.stderr
    assert [line.split()[:2] for line in archives.stdout.splitlines()] == \
        [["asrkt", "forward"], ["asrkt", "decode-nnet"]] * 2


def test_feature_dirs_not_done_share_one_make_feats(tmp_path):
    """feats_dirs: the pairs whose DST is not done get SRC's data files, one make-feats (the
    first DST as its argument, the rest as --also), compute-cmvn each and a .done; done ones are
    skipped; feats_dir is the one-pair case."""
    for src in ("S1", "S2", "S3"):
        (tmp_path / src).mkdir()
        for name in ("wav.scp", "text", "utt2spk", "spk2utt"):
            (tmp_path / src / name).write_text(f"{src}\n")
    (tmp_path / "D2").mkdir()
    (tmp_path / "D2" / ".done").write_text("")
    out = run_system("feats_dirs C 2 mfcc true 'S1 D1 S2 D2 S3 D3'", tmp_path).splitlines()
    assert out == ["asrkt make-feats --config C --nj 2 --also D3 D1 mfcc",
                   "asrkt compute-cmvn D1", "asrkt compute-cmvn D3"]
    assert (tmp_path / "D3" / "text").read_text() == "S3\n" and (tmp_path / "D3" / ".done").exists()
    assert run_system("feats_dirs C 2 mfcc true 'S1 D1 S2 D2 S3 D3'", tmp_path) == ""
    assert run_system("feats_dir C 1 S1 D4 fbank false", tmp_path).splitlines() == \
        ["asrkt make-feats --config C --nj 1 D4 fbank"]
    script = f". {COMMON}/stage.sh; . {COMMON}/systems.sh; feats_dirs C 1 mfcc true 'S1'"
    bad = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode != 0 and "SRC DST pairs" in bad.stderr
