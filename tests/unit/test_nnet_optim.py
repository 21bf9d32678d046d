"""make_optimizer: torch's fused Adam/SGD kernels where available, the same updates as the
per-operation implementation within float rounding; the DNN's in-place sigmoid."""

import pytest
import torch

from asrkt.nnet.config import TrainConfig
from asrkt.nnet.models import ModelSpec, build_model
from asrkt.nnet.trainer import make_optimizer


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_fused_optimizer_updates_equal_the_plain_ones(name):
    settings = TrainConfig(optimizer=name, learning_rate=0.01, l2_penalty=1e-4)
    torch.manual_seed(0)
    model = build_model(ModelSpec("dnn", 2, 16, splice=1), 4, 5)
    plain = build_model(ModelSpec("dnn", 2, 16, splice=1), 4, 5)
    plain.load_state_dict(model.state_dict())
    start = model.hidden[0].weight.detach().clone()
    fast = make_optimizer(model, settings)
    assert fast.defaults.get("fused")  # CPU float32 parameters: the fused kernels
    cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
    extra = {} if name == "adam" else {"momentum": settings.momentum}
    slow = cls(plain.parameters(), lr=0.01, weight_decay=1e-4, foreach=False, **extra)
    x, y = torch.randn(64, 12), torch.randint(0, 5, (64,))
    for _ in range(20):
        for net, opt in ((model, fast), (plain, slow)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x)[0], y).backward()
            opt.step()
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert (model.hidden[0].weight - start).abs().max() > 1e-5  # the updates did something


def test_dnn_forward_equals_linear_then_sigmoid():
    torch.manual_seed(1)
    model = build_model(ModelSpec("dnn", 2, 8, splice=0), 3, 4)
    x = torch.randn(5, 3, requires_grad=True)
    h = x
    for layer in model.hidden:
        h = torch.sigmoid(torch.nn.functional.linear(h, layer.weight, layer.bias))
    expected = model.output(h)
    logits, _ = model(x)
    torch.testing.assert_close(logits, expected, atol=0, rtol=0)
    g1 = torch.autograd.grad(logits.sum(), [x, *model.parameters()])
    g2 = torch.autograd.grad(expected.sum(), [x, *model.parameters()])
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
