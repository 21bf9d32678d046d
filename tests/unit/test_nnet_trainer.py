"""The shared training loop: newbob, exact resume, skipped utterances, bad-input errors."""

import json
import math

import numpy as np
import pytest
import torch

from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter
from asrkt.nnet.config import StudentConfig, TeacherConfig, TrainConfig
from asrkt.nnet.losses import LossSpec
from asrkt.nnet.steps import train_supervised
from asrkt.nnet.trainer import ScheduleState, Trainer, newbob_update
from asrkt.utils.config import check_config
from tests.helpers.synthetic_nnet import make_synthetic_corpus

HARD = LossSpec(1.0, 0.0, 1.0)


def _teacher(**kw):
    base = dict(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=16, splice=2,
                max_epochs=4, batch_size=32, learning_rate=0.01)
    return TeacherConfig(**{**base, **kw})


def _student(**kw):
    base = dict(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=8, proj_dim=4,
                max_epochs=4, num_streams=4, chunk_len=8, learning_rate=0.01)
    return StudentConfig(**{**base, **kw})


def test_newbob_schedule():
    settings = TrainConfig(max_epochs=10)
    state = ScheduleState(learning_rate=1.0, best_loss=2.0)
    for epoch, loss, accepted, lr, halving in [(1, 1.5, True, 1.0, False),
                                               (2, 1.6, False, 0.5, True),
                                               (3, 1.4, True, 0.25, True),
                                               (4, 1.3999, True, 0.125, True)]:
        state.epoch = epoch
        assert newbob_update(state, loss, settings) == accepted
        assert (state.learning_rate, state.halving) == (lr, halving)
    assert state.done and state.best_loss == pytest.approx(1.3999)


def _teacher_dropout(**kw):
    return _teacher(**{"dropout": 0.3, **kw})


def _teacher_streaming(**kw):
    return _teacher(**{"buffer_frames": 120, **kw})


def _student_streaming(**kw):
    return _student(**{"buffer_frames": 120, **kw})


# with dropout, exact resume needs the RNG state in the checkpoint; streaming in blocks of
# 120 frames (asrkt.nnet.corpus.BlockReader), the blocks' order from (seed, epoch)
@pytest.mark.parametrize("make_config", [_teacher, _student, _teacher_dropout,
                                         _teacher_streaming, _student_streaming])
def test_resume_ends_with_the_same_model(tmp_path, monkeypatch, make_config):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    config = make_config()
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "a", loss=HARD)

    original = Trainer.save_checkpoint

    def interrupt_after_epoch_2(self):
        original(self)
        if self.state.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "save_checkpoint", interrupt_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "b", loss=HARD)
    monkeypatch.setattr(Trainer, "save_checkpoint", original)
    assert not (tmp_path / "b" / "final.pt").exists()
    killed_log = (tmp_path / "b" / "log" / "t.log").read_text()
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "b", loss=HARD,
                     resume=True)
    log = (tmp_path / "b" / "log" / "t.log").read_text()  # the resumed run appends
    assert log.startswith(killed_log) and "resuming after epoch 2" in log[len(killed_log):]
    a = torch.load(tmp_path / "a" / "final.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "final.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    lines = [json.loads(x) for x in (tmp_path / "b" / "train.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == list(range(len(lines)))
    for name in ("config.yaml", "feature_pipeline.yaml", "curves.png", "log/t.log",
                 "checkpoints/epoch-1.pt"):
        assert (tmp_path / "b" / name).exists(), name
    with pytest.raises(AsrktError, match="config differs .* in hidden_dim"):
        train_supervised("t", make_config(hidden_dim=6), data, ali_dir=ali,
                         exp_dir=tmp_path / "b", loss=HARD, resume=True)


@pytest.mark.parametrize("every", [1e9, 0.0])
def test_curves_are_drawn_after_trained_epochs_and_complete_at_the_end(tmp_path, monkeypatch,
                                                                      every):
    """curves.png: not for the initial model's CV point alone; at most every CURVES_EVERY_S
    seconds during training; always with every record when training ends."""
    from asrkt.nnet import trainer

    drawn = []
    monkeypatch.setattr(trainer, "plot_curves", lambda path, history: drawn.append(len(history)))
    monkeypatch.setattr(trainer, "CURVES_EVERY_S", every)
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher(max_epochs=3, min_epochs=3), data, ali_dir=ali,
                     exp_dir=tmp_path / "exp", loss=HARD)
    records = len((tmp_path / "exp" / "train.jsonl").read_text().splitlines())
    assert records == 4  # epoch 0 (the initial model) and 3 trained epochs
    assert drawn == ([2, 4] if every else [2, 3, 4])


def test_dropout_is_active_only_while_training(tmp_path):
    from asrkt.nnet.modelio import load_model

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher_dropout(max_epochs=1), data, ali_dir=ali,
                     exp_dir=tmp_path / "d", loss=HARD)
    model = load_model(tmp_path / "d").model
    assert model.spec.dropout == 0.3
    x = torch.randn(50, model.spliced_dim)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    with pytest.raises(AsrktError, match=r"'dropout' must be a finite number in \[0, 1\)"):
        check_config(_teacher(dropout=1.0))


def _rewrite_alignment(ali, changes):
    from asrkt.io.tables import read_table

    table = dict(read_table(ali / "pdf.scp"))
    for utt, value in changes.items():
        if value is None:
            del table[utt]
        else:
            table[utt] = value(table[utt])
    with ArkScpWriter(ali / "pdf2.ark", ali / "pdf.scp") as writer:
        for utt in sorted(table):
            writer.write(utt, table[utt].astype(np.int32))


def test_mismatched_and_missing_targets_are_skipped_then_fatal(tmp_path, caplog):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=20)
    utts = sorted(p.split()[0] for p in (data / "utt2spk").read_text().splitlines())
    _rewrite_alignment(ali, {utts[0]: lambda a: np.concatenate([a, a]), utts[1]: None})
    config = _teacher(max_epochs=1, max_skip_fraction=0.2)
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "x", loss=HARD)
    log = (tmp_path / "x" / "log" / "t.log").read_text()
    assert f"skipped {utts[0]}:" in log and f"skipped {utts[1]}: no targets" in log
    _rewrite_alignment(ali, {u: None for u in utts[2:8]})
    with pytest.raises(AsrktError, match="have no usable targets"):
        train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "y", loss=HARD)


