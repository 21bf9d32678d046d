"""Data-parallel training under torchrun (gloo, 2 processes of 1 thread on CPU): the same model
as one process when the two ranks together see the same minibatches, exact resume after the job
is killed, and a dead rank ending the job with an error instead of a hang."""

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from asrkt.errors import AsrktError
from asrkt.nnet.config import TeacherConfig
from asrkt.nnet.distributed import DistContext, all_reduce, launcher_env
from asrkt.nnet.losses import LossSpec
from asrkt.nnet.steps import train_supervised
from tests.helpers.procs import alive, children
from tests.helpers.synthetic_nnet import make_synthetic_corpus

ROOT = Path(__file__).resolve().parents[2]
HARD = LossSpec(1.0, 0.0, 1.0)
TORCHRUN = Path(sys.executable).with_name("torchrun")

# scripts/gpu_check.sh runs the 2-rank tests on GPUs (nccl) with ASRKT_TEST_DEVICE=cuda
DEVICE = os.environ.get("ASRKT_TEST_DEVICE", "cpu")
TOLERANCE = dict(atol=2e-5, rtol=1e-4) if DEVICE == "cpu" else dict(atol=1e-4, rtol=1e-3)

# 16 utterances of 32 frames, 4 held out for CV: 12 training utterances, 6 per rank
DNN = dict(cmvn="utterance", num_layers=2, hidden_dim=16, splice=2, max_epochs=3,
           learning_rate=0.01, cv_fraction=0.25, shuffle=False, num_threads=1, device=DEVICE)
LSTM = dict(DNN, model="lstm", num_layers=1, hidden_dim=8, proj_dim=4, splice=0,
            target_delay=2, chunk_len=8, grad_clip=5.0)


def _flags(settings):
    out = []
    for key, value in settings.items():
        name = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(name if value else "--no-" + key.replace("_", "-"))
        else:
            out += [name, str(value)]
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _torchrun(args, nproc=2, **popen):
    """``torchrun --nproc-per-node NPROC -m asrkt ARGS`` with this checkout first on the path."""
    if not TORCHRUN.exists():
        pytest.skip(f"no torchrun next to {sys.executable}")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [str(TORCHRUN), "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
               "--master-port", str(_free_port()), "-m", "asrkt", *args]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)


def _finish(proc, timeout=300):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out


