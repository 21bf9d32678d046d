"""The LSTMP layer (asrkt/nnet/models/lstmp.py): same outputs and gradients as torch.nn.LSTM with
proj_size on the same weights; the per-position reset mask equals running the utterances
separately; models saved with the nn.LSTM-based layer still load; the packed chunk schedule."""

import numpy as np
import pytest
import torch
from torch import nn

from asrkt.errors import AsrktError
from asrkt.nnet.corpus import _assemble
from asrkt.nnet.loaders import ChunkedSequenceLoader, make_loader
from asrkt.nnet.models import ModelSpec, build_model
from asrkt.nnet.models.lstmp import LSTMPStack


def _pair(dim=5, cells=8, layers=2, proj=3, dtype=torch.float64):
    torch.manual_seed(0)
    ref = nn.LSTM(dim, cells, layers, batch_first=True, proj_size=proj).to(dtype)
    ours = LSTMPStack(dim, cells, layers, proj).to(dtype)
    ours.load_state_dict(ref.state_dict())  # same names and shapes
    return ref, ours


def _grads(outputs, weights, wrt):
    loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
    return torch.autograd.grad(loss, wrt)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_outputs_and_gradients_equal_torch_lstm(dtype, tol):
    ref, ours = _pair(dtype=dtype)
    x = torch.randn(4, 9, 5, dtype=dtype, requires_grad=True)
    h0 = torch.randn(2, 4, 3, dtype=dtype, requires_grad=True)
    c0 = torch.randn(2, 4, 8, dtype=dtype, requires_grad=True)
    y1, (h1, c1) = ref(x, (h0, c0))
    y2, (h2, c2) = ours(x, (h0, c0))
    for a, b in ((y1, y2), (h1, h2), (c1, c2)):
        torch.testing.assert_close(b, a, atol=tol, rtol=tol)
    weights = [torch.randn_like(t) for t in (y1, h1, c1)]
    g1 = _grads((y1, h1, c1), weights, [x, h0, c0, *ref.parameters()])
    g2 = _grads((y2, h2, c2), weights, [x, h0, c0, *ours.parameters()])
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a, atol=tol * 10, rtol=tol * 10)
    with torch.no_grad():  # inference path (nothing saved for backward)
        torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=tol, rtol=tol)


