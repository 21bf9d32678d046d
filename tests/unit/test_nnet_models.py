"""Model registry, shapes, LSTMP projection, chunked state carrying, target delay."""

import pytest
import torch

from asrkt.errors import AsrktError
from asrkt.nnet.models import ModelSpec, available, build_model


def test_registry_has_all_students():
    assert {"dnn", "lstm", "blstm", "gru", "bgru", "rnn", "brnn"} <= set(available())
    with pytest.raises(AsrktError, match="unknown model 'tdnn'"):
        build_model(ModelSpec("tdnn"), 4, 3)


@pytest.mark.parametrize("name", ["lstm", "blstm", "gru", "bgru", "rnn", "brnn"])
def test_recurrent_models_shapes(name):
    model = build_model(ModelSpec(name, 2, 8, 4, splice=1, target_delay=2), 5, 7)
    assert model.recurrent and model.spliced_dim == 15
    logits, state = model(torch.randn(3, 6, 15))
    assert logits.shape == (3, 6, 7)
    padded, _ = model(torch.randn(3, 6, 15), lengths=torch.tensor([6, 2, 4]))
    assert padded.shape == (3, 6, 7)


def test_lstmp_uses_projection_and_offsets():
    model = build_model(ModelSpec("lstm", 2, 16, 6, splice=0, target_delay=3), 4, 5)
    assert model.rnn.proj_size == 6 and model.output.in_features == 6
    assert model.input_offsets() == [3]
    bi = build_model(ModelSpec("blstm", 1, 16, 0, splice=1, target_delay=3), 4, 5)
    assert bi.input_offsets() == [-1, 0, 1] and bi.output.in_features == 32


def test_dnn_shapes_and_offsets():
    model = build_model(ModelSpec("dnn", 2, 10, splice=5), 3, 4)
    assert model.input_offsets() == list(range(-5, 6))
    logits, state = model(torch.randn(9, 33))
    assert logits.shape == (9, 4) and state is None


def test_nnet1_weight_init_draws_as_make_nnet_proto():
    """Kaldi nnet1's prototype: N(0, 3.5 sqrt(2 / (fan-in + fan-out))) weights (the first
    layer's / sqrt(12)), hidden biases U(-4, 0), output biases 0; the same seed, the same draw."""
    import math

    torch.manual_seed(3)
    model = build_model(ModelSpec("dnn", 2, 300, splice=5), 40, 200)
    model.init_like_nnet1()
    layers = list(model.hidden) + [model.output]
    for k, layer in enumerate(layers):
        out_dim, in_dim = layer.weight.shape
        expected = 3.5 * math.sqrt(2.0 / (in_dim + out_dim)) / (math.sqrt(12.0) if k == 0 else 1)
        assert abs(layer.weight.std().item() / expected - 1) < 0.02, (k, expected)
        assert abs(layer.weight.mean().item()) < 0.05 * expected
    for layer in model.hidden:
        assert -4.0 <= layer.bias.min() < -3.9 and -0.1 < layer.bias.max() <= 0.0
    assert torch.equal(model.output.bias, torch.zeros(200))
    torch.manual_seed(3)
    again = build_model(ModelSpec("dnn", 2, 300, splice=5), 40, 200)
    again.init_like_nnet1()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))


def test_nnet1_weight_init_is_for_a_dnn():
    from asrkt.nnet.config import TeacherConfig
    from asrkt.nnet.steps import _initial_model

    with pytest.raises(AsrktError, match="--weight-init nnet1 is for --model dnn, not 'lstm'"):
        _initial_model(TeacherConfig(model="lstm", num_layers=1, hidden_dim=8,
                                     weight_init="nnet1"), 4, 3, None, None, "")
    # on a DBN: the RBMs' hidden layers kept, the output layer drawn as nnet1's
    dbn = {"layers": [{"weight": torch.ones(300, 12), "hid_bias": torch.ones(300)}], "splice": 1}
    torch.manual_seed(0)
    model = _initial_model(TeacherConfig(weight_init="nnet1"), 4, 100, None, dbn, "dbn.pt")
    assert torch.equal(model.hidden[0].weight, torch.ones(300, 12))
    assert torch.equal(model.hidden[0].bias, torch.ones(300))
    std = 3.5 * (2.0 / 400) ** 0.5
    assert abs(model.output.weight.std().item() / std - 1) < 0.05
    assert torch.equal(model.output.bias, torch.zeros(100))
    with pytest.raises(AsrktError, match="--weight-init nnet1 draws a new model: not with --init"):
        _initial_model(TeacherConfig(weight_init="nnet1"), 4, 100, model, None, "")


def test_chunked_state_carry_equals_whole_sequence():
    torch.manual_seed(0)
    model = build_model(ModelSpec("lstm", 2, 8, 4, splice=0), 3, 5).eval()
    x = torch.randn(2, 12, 3)
    whole, _ = model(x)
    state, parts = None, []
    for k in range(0, 12, 5):
        out, state = model(x[:, k:k + 5], state=state, reset=torch.tensor([k == 0, k == 0]))
        parts.append(out)
    assert torch.allclose(torch.cat(parts, 1), whole, atol=1e-6)
    # reset of one stream = fresh start for that stream only
    out, _ = model(x[:, :5], state=state, reset=torch.tensor([True, False]))
    assert torch.allclose(out[0], whole[0, :5], atol=1e-6)
    assert not torch.allclose(out[1], whole[1, :5], atol=1e-3)