def _weights(exp):
    return torch.load(Path(exp) / "final.pt", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    return make_synthetic_corpus(root / "corpus", num_utts=16, min_len=32, max_len=32)


@pytest.fixture(scope="module")
def longer_corpus(tmp_path_factory):
    """Epochs long enough (0.1 s or more) for a test to kill the job between checkpoints."""
    root = tmp_path_factory.mktemp("ddp_long")
    return make_synthetic_corpus(root / "corpus", num_utts=48, min_len=64, max_len=64)


def test_single_process_has_no_process_group(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert launcher_env() is None
    assert all_reduce(DistContext(), [1.5, 2.0]) == [1.5, 2.0]
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "1")
    assert launcher_env() is None  # torchrun with one process: no group either


# per-rank minibatch = half the global one, data in order: rank r's batch k is the other half
# of the single process's batch k (frames: utterances 2k, 2k+1; streams: the same interleave),
# so DDP's averaged gradient is the single process's
@pytest.mark.slow
@pytest.mark.parametrize("settings,single,per_rank", [
    (DNN, dict(batch_size=64), dict(batch_size=32)),
    (DNN, dict(batch_size=64), dict(batch_size=16, accum_grad=2)),  # one all-reduce per update
    (LSTM, dict(num_streams=4), dict(num_streams=2)),
], ids=["dnn", "dnn-accum", "lstm"])
def test_two_ranks_train_the_model_of_one_process(tmp_path, corpus, settings, single, per_rank):
    data, ali = corpus
    train_supervised("train-teacher", TeacherConfig(**settings, **single), data, tmp_path / "one",
                     HARD, ali_dir=ali)
    out = _finish(_torchrun(["train-teacher", *_flags({**settings, **per_rank}), str(data),
                             str(ali), str(tmp_path / "two")]))
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert one.keys() == two.keys()
    for key in one:
        assert torch.allclose(one[key], two[key], **TOLERANCE), (key, out[-2000:])
    # rank 0 alone wrote the logs; the all-reduced CV loss is the single process's
    assert [p.name for p in (tmp_path / "two" / "log").iterdir()] == ["train-teacher.log"]
    curves = [[json.loads(x) for x in (tmp_path / name / "train.jsonl").read_text().splitlines()]
              for name in ("one", "two")]
    assert [x["cv_loss"] for x in curves[0]] == pytest.approx([x["cv_loss"] for x in curves[1]],
                                                              rel=1e-4)
    assert [x["train_frames"] for x in curves[0][1:]] == [x["train_frames"] for x in curves[1][1:]]
    assert curves[1][-1]["cv_loss"] < curves[1][0]["cv_loss"]


def test_accumulated_minibatches_train_the_model_of_one_larger_minibatch(tmp_path, corpus):
    """--accum-grad K: K minibatches of B frames per optimiser step equal one minibatch of
    K x B frames (data in order: the K are the halves of the larger one); without it, the
    smaller minibatches give another model."""
    data, ali = corpus
    models = {}
    for name, extra in [("big", dict(batch_size=64)), ("accum", dict(batch_size=32, accum_grad=2)),
                        ("small", dict(batch_size=32))]:
        train_supervised("train-teacher", TeacherConfig(**{**DNN, "device": "cpu"}, **extra),
                         data, tmp_path / name, HARD, ali_dir=ali)
        models[name] = _weights(tmp_path / name)
    for key in models["big"]:
        assert torch.allclose(models["big"][key], models["accum"][key], atol=2e-5, rtol=1e-4), key
    assert not all(torch.allclose(models["big"][k], models["small"][k], atol=1e-3)
                   for k in models["big"])


def _wait_for(path: Path, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def _kill_job(proc):
    """SIGKILL torchrun and its workers (which torchrun starts in sessions of their own, so a
    killed torchrun alone leaves them running)."""
    workers = children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    for pid in workers:
        os.kill(int(pid), signal.SIGKILL)
    proc.communicate(timeout=60)


@pytest.mark.slow
def test_killed_two_rank_run_resumes_to_the_uninterrupted_model(tmp_path, longer_corpus):
    data, ali = longer_corpus
    flags = _flags({**DNN, "batch_size": 8, "dropout": 0.2, "shuffle": True, "max_epochs": 4,
                    "min_epochs": 4})
    _finish(_torchrun(["train-teacher", *flags, str(data), str(ali), str(tmp_path / "a")]))
    proc = _torchrun(["train-teacher", *flags, str(data), str(ali), str(tmp_path / "b")])
    _wait_for(tmp_path / "b" / "checkpoints" / "epoch-1.pt", proc)
    _kill_job(proc)
    assert not (tmp_path / "b" / "final.pt").exists(), "the run ended before it was killed"
    _finish(_torchrun(["train-teacher", *flags, "--resume", str(data), str(ali),
                       str(tmp_path / "b")]))
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_a_dead_rank_ends_the_job_with_an_error(tmp_path, longer_corpus):
    data, ali = longer_corpus
    flags = _flags({**DNN, "batch_size": 4, "max_epochs": 20, "min_epochs": 20,
                    "dist_timeout": 30})
    proc = _torchrun(["train-teacher", *flags, str(data), str(ali), str(tmp_path / "x")])
    try:
        _wait_for(tmp_path / "x" / "checkpoints" / "epoch-1.pt", proc)
        workers = children(proc.pid)
        assert len(workers) == 2, workers
        killed = time.monotonic()
        os.kill(int(workers[1]), signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert time.monotonic() - killed < 60
        assert not any(alive(pid) for pid in workers)
        assert "Signals.SIGKILL" in out or "SIGKILL" in out, out[-3000:]
    finally:
        if proc.poll() is None:
            _kill_job(proc)
    shutil.rmtree(tmp_path / "x", ignore_errors=True)


LEAVE = """
import logging, sys
import torch.distributed as dist
from asrkt.nnet.distributed import DistContext, leave_process, shutdown
leave_process(5)  # not yet a rank of a job: returns
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:{port}", rank=0, world_size=1)
shutdown(DistContext(rank=0, world_size=2, backend="gloo"))
logging.basicConfig(stream=sys.stderr, format="%(message)s")
logging.getLogger("t").warning("logged before leaving")
print("printed before leaving")  # stdout is a pipe: block-buffered until flushed
leave_process(3)
print("not reached")
"""


def test_a_rank_that_left_its_group_ends_at_once_with_its_output_flushed():
    """leave_process after shutdown: the status given, the buffered output and log records
    written, nothing after it run (no interpreter teardown beside gloo's threads); before
    shutdown it does nothing."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run([sys.executable, "-c", LEAVE.format(port=_free_port())],
                            capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 3, result.stderr[-2000:]
    assert result.stdout == "printed before leaving\n"
    assert "logged before leaving" in result.stderr


@pytest.mark.slow
def test_two_rank_jobs_leave_cleanly_run_after_run(tmp_path):
    """scripts/ddp_exit_stress.py, 3 runs (README "Failure behaviour": 50 runs beside a
    busy-looping process): every job exits 0 with final.pt and no rank aborting at exit."""
    if not TORCHRUN.exists():
        pytest.skip(f"no torchrun next to {sys.executable}")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "ddp_exit_stress.py"),
                             "--runs", "3", "--work", str(tmp_path)], capture_output=True,
                            text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "runs 3, failures 0," in result.stdout


class _Loader:
    """Numbered stand-in batches: ``count`` per epoch."""

    def __init__(self, count):
        self.count = count

    def batches(self, epoch):
        yield from range(self.count)


@pytest.mark.parametrize("count,steps,expected", [
    (3, 5, [0, 1, 2, 0, 1]),  # a shorter share starts over
    (4, 4, [0, 1, 2, 3]),
    (5, 3, [0, 1, 2]),  # a longer one (a low streaming estimate) is cut
])
def test_every_rank_runs_the_agreed_number_of_steps(count, steps, expected):
    from asrkt.nnet.trainer import Trainer

    trainer = Trainer.__new__(Trainer)
    trainer.dist = DistContext(rank=1, world_size=2)
    assert list(trainer.batches_of(_Loader(count), 1, steps)) == expected
    assert list(trainer.batches_of(_Loader(count), 1, None)) == list(range(count))
    with pytest.raises(AsrktError, match="no training batches"):
        list(trainer.batches_of(_Loader(0), 1, 2))


@pytest.mark.parametrize("model", ["dnn", "lstm"])
def test_bf16_autocast_trains_on_cpu(tmp_path, corpus, model):
    data, ali = corpus
    settings = dict(DNN if model == "dnn" else LSTM, max_epochs=1, precision="bf16")
    history = train_supervised("train-teacher", TeacherConfig(**settings), data, tmp_path / "e",
                               HARD, ali_dir=ali)
    assert math.isfinite(history[-1]["train_loss"]) and history[-1]["train_frames"] == 12 * 32
    weights = _weights(tmp_path / "e")
    assert all(w.dtype == torch.float32 for w in weights.values())
    settings["precision"] = "fp32"  # bf16 really ran: close to float32, not the same
    reference = train_supervised("train-teacher", TeacherConfig(**settings), data,
                                 tmp_path / "f", HARD, ali_dir=ali)
    assert history[-1]["train_loss"] != reference[-1]["train_loss"]
    assert history[-1]["train_loss"] == pytest.approx(reference[-1]["train_loss"], rel=0.05)


@pytest.mark.slow
def test_a_hung_rank_fails_the_job_after_the_timeout(tmp_path, longer_corpus):
    """A stopped (not dead) rank: the other's collective times out after --dist-timeout with a
    one-line error, and torchrun stops the job (SIGTERM, then SIGKILL after its 30 s grace)."""
    data, ali = longer_corpus
    flags = _flags({**DNN, "batch_size": 4, "max_epochs": 20, "min_epochs": 20,
                    "dist_timeout": 5})
    proc = _torchrun(["train-teacher", *flags, str(data), str(ali), str(tmp_path / "x")])
    workers = []
    try:
        _wait_for(tmp_path / "x" / "checkpoints" / "epoch-1.pt", proc)
        workers = children(proc.pid)
        stopped = time.monotonic()
        os.kill(int(workers[1]), signal.SIGSTOP)
        out, _ = proc.communicate(timeout=90)
        assert proc.returncode != 0
        assert time.monotonic() - stopped < 60
        assert "error: rank 0 of 2: lost the other processes" in out, out[-3000:]
        assert "--dist-timeout 5 s" in out
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(int(pid), signal.SIGKILL)
        if proc.poll() is None:
            _kill_job(proc)


@pytest.mark.slow
def test_two_rank_rbm_pretraining(tmp_path, corpus):
    """pretrain-rbm under torchrun: CD-1 statistics summed over the ranks (the sampling
    differs from one process's, so the errors are close, not equal); rank 0 writes."""
    data, _ = corpus
    flags = ["--device", DEVICE, "--num-threads", "1", "--cmvn", "utterance", "--nn-depth",
             "2", "--hid-dim", "16", "--splice", "1"]
    _finish(_torchrun(["pretrain-rbm", *flags, "--batch-size", "16", str(data),
                       str(tmp_path / "two")]))
    from click.testing import CliRunner

    from asrkt.cli.main import cli

    result = CliRunner().invoke(cli, ["pretrain-rbm", *flags, "--batch-size", "32", str(data),
                                      str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    curves = [[json.loads(x) for x in (tmp_path / name / "train.jsonl").read_text().splitlines()]
              for name in ("one", "two")]
    assert len(curves[0]) == len(curves[1]) == 3
    for a, b in zip(*curves, strict=True):
        assert b["recon_mse"] == pytest.approx(a["recon_mse"], rel=0.2)
    assert curves[1][1]["recon_mse"] < curves[1][0]["recon_mse"]
    assert [p.name for p in (tmp_path / "two" / "log").iterdir()] == ["pretrain-rbm.log"]
    assert (tmp_path / "two" / "final.pt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("settings", [
    dict(DNN, batch_size=16, buffer_frames=120, shuffle=True),  # streamed blocks: estimates
    dict(LSTM, num_streams=3, shuffle=True),
], ids=["dnn-streaming", "lstm"])
def test_uneven_shares_finish_without_a_hang(tmp_path, settings):
    """15 training utterances of 20-50 frames: the ranks' shares differ in size, the shorter
    one repeats batches (or the longer one is cut), and the job ends normally."""
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=20, min_len=20, max_len=50)
    proc = _torchrun(["train-teacher", *_flags({**settings, "dist_timeout": 60}), str(data),
                      str(ali), str(tmp_path / "e")])
    out = _finish(proc, timeout=240)
    lines = [json.loads(x) for x in (tmp_path / "e" / "train.jsonl").read_text().splitlines()]
    assert len(lines) == settings["max_epochs"] + 1, out[-2000:]
    assert all(math.isfinite(x["cv_loss"]) for x in lines)