def test_reset_mask_equals_running_utterances_separately():
    """Stream 0 plays utterance a (6 frames) then b (5 frames) back to back with a reset at b's
    first position, starting from a carried state; stream 1 has no reset. Outputs and all
    gradients equal those of a and b run separately from a zero state (b) / the carried state."""
    ref, ours = _pair()
    x = torch.randn(2, 11, 5, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.float64)
    c0 = torch.randn(2, 2, 8, dtype=torch.float64)
    keep = torch.ones(2, 11, dtype=torch.bool)
    keep[0, 6] = False
    y, (h, c) = ours(x, (h0, c0), keep)
    ya, _ = ref(x[0:1, :6], (h0[:, 0:1], c0[:, 0:1]))
    yb, (hb, cb) = ref(x[0:1, 6:])
    y1, (h1, c1) = ref(x[1:2], (h0[:, 1:2], c0[:, 1:2]))
    torch.testing.assert_close(y[0:1], torch.cat([ya, yb], 1), atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(y[1:2], y1, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(h[:, 0:1], hb, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(c[:, 0:1], cb, atol=1e-12, rtol=1e-12)
    w = torch.randn_like(y)
    g = _grads([y], [w], [x, *ours.parameters()])
    g_sep = _grads([torch.cat([ya, yb], 1), y1], [w[0:1], w[1:2]], [x, *ref.parameters()])
    for a, b in zip(g_sep, g, strict=True):
        torch.testing.assert_close(b, a, atol=1e-11, rtol=1e-11)


def test_model_resets_per_stream_or_per_position():
    torch.manual_seed(1)
    model = build_model(ModelSpec("lstm", 2, 8, 4, splice=0), 3, 5)
    assert model.resets_within_chunk
    assert not build_model(ModelSpec("lstm", 1, 8, 0), 3, 5).resets_within_chunk
    assert not build_model(ModelSpec("blstm", 1, 8, 4), 3, 5).resets_within_chunk
    x = torch.randn(2, 6, 3)
    _, state = model(x)
    per_stream, _ = model(x, state=state, reset=torch.tensor([True, False]))
    positions = torch.zeros(2, 6, dtype=torch.bool)
    positions[0, 0] = True
    per_position, _ = model(x, state=state, reset=positions)
    torch.testing.assert_close(per_position, per_stream)
    torch.testing.assert_close(per_stream[0], model(x[0:1])[0][0])
    with pytest.raises(AsrktError, match="reset mask"):
        model(x, state=state, reset=torch.zeros(2, 5, dtype=torch.bool))
    gru = build_model(ModelSpec("gru", 1, 8, splice=0), 3, 5)
    with pytest.raises(AsrktError, match=r"reset must be \[batch\]"):
        gru(x, reset=positions)


def test_models_saved_with_the_torch_lstm_layer_load(tmp_path):
    """A final.pt whose weights come from the nn.LSTM-based layer (same keys) loads and gives
    the same logits as that layer."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
    from asrkt.nnet.modelio import load_model, model_payload
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    spec = ModelSpec("lstm", num_layers=2, hidden_dim=12, proj_dim=6, splice=1, target_delay=2)
    torch.manual_seed(3)
    old = build_model(spec, 5, 7)
    old.rnn = nn.LSTM(15, 12, 2, batch_first=True, proj_size=6)  # the earlier layer
    old.eval()
    data, _ = make_synthetic_corpus(tmp_path / "corpus", num_utts=3, dim=5, num_pdfs=7)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="utterance", splice=0)).fit(DataDir(data))
    path = tmp_path / "final.pt"
    torch.save(model_payload(old, pipeline, None, "test", {}), path)
    loaded = load_model(path).model.eval()
    assert isinstance(loaded.rnn, LSTMPStack)
    x = torch.randn(2, 10, 15)
    with torch.no_grad():
        expected = old.output(old.rnn(x)[0])
        torch.testing.assert_close(loaded(x)[0], expected, atol=1e-5, rtol=1e-5)


def _corpus(lengths, dim=3):
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, dim)).astype(np.float32) for n in lengths]
    return _assemble([f"u{i}" for i in range(len(lengths))], feats,
                     {"pdf": [np.arange(n) % 4 for n in lengths]})


@pytest.mark.parametrize("streams,chunk", [(3, 5), (4, 20), (16, 7), (1, 1)])
def test_packed_schedule_covers_every_frame_once_with_resets_at_starts(streams, chunk):
    corpus = _corpus((1, 7, 20, 21, 40, 3, 59, 13))
    loader = ChunkedSequenceLoader(corpus, [0], streams, chunk, seed=3, pack=True)
    starts = set(corpus.starts.tolist())
    for epoch in (1, 2):
        index, reset = loader._chunk_schedule(epoch)
        assert index.shape == reset.shape and index.shape[2] == chunk
        assert sorted(index[index >= 0].tolist()) == list(range(corpus.num_frames))
        for s in range(index.shape[1]):
            row, marks = index[:, s, :].reshape(-1), reset[:, s, :].reshape(-1)
            valid = row[row >= 0]
            assert (row >= 0).tolist() == sorted((row >= 0).tolist(), reverse=True)  # pad last
            assert marks.tolist() == [i >= 0 and i in starts for i in row]
            jumps = np.nonzero(np.diff(valid) != 1)[0] + 1
            assert all(valid[j] in starts for j in jumps)
        batches = list(loader.batches(epoch))
        assert sum(b.num_frames for b in batches) == corpus.num_frames
        assert all(tuple(b.reset.shape) == (index.shape[1], chunk) for b in batches)


def test_packed_schedule_pads_under_five_percent_and_make_loader_packs_for_lstmp():
    rng = np.random.default_rng(4)
    corpus = _corpus(rng.integers(20, 80, size=600).tolist())
    model = build_model(ModelSpec("lstm", 1, 8, 4, splice=0), 3, 5)
    loader = make_loader(corpus, model, 256, 32, 20, True, 7)
    assert loader.pack
    index, _ = loader._chunk_schedule(1)
    assert (index < 0).mean() < 0.05
    unpacked = ChunkedSequenceLoader(corpus, [0], 32, 20, seed=7)._chunk_schedule(1)[0]
    assert (unpacked < 0).mean() > 0.1  # what packing removes
    gru = build_model(ModelSpec("gru", 1, 8, splice=0), 3, 5)
    assert not make_loader(corpus, gru, 256, 32, 20, True, 7).pack


def test_same_parameter_names_and_initialisation_as_torch_lstm():
    torch.manual_seed(5)
    ref = nn.LSTM(7, 16, 2, batch_first=True, proj_size=4)
    torch.manual_seed(5)
    ours = LSTMPStack(7, 16, 2, 4)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for a, b in zip(ours.state_dict().values(), ref.state_dict().values(), strict=True):
        assert torch.equal(a, b)
