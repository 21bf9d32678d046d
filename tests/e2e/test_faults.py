"""Fault test (issue 12): commands killed with SIGKILL at seeded random points.

make-feats --nj 2 (5 points), train-teacher (3) and dump-posteriors (3), each on tiny data.
After every kill the outputs are either the previous complete ones or nothing a later step
reads as valid (no feats.scp / final.pt / post.scp, or ones that read back exactly as an
uninterrupted run's), and a re-run completes with outputs identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from asrkt.io.tables import read_table
from tests.helpers.datadirs import generated_data_dir
from tests.helpers.procs import alive, children
from tests.helpers.synthetic_nnet import make_synthetic_corpus
from tests.helpers.temporaries import hidden_files, outputs

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["--max-epochs", "2", "--batch-size", "32", "--device", "cpu", "--num-threads", "1",
         "--cmvn", "utterance", "--num-layers", "1", "--hidden-dim", "16"]
pytestmark = pytest.mark.slow


def _command(*args):
    return [sys.executable, "-m", "asrkt.cli.main", *[str(a) for a in args]]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def launch(log: Path, *args, kill_after=None) -> float:
    """Run the command; once it has started working (its log file appears), let it work
    ``kill_after`` seconds and SIGKILL it (the parent only), or else wait for it to finish.

    Returns:
        Seconds it worked (from the log's appearance to its end).
    """
    log.unlink(missing_ok=True)
    proc = subprocess.Popen(_command(*args), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    while not log.exists() and proc.poll() is None:
        time.sleep(0.02)
    start = time.time()
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            jobs = children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            deadline = time.time() + 5  # at once, not after finishing their work
            while time.time() < deadline and any(alive(j) for j in jobs):
                time.sleep(0.05)
            left = [j for j in jobs if alive(j)]
            assert not left, f"jobs {left} outlived the kill after {kill_after:.2f} s"
        proc.communicate()
        return time.time() - start
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{args[0]} exited {proc.returncode}: {err[-3000:]}"
    return time.time() - start


def same_outputs(got: dict, reference: dict, folders, when: str) -> None:
    """The outputs equal the reference's and no hidden file is left; else name what differs
    (files missing, extra, or with other bytes) and when (the kill that preceded)."""
    changed = sorted(str(p) for p in got.keys() & reference.keys() if got[p] != reference[p])
    missing = sorted(str(p) for p in reference.keys() - got.keys())
    extra = sorted(str(p) for p in got.keys() - reference.keys())
    left = hidden_files(*folders)
    assert not (changed or missing or extra or left), \
        f"{when}: changed {changed}, missing {missing}, extra {extra}, hidden {left}"


def same_table(table: Path, reference: dict) -> None:
    got = dict(read_table(table, "matrix"))
    assert sorted(got) == sorted(reference)
    for key, value in reference.items():
        np.testing.assert_array_equal(got[key], value)


def kill_points(rng: random.Random, work: float, count: int):
    return sorted(rng.uniform(0.0, 1.0) * work for _ in range(count))


def test_make_feats_killed_at_random_points(tmp_path):
    data = generated_data_dir(tmp_path / "data", 16000, count=12, seconds=1.0)
    fbank = tmp_path / "fbank"
    command = ["make-feats", "--nj", 2, data, fbank]
    log = fbank / "log" / "make_fbank_data.log"
    work = launch(log, *command)
    reference = outputs(data, fbank)
    feats = dict(read_table(data / "feats.scp", "matrix"))
    for delay in kill_points(random.Random(1), work, 5):
        launch(log, *command, kill_after=delay)
        if (data / "feats.scp").exists():  # the previous outputs, complete
            same_table(data / "feats.scp", feats)
            assert (data / "utt2num_frames").read_bytes() == reference[data / "utt2num_frames"]
        launch(log, *command)
        same_outputs(outputs(data, fbank), reference, (data, fbank),
                     f"re-run after a kill at {delay:.2f} of {work:.2f} s")


def test_train_teacher_and_dump_posteriors_killed_at_random_points(tmp_path):
    import torch

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=8)
    reference_exp = tmp_path / "reference"
    work = launch(reference_exp / "log" / "train-teacher.log",
                  "train-teacher", data, ali, reference_exp, *TRAIN)
    reference = torch.load(reference_exp / "final.pt", weights_only=True)["state_dict"]
    rng = random.Random(2)
    for n, delay in enumerate(kill_points(rng, work, 3)):
        exp = tmp_path / f"exp{n}"
        command = ["train-teacher", data, ali, exp, *TRAIN]
        launch(exp / "log" / "train-teacher.log", *command, kill_after=delay)
        if (exp / "final.pt").exists():  # only ever complete
            got = torch.load(exp / "final.pt", weights_only=True)["state_dict"]
            assert all(torch.equal(got[k], v) for k, v in reference.items())
        launch(exp / "log" / "train-teacher.log", *command)
        got = torch.load(exp / "final.pt", weights_only=True)["state_dict"]
        assert all(torch.equal(got[k], v) for k, v in reference.items())
        assert hidden_files(exp) == []

    post = tmp_path / "post"
    dump = ["dump-posteriors", reference_exp, data, post, "--device", "cpu",
            "--num-threads", "1", "--temperature", "2"]
    log = post / "log" / "dump-posteriors.log"
    work = launch(log, *dump)
    before = outputs(post)
    soft = dict(read_table(post / "post.scp", "matrix"))
    for delay in kill_points(rng, work, 3):
        launch(log, *dump, kill_after=delay)
        if (post / "post.scp").exists() or (post / "post.ark").exists():
            table = post / "post.scp" if (post / "post.scp").exists() else post / "post.ark"
            same_table(table, soft)
            assert (post / "posteriors.yaml").read_bytes() == before[post / "posteriors.yaml"]
        launch(log, *dump)
        same_outputs(outputs(post), before, (post,),
                     f"re-run after a kill at {delay:.2f} of {work:.2f} s")