def test_nan_features_and_nan_loss_are_one_line_errors(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=6)
    train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali, exp_dir=tmp_path / "x",
                     loss=HARD)
    payload = torch.load(tmp_path / "x" / "final.pt", weights_only=True)
    payload["state_dict"]["output.bias"][0] = math.nan
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(AsrktError, match=r"epoch 0, CV batch 1: loss is nan"):
        train_supervised("t", _teacher(), data, ali_dir=ali, exp_dir=tmp_path / "z", loss=HARD,
                         init=tmp_path / "nan.pt")
    from asrkt.io.tables import read_table

    feats = {k: v.copy() for k, v in read_table(data / "feats.scp")}
    bad = sorted(feats)[3]
    feats[bad][2, 1] = math.nan
    with ArkScpWriter(data / "feats2.ark", data / "feats.scp") as writer:
        for utt in sorted(feats):
            writer.write(utt, feats[utt])
    with pytest.raises(AsrktError, match=f"{bad}.*NaN"):
        train_supervised("t", _teacher(), data, ali_dir=ali, exp_dir=tmp_path / "y", loss=HARD)


def test_frequency_masking_zeroes_one_band_per_example():
    from asrkt.nnet.augment import mask_frequencies

    torch.manual_seed(0)
    frames = torch.ones(200, 3 * 10)            # 200 examples, 3 spliced frames of 10 channels
    masked = mask_frequencies(frames, 10, 4).reshape(200, 3, 10)
    zero = masked == 0
    assert torch.equal(zero[:, 0], zero[:, 1]) and torch.equal(zero[:, 0], zero[:, 2])
    widths = zero[:, 0].sum(1)
    assert widths.max() == 4 and widths.min() == 0 and len(set(widths.tolist())) == 5
    for row in zero[:, 0]:                      # one contiguous band
        idx = row.nonzero().flatten()
        assert len(idx) == 0 or idx[-1] - idx[0] + 1 == len(idx)
    streams = mask_frequencies(torch.ones(8, 20, 10), 10, 3) == 0   # same band in every frame
    assert all(torch.equal(s[0], s[t]) for s in streams for t in range(20))
    assert torch.equal(mask_frequencies(frames, 10, 0), frames)


def test_frequency_masking_applies_to_training_only(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    plain = train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali,
                             exp_dir=tmp_path / "a", loss=HARD)
    masked = train_supervised("t", _teacher(max_epochs=1, freq_mask=3), data, ali_dir=ali,
                              exp_dir=tmp_path / "b", loss=HARD)
    assert plain[0]["cv_loss"] == masked[0]["cv_loss"]      # the initial model: CV unmasked
    assert plain[1]["train_loss"] != masked[1]["train_loss"]


@pytest.mark.parametrize("make_config", [_teacher, _student])
def test_an_update_weighs_its_valid_frames_not_its_minibatch(tmp_path, monkeypatch, make_config):
    """A minibatch's mean loss enters backward times valid frames / a full minibatch's frames:
    full minibatches at 1, the epoch's last multistream chunks (few streams left, one long
    utterance playing out) and the frame loader's last partial batch at their share, as Kaldi's
    summed per-frame gradients; a full-size step on a few frames of one utterance would not."""
    seen = []
    forward, backward = Trainer._forward, Trainer._backward

    def record_forward(self, net, batch, state, autocast):
        state, loss, hits = forward(self, net, batch, state, autocast)
        if self.model.training:
            seen.append([batch.num_frames, batch.capacity, float(loss.detach())])
        return state, loss, hits

    def record_backward(self, loss):
        seen[-1].append(float(loss.detach()))
        backward(self, loss)

    monkeypatch.setattr(Trainer, "_forward", record_forward)
    monkeypatch.setattr(Trainer, "_backward", record_backward)
    # lengths 20-300 frames over 4 streams: the epoch ends with one stream playing out alone
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10, min_len=20, max_len=300)
    config = make_config(max_epochs=1, cmvn="none", batch_size=37)   # a partial last batch
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "exp", loss=HARD)
    assert seen and all(len(row) == 4 for row in seen)
    capacity = config.batch_size if make_config is _teacher else \
        config.num_streams * config.chunk_len
    weights = []
    for frames, cap, mean_loss, backward_loss in seen:
        assert cap == capacity
        weights.append(frames / cap)
        assert backward_loss == pytest.approx(mean_loss * frames / cap, rel=1e-6)
    assert weights[0] == 1.0 and min(weights) < (1.0 if make_config is _teacher else 0.5)
