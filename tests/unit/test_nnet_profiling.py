"""The trainer's hooks and the step profiler the bench measures the trainer with."""

from __future__ import annotations

import itertools

import torch

from asrkt.nnet.config import StudentConfig, TeacherConfig
from asrkt.nnet.losses import LossSpec
from asrkt.nnet.profiling import PHASES, StepProfiler
from asrkt.nnet.steps import train_supervised
from tests.helpers.synthetic_nnet import make_synthetic_corpus

HARD = LossSpec(1.0, 0.0, 1.0)


def _teacher(**kw):
    return TeacherConfig(**{**dict(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=16,
                                   splice=2, max_epochs=2, batch_size=32, learning_rate=0.01,
                                   freq_mask=2), **kw})


class Recorder(StepProfiler):
    """A profiler on a clock that advances by one per reading: each phase then counts how often
    the trainer ended it, and the corpora train_supervised loaded are kept."""

    def __init__(self, train_only: bool = True):
        ticks = itertools.count()
        super().__init__(clock=lambda: float(next(ticks)), train_only=train_only)
        self.corpora = {}

    def corpus_loaded(self, name, corpus):
        self.corpora[name] = corpus.num_frames


def test_every_phase_of_every_step_is_seen_once(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    hooks = Recorder()
    history = train_supervised("t", _teacher(), data, ali_dir=ali, exp_dir=tmp_path / "exp",
                               loss=HARD, hooks=hooks)
    assert [e["epoch"] for e in hooks.epochs] == [1, 2]  # training epochs only
    for record, line in zip(hooks.epochs, history[1:], strict=True):
        steps = record["steps"]
        assert steps > 1 and record["frames"] == line["train_frames"]
        assert record["positions"] == record["frames"]  # a DNN pads nothing
        # one reading per phase end: data once per batch and once for the end of the epoch;
        # "other" before the update and after the step
        assert {p: record[p] for p in PHASES} == {
            "data": steps + 1, "forward": steps, "backward": steps, "optimizer": steps,
            "other": 2 * steps}
        assert record["total"] >= sum(record[p] for p in PHASES)
        assert abs(sum(StepProfiler.shares(record).values()) - 1) < 0.05
    assert set(hooks.corpora) == {"train", "cv"}
    assert hooks.corpora["train"] == history[1]["train_frames"]


def test_cv_passes_have_no_update_phases(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    hooks = Recorder(train_only=False)
    train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali, exp_dir=tmp_path / "exp",
                     loss=HARD, hooks=hooks)
    assert [(e["epoch"], e["train"]) for e in hooks.epochs] == [(0, False), (1, True),
                                                                (1, False)]
    cv = hooks.epochs[0]
    assert cv["backward"] == cv["optimizer"] == 0 and cv["other"] == cv["steps"]


def test_recurrent_positions_count_the_padding(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    config = StudentConfig(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=8,
                           proj_dim=4, max_epochs=1, num_streams=4, chunk_len=8)
    hooks = StepProfiler()
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "exp", loss=HARD,
                     hooks=hooks)
    record = hooks.epochs[0]
    assert record["positions"] == record["steps"] * 4 * 8 > record["frames"]


def test_the_hooks_do_not_change_training(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher(), data, ali_dir=ali, exp_dir=tmp_path / "a", loss=HARD)
    train_supervised("t", _teacher(), data, ali_dir=ali, exp_dir=tmp_path / "b", loss=HARD,
                     hooks=StepProfiler())
    a = torch.load(tmp_path / "a" / "final.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "final.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
