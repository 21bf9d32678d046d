"""`decode-nnet --nj 2` on long utterances over a trigram graph: the jobs count utterances as
they finish, and stop within a second when their parent dies or is terminated, even in the
middle of an utterance (the search polls for SIGTERM every 16 frames).

Both jobs get the same 60,000 frames: an earlier version gave one job the reversed copy, which
searched 4.5x faster (1.5 s for 40,000 frames) and could finish within the 3 s the test waits
on a quiet machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers.procs import alive, children

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def long_task(tmp_path_factory):
    """The LM-graph task, and a loglikes table of 2 utterances of 60,000 frames each (the toy
    test set's flattened log-likelihoods repeated: about 10 s of search each on a quiet machine),
    plus 8 short ones."""
    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import gmm_source
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import ArkScpWriter
    from tests.helpers.lm_graph import make_lm_system

    root = tmp_path_factory.mktemp("decode_jobs")
    paths = make_lm_system(root / "task", num_test=10)
    model = GmmModel.load(paths["exp"])
    lls = [(u, (0.15 * ll).astype(np.float32)) for u, ll in gmm_source(
        model, paths["test"], paths["exp"] / "feature_pipeline.yaml")(
        DataDir(paths["test"]).utterances)]
    long = np.concatenate([ll for _, ll in lls])
    long = np.concatenate([long] * (60000 // len(long) + 1))[:60000]
    with ArkScpWriter(root / "long.ark", root / "long.scp") as writer:
        writer.write("a-long", long)
        writer.write("b-long", long)  # the same search cost in each job
    with ArkScpWriter(root / "short.ark", root / "short.scp") as writer:
        for utt, ll in lls[:8]:
            writer.write(utt, ll)
    return root, paths


def _decode_cmd(root, paths, table, out):
    return [sys.executable, "-m", "asrkt", "decode-nnet", "--nj", "2", "--min-lmwt", "7",
            "--max-lmwt", "9", str(paths["graph"]), f"scp:{root / table}", str(paths["exp"]),
            str(root / out)]


def _start_and_wait_for_jobs(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the two jobs never started"
        time.sleep(0.05)
    time.sleep(3.0)  # both jobs are now inside their 60,000-frame utterance
    jobs = children(proc.pid)
    assert len(jobs) == 2 and all(alive(j) for j in jobs)
    return proc, jobs


def _seconds_until_gone(jobs, limit=10.0):
    start = time.monotonic()
    while any(alive(j) for j in jobs) and time.monotonic() - start < limit:
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_jobs_stop_within_a_second_inside_a_long_utterance(long_task, how):
    root, paths = long_task
    proc, jobs = _start_and_wait_for_jobs(_decode_cmd(root, paths, "long.scp", f"out_{how}"))
    proc.send_signal(getattr(signal, how))
    proc.wait(timeout=30)
    waited = _seconds_until_gone(jobs)
    assert waited < 1.0, f"jobs {jobs} outlived their parent ({how}) by {waited:.2f} s"
    assert not (root / f"out_{how}" / "scoring" / "7.txt").exists()


def test_progress_counts_utterances_as_they_finish(long_task):
    """Every short utterance is counted before the run ends (tqdm lines on stderr)."""
    root, paths = long_task
    env = dict(os.environ, TQDM_MININTERVAL="0")
    done = subprocess.run(_decode_cmd(root, paths, "short.scp", "out_short"), env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = {int(c) for c in __import__("re").findall(r"decode:\s+\d+%\|[^|]*\|\s*(\d+)/8",
                                                       done.stderr)}
    assert {1, 2, 3}.issubset(counts), done.stderr[-2000:]
