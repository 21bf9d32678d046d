"""Batched inference (``forward``, ``dump-posteriors``): several utterances per model call give
the same outputs, in the same order, as one utterance per call."""

import numpy as np
import pytest
import torch

from asrkt.errors import AsrktError
from asrkt.io.posterior import read_posteriors
from asrkt.io.tables import read_table
from asrkt.nnet import inference
from asrkt.nnet.inference import batch_logits, length_groups, utterance_logits
from asrkt.nnet.models import ModelSpec, build_model

MODELS = {
    "dnn": ModelSpec("dnn", num_layers=2, hidden_dim=16, splice=2),
    "lstm": ModelSpec("lstm", num_layers=2, hidden_dim=12, proj_dim=6, splice=1, target_delay=3),
    "blstm": ModelSpec("blstm", num_layers=2, hidden_dim=8, proj_dim=4, splice=1),
    "gru": ModelSpec("gru", num_layers=1, hidden_dim=8, splice=0, target_delay=2),
}


def _model(name, dim=5, num_pdfs=7):
    torch.manual_seed(0)
    return build_model(MODELS[name], dim, num_pdfs).eval()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_batch_logits_equal_one_utterance_per_call(name):
    model = _model(name)
    rng = np.random.default_rng(1)
    lengths = [1, 2, 4, 17, 30, 3, 30, 9]  # shorter than the splice/delay context, equal lengths
    feats = [rng.normal(size=(n, 5)).astype(np.float32) for n in lengths]
    batched = batch_logits(model, feats, "cpu", [f"u{i}" for i in range(len(feats))])
    assert [tuple(x.shape) for x in batched] == [(n, 7) for n in lengths]
    for f, out in zip(feats, batched):
        torch.testing.assert_close(out, utterance_logits(model, f, "cpu"), atol=1e-5, rtol=1e-5)


def test_batch_logits_dimension_error_names_the_utterance():
    model = _model("lstm")
    feats = [np.zeros((4, 5), np.float32), np.zeros((6, 3), np.float32)]
    with pytest.raises(AsrktError, match="utterance 'b': model expects 5-dim"):
        batch_logits(model, feats, "cpu", ["a", "b"])


def test_length_groups_sort_and_bound_batches():
    lengths = [5, 1, 9, 3, 9, 2, 100]
    groups = length_groups(lengths, max_utts=3, max_frames=30)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert [[lengths[i] for i in g] for g in groups] == [[1, 2, 3], [5, 9, 9], [100]]
    assert all(len(g) * max(lengths[i] for i in g) <= 30 or len(g) == 1 for g in groups)
    with pytest.raises(AsrktError):
        length_groups(lengths, max_utts=0)


def _saved_model(tmp_path, name):
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
    from asrkt.nnet.modelio import model_payload
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    data, _ = make_synthetic_corpus(tmp_path / "corpus", num_utts=13, dim=5, num_pdfs=7,
                                    min_len=2, max_len=40)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="utterance", splice=0)).fit(DataDir(data))
    counts = torch.arange(1, 8, dtype=torch.float64)
    path = tmp_path / f"{name}.pt"
    torch.save(model_payload(_model(name), pipeline, counts, "test", {}), path)
    return path, data


@pytest.mark.parametrize("name", ["dnn", "lstm", "blstm"])
def test_forward_and_dump_posteriors_equal_one_utterance_per_call(tmp_path, monkeypatch, name):
    from asrkt.data.datadir import DataDir

    model_path, data = _saved_model(tmp_path, name)
    monkeypatch.setattr(inference, "READ_AHEAD", 5)  # several windows, several groups each
    outputs = {}
    for tag, per_call in (("batched", 3), ("single", 1)):
        monkeypatch.setattr(inference, "BATCH_UTTERANCES", per_call)
        inference.forward(model_path, data, tmp_path / tag / "ll", device="cpu")
        inference.dump_posteriors(model_path, data, tmp_path / tag / "post", temperature=2.0,
                                  top_k=3, device="cpu")
        outputs[tag] = {"ll": list(read_table(f"scp:{tmp_path / tag / 'll' / 'loglikes.scp'}")),
                        "post": [(u, p.to_dense(7)) for u, p in
                                 read_posteriors(tmp_path / tag / "post" / "post.scp")]}
    utts = DataDir(data).utterances
    for what in ("ll", "post"):
        batched, single = outputs["batched"][what], outputs["single"][what]
        assert [u for u, _ in batched] == [u for u, _ in single] == list(utts)
        for (_, a), (_, b) in zip(batched, single):
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
