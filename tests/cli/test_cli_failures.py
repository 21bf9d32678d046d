"""Failure behaviour (issue 12): a failed re-run keeps the previous outputs, write failures are
one line with nothing half-written left behind, --nj workers die with their parent, click's
usage errors read like every other error, and every scp holds absolute archive paths."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli, error_line
from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter, read_table
from tests.helpers.datadirs import generated_data_dir
from tests.helpers.procs import alive, children
from tests.helpers.synthetic_nnet import make_synthetic_corpus
from tests.helpers.temporaries import check_rerun_removes_temporaries, hidden_files
from tests.helpers.temporaries import outputs as snapshot

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["--max-epochs", "2", "--batch-size", "32", "--device", "cpu", "--num-threads", "1",
         "--cmvn", "utterance"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def asrkt(*args, file_limit_kb=None, wait=True):
    """``asrkt ARGS`` in a subprocess, optionally under ``ulimit -f`` (a full disk)."""
    command = [sys.executable, "-m", "asrkt.cli.main", *[str(a) for a in args]]
    if file_limit_kb is not None:
        command = ["bash", "-c", f'ulimit -f {file_limit_kb}; exec "$@"', "bash", *command]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def one_line_error(output: str, command: str, *fragments) -> str:
    lines = [line for line in output.splitlines() if "error:" in line and "ERROR" not in line]
    assert len(lines) == 1, output
    assert lines[0].startswith(f"asrkt {command}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in output and "Warning" not in output, output
    return lines[0]


@pytest.fixture()
def feats_dir(tmp_path):
    data = generated_data_dir(tmp_path / "data", 16000, count=6, seconds=0.5)
    result = run("make-feats", "--nj", 2, data, tmp_path / "fbank")
    assert result.exit_code == 0, result.output
    return data, tmp_path / "fbank"


def test_failed_rerun_of_make_feats_keeps_previous_outputs(feats_dir, tmp_path):
    data, fbank = feats_dir
    before = snapshot(data, fbank)
    wav = (data / "wav.scp").read_text().splitlines()
    wav[-1] = wav[-1].split()[0] + " false |"
    (data / "wav.scp").write_text("\n".join(wav) + "\n")
    for nj in (1, 2, 3):
        result = run("make-feats", "--nj", nj, data, fbank)
        assert result.exit_code == 1, result.output
        after = snapshot(data, fbank)
        del after[data / "wav.scp"], before[data / "wav.scp"]
        assert after == before  # archives, job scps, feats.scp and utt2num_frames untouched
        before[data / "wav.scp"] = b""
        assert hidden_files(data, fbank) == []
    assert run("compute-cmvn", data).exit_code == 0


def test_rerun_with_fewer_jobs_removes_stale_job_files(feats_dir):
    data, fbank = feats_dir
    (fbank / ".raw_fbank_data.1.ark.XYZ.tmp").write_bytes(b"half")  # of a killed run
    (fbank / "..raw_fbank_data.2.ark.new.XYZ.tmp").write_bytes(b"half")  # its job 2's
    (data / ".feats.scp.XYZ.tmp").write_text("u x:1\n")
    assert run("make-feats", "--nj", 1, data, fbank).exit_code == 0
    assert sorted(p.name for p in fbank.glob("raw_*")) == ["raw_fbank_data.1.ark",
                                                          "raw_fbank_data.1.scp"]
    assert hidden_files(data, fbank) == []
    assert len(dict(read_table(data / "feats.scp", "matrix"))) == 6


def test_every_temporary_name_of_make_feats_is_one_a_rerun_removes(feats_dir, monkeypatch):
    """A kill can leave any temporary file a run creates (in the command or in a job): each
    name must be one the next run's clean-up knows. Records every mkstemp of a one-job run (the
    job runs in-process), leaves a file of each name behind, and re-runs: none may survive,
    and the outputs are those of the first run."""
    data, fbank = feats_dir
    left = check_rerun_removes_temporaries(monkeypatch, ["make-feats", "--nj", 1, data, fbank],
                                           [data, fbank])
    assert {p.parent for p in left} == {data, fbank}  # the command's and the job's


def test_every_temporary_name_of_compute_cmvn_is_one_a_rerun_removes(feats_dir, monkeypatch):
    data, _ = feats_dir
    assert check_rerun_removes_temporaries(monkeypatch, ["compute-cmvn", data], [data])


def test_make_feats_on_a_full_disk(feats_dir):
    data, fbank = feats_dir
    before = snapshot(data, fbank)
    result = asrkt("make-feats", "--nj", 2, data, fbank, file_limit_kb=8)
    assert result.returncode == 1
    one_line_error(result.stderr, "make-feats", str(fbank), "File too large")
    assert snapshot(data, fbank) == before and hidden_files(data, fbank) == []


def test_make_feats_output_under_a_file_is_one_line(feats_dir, tmp_path):
    data, _ = feats_dir
    (tmp_path / "plain").write_text("")
    result = run("make-feats", data, tmp_path / "plain" / "fbank")
    assert result.exit_code == 1
    one_line_error(result.output, "make-feats", "plain", "Not a directory")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_synthetic_corpus(tmp_path_factory.mktemp("fail"), num_utts=8)


def test_train_teacher_on_a_full_disk(corpus, tmp_path):
    data, ali = corpus
    for limit in (1, 40):  # fails at train.jsonl/curves.png, at the first checkpoint
        exp = tmp_path / f"exp{limit}"
        result = asrkt("train-teacher", data, ali, exp, *TRAIN, file_limit_kb=limit)
        assert result.returncode == 1, result.stderr
        one_line_error(result.stderr, "train-teacher", str(exp.name), "File too large")
        assert hidden_files(exp) == [] and not (exp / "final.pt").exists()
        if (exp / "train.jsonl").exists():  # complete lines only
            [json.loads(line) for line in (exp / "train.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("command", ["forward", "dump-posteriors"])
def test_forward_on_a_full_disk_or_unwritable_dir(corpus, tmp_path, command):
    data, ali = corpus
    exp = tmp_path / "exp"
    assert run("train-teacher", data, ali, exp, *TRAIN).exit_code == 0
    (tmp_path / "plain").write_text("")
    result = run(command, exp, data, tmp_path / "plain" / "out", "--device", "cpu")
    one_line_error(result.output, command, "plain", "Not a directory")
    out = tmp_path / "out"
    result = asrkt(command, exp, data, out, "--device", "cpu", "--num-threads", "1",
                   file_limit_kb=4)
    assert result.returncode == 1
    one_line_error(result.stderr, command, str(out), "File too large")
    assert hidden_files(out) == [] and not list(out.glob("*.scp"))


@pytest.mark.parametrize("command", ["train-teacher", "forward", "dump-posteriors", "eval-frames",
                                     "pretrain-rbm", "kt-pretrain", "finetune"])
def test_every_temporary_name_of_a_neural_command_is_one_a_rerun_removes(corpus, tmp_path,
                                                                         monkeypatch, command):
    """As for make-feats: each temporary file a run creates, left behind as a kill would, is
    gone after the re-run, whose outputs equal the first run's (logs and the epoch-timed
    train.jsonl/curves.png/checkpoints aside)."""
    data, ali = corpus
    exp = tmp_path / "exp"
    if command != "train-teacher":
        assert run("train-teacher", data, ali, exp, *TRAIN).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    lstm = ["--model", "lstm", "--hidden-dim", "8", "--proj-dim", "4", "--num-streams", "4",
            "--chunk-len", "8", *TRAIN]
    args = {"train-teacher": [data, ali, exp, *TRAIN],
            "forward": [exp, data, out, "--device", "cpu"],
            "dump-posteriors": [exp, data, out, "--device", "cpu", "--top-k", "2"],
            "eval-frames": [exp, data, ali, "--device", "cpu", "--out", out / "eval.json"],
            "pretrain-rbm": [data, out, "--nn-depth", "1", "--hid-dim", "8", "--rbm-iter", "1",
                             "--device", "cpu", "--num-threads", "1", "--cmvn", "utterance"],
            "kt-pretrain": [data, out, "--teacher", exp, *lstm],
            "finetune": [data, ali, out, *lstm]}
    folder = exp if command == "train-teacher" else out
    assert check_rerun_removes_temporaries(monkeypatch, [command, *args[command]], [folder],
                                           volatile=("train.jsonl", "curves.png", "checkpoints"))


def test_temp_archive_removed_when_closing_fails(tmp_path, monkeypatch):
    writer = ArkScpWriter(tmp_path / "a.ark", tmp_path / "a.scp")
    with pytest.raises(OSError) as info:
        with writer:
            writer.write("u", np.ones((3, 2), np.float32))

            def full(*_):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            monkeypatch.setattr(writer._handle, "flush", full, raising=False)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "a.ark")
    assert list(tmp_path.iterdir()) == []


def test_nj_workers_die_with_a_killed_parent(tmp_path):
    data = generated_data_dir(tmp_path / "data", 16000, count=40, seconds=3.0)
    fbank = tmp_path / "fbank"
    parent = asrkt("make-feats", "--nj", 2, data, fbank, wait=False)
    deadline, jobs = time.time() + 60, []
    while time.time() < deadline and len(jobs) < 2:
        time.sleep(0.1)
        jobs = children(parent.pid)
    assert len(jobs) == 2, "make-feats did not start its two jobs"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(j) for j in jobs):
        time.sleep(0.1)
    assert not any(alive(j) for j in jobs), "jobs outlived the parent"
    assert not (data / "feats.scp").exists()
    assert not list(fbank.glob("raw_*")), "killed jobs installed outputs"
    assert asrkt("make-feats", "--nj", 1, data, fbank).returncode == 0
    assert hidden_files(data, fbank) == []
    assert sorted(p.name for p in fbank.glob("raw_*")) == ["raw_fbank_data.1.ark",
                                                          "raw_fbank_data.1.scp"]


@pytest.mark.parametrize("args, command, fragment", [
    (["make-feats", "--nj", "0", ".", "x"], "make-feats", "--nj"),
    (["make-feats", "--type", "plp", ".", "x"], "make-feats", "--type"),
    (["finetune", "--init", "/no/such.pt", ".", ".", "x"], "finetune", "/no/such.pt"),
    (["no-such-command"], None, "no-such-command"),
])
def test_click_usage_errors_are_one_line(args, command, fragment):
    result = run(*args)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.output
    assert lines[0].startswith(f"asrkt {command}: error: " if command else "asrkt: error: ")


def test_error_lines_escape_control_characters():
    assert error_line("x", "bad token 'F\nM'") == "asrkt x: error: bad token 'F\\nM'"


def test_negative_pdf_id_is_reported(tmp_path):
    from asrkt.nnet.targets import PdfAlignments, write_kaldi_text_vector

    with ArkScpWriter(tmp_path / "pdf.ark", tmp_path / "pdf.scp") as writer:
        writer.write("u1", np.array([0, 3, -2, 61], np.int32))
    write_kaldi_text_vector(tmp_path / "pdf_counts", np.ones(62))
    with pytest.raises(AsrktError, match=r"pdf id -2 outside 0\.\.61"):
        PdfAlignments(tmp_path).load()


def test_scp_paths_are_absolute_and_readable_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with ArkScpWriter(Path("sub/a.ark"), Path("sub/a.scp")) as writer:
        writer.write("u", np.ones((2, 2), np.float32))
    location = (tmp_path / "sub" / "a.scp").read_text().split()[1]
    assert location.startswith(str(tmp_path / "sub" / "a.ark") + ":")
    monkeypatch.chdir("/")
    assert dict(read_table(tmp_path / "sub" / "a.scp", "matrix"))["u"].shape == (2, 2)


def test_kaldiio_warnings_do_not_reach_stderr(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "bad.ark").write_bytes(b"junk")
    (tmp_path / "d" / "feats.scp").write_text(f"u1 {tmp_path / 'bad.ark'}[0:3]\n")
    (tmp_path / "d" / "utt2spk").write_text("u1 s\n")
    (tmp_path / "d" / "spk2utt").write_text("s u1\n")
    result = asrkt("compute-cmvn", tmp_path / "d")
    assert result.returncode == 1
    line = one_line_error(result.stderr, "compute-cmvn", "(u1)")
    assert not line.rstrip().endswith(":"), line  # a reason, never empty


def test_next_write_removes_temp_files_of_a_killed_writer(tmp_path):
    from asrkt.utils.fileio import write_text_atomic

    (tmp_path / ".train.jsonl.k1ll3d.tmp").write_text('{"epoch": 1')
    (tmp_path / ".other.k1ll3d.tmp").write_text("")
    write_text_atomic(tmp_path / "train.jsonl", "{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.k1ll3d.tmp", "train.jsonl"]
    with pytest.raises(ValueError, match="already a temporary name"):  # no clean-up knows it
        write_text_atomic(tmp_path / ".other.k1ll3d.tmp", "")


def test_make_feats_into_a_read_only_data_dir(feats_dir, monkeypatch):
    import asrkt.feats.extract as extract

    data, fbank = feats_dir
    before = snapshot(data, fbank)
    real = extract.temp_path_for

    def read_only(path):
        if Path(path).parent == data:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path)
    monkeypatch.setattr(extract, "temp_path_for", read_only)
    result = run("make-feats", "--nj", 2, data, fbank)
    assert result.exit_code == 1
    one_line_error(result.output, "make-feats", "feats.scp", "Read-only file system")
    assert snapshot(data, fbank) == before and hidden_files(data, fbank) == []


def test_plain_asrkt_shows_the_help():
    result = run()
    assert result.exit_code == 0 and result.output.startswith("Usage: ") and \
        "error:" not in result.output


def test_make_feats_keeps_the_archives_of_another_data_dir_of_the_same_name(tmp_path):
    """data/a/train and data/b/train share archive names in one FEAT_DIR: the second refuses
    while the first's feats.scp points at them, and proceeds once it does not."""
    first = generated_data_dir(tmp_path / "a" / "train", 16000, count=3, seconds=0.3)
    second = generated_data_dir(tmp_path / "b" / "train", 16000, count=2, seconds=0.3)
    fbank = tmp_path / "fbank"
    assert run("make-feats", first, fbank).exit_code == 0
    assert (fbank / "fbank_train.data_dir").read_text().strip() == str(first.resolve())
    before = snapshot(first, fbank)
    result = run("make-feats", second, fbank)
    assert result.exit_code == 1
    one_line_error(result.output, "make-feats", "raw_fbank_train.*.ark hold the features of "
                   f"{first.resolve()}", "another FEAT_DIR")
    assert snapshot(first, fbank) == before and not (second / "feats.scp").exists()
    assert len(dict(read_table(first / "feats.scp", "matrix"))) == 3
    assert run("make-feats", first, fbank).exit_code == 0  # its own re-run is fine
    (first / "feats.scp").unlink()
    assert run("make-feats", second, fbank).exit_code == 0
    assert len(dict(read_table(second / "feats.scp", "matrix"))) == 2
    assert (fbank / "fbank_train.data_dir").read_text().strip() == str(second.resolve())
