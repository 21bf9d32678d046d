"""make_optimizer: torch's fused Adam/SGD kernels where available, the same updates as the
per-operation implementation within float rounding; the trainer's step without torch._dynamo
(the same updates bit for bit, and a training command that never imports it); the DNN's
in-place sigmoid."""

import subprocess
import sys

import pytest
import torch

from asrkt.nnet.config import TrainConfig
from asrkt.nnet.models import ModelSpec, build_model
from asrkt.nnet.trainer import _plain_step, make_optimizer


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


@pytest.mark.parametrize("name,fused", [("adam", True), ("adam", False), ("sgd", True),
                                        ("sgd", False)])
def test_plain_step_is_the_optimizers_step_bit_for_bit(name, fused):
    torch.manual_seed(0)
    models = [build_model(ModelSpec("dnn", 2, 16, splice=1), 4, 5) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
    extra = {} if name == "adam" else {"momentum": 0.9}
    opts = [cls(m.parameters(), lr=0.01, weight_decay=1e-4, fused=fused, **extra) for m in models]
    plain = _plain_step(opts[1])
    assert plain is not None
    x, y = torch.randn(64, 12), torch.randint(0, 5, (64,))
    for _ in range(10):
        for net, opt, step in zip(models, opts, (opts[0].step, plain)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x)[0], y).backward()
            step()
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)
    assert not any(p.grad is not None and p.grad.requires_grad for p in models[1].parameters())


def test_plain_step_declines_hooks_and_differentiable_optimisers():
    model = build_model(ModelSpec("dnn", 1, 8, splice=0), 3, 4)
    hooked = torch.optim.Adam(model.parameters(), lr=0.01)
    hooked.register_step_post_hook(lambda *args: None)
    assert _plain_step(hooked) is None
    differentiable = torch.optim.SGD(model.parameters(), lr=0.01, differentiable=True)
    assert _plain_step(differentiable) is None


def test_a_training_command_does_not_import_torch_dynamo(tmp_path):
    """torch.optim imports torch._dynamo (1.6 s of each command's start here) in its first
    step and bookkeeping calls; the trainer's step and optimiser set-up avoid it."""
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    data, ali = make_synthetic_corpus(tmp_path / "corpus")[:2]
    code = ("import sys; from asrkt.cli.main import main; sys.argv = ['asrkt'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('torch._dynamo' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, "train-teacher", "--cmvn", "utterance",
                          "--max-epochs", "2", "--hidden-dim", "8", "--num-layers", "1",
                          "--num-threads", "1",
                          str(data), str(ali), str(tmp_path / "exp")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["False", "True"]
    assert (tmp_path / "exp" / "final.pt").exists()


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
