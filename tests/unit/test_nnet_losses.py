"""KT loss: equals CE against soft targets, closed-form gradient = autograd of the KL form,
reduces to hard CE for one-hot targets."""

import pytest
import torch
import torch.nn.functional as F

from asrkt.nnet.losses import LossSpec, soft_target_loss, training_loss


def _data(rows=7, pdfs=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(rows, pdfs, generator=g, dtype=torch.float64) * 2
    targets = torch.softmax(torch.randn(rows, pdfs, generator=g, dtype=torch.float64), dim=-1)
    return logits, targets


def test_kt_loss_at_t1_is_cross_entropy_against_soft_targets():
    logits, targets = _data()
    expected = -(targets * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    assert torch.allclose(soft_target_loss(logits, targets, 1.0).double(), expected, atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 5.0])
def test_kt_gradient_matches_autograd_of_kl(temperature):
    logits, targets = _data(seed=1)
    mine = logits.clone().float().requires_grad_(True)
    soft_target_loss(mine, targets.float(), temperature).backward()
    ref = logits.clone().requires_grad_(True)
    log_p = F.log_softmax(ref / temperature, dim=-1)
    kl = (targets * (targets.log() - log_p)).sum(dim=-1).mean() * temperature ** 2
    kl.backward()
    assert torch.allclose(mine.grad.double(), ref.grad, atol=1e-6)


def test_kt_loss_with_one_hot_targets_is_hard_ce():
    logits, _ = _data(seed=2)
    pdfs = torch.tensor([0, 1, 2, 3, 4, 0, 1])
    one_hot = F.one_hot(pdfs, 5).double()
    assert torch.allclose(soft_target_loss(logits, one_hot, 1.0).double(),
                          F.cross_entropy(logits, pdfs), atol=1e-6)
    a = logits.clone().float().requires_grad_(True)
    soft_target_loss(a, one_hot.float()).backward()
    b = logits.clone().float().requires_grad_(True)
    F.cross_entropy(b, pdfs).backward()
    assert torch.allclose(a.grad, b.grad, atol=1e-6)


def test_interpolated_loss_and_accuracy():
    logits, targets = _data(seed=3)
    pdfs = targets.argmax(dim=-1)
    spec = LossSpec(hard_weight=0.3, soft_weight=0.7, temperature=2.0)
    loss, correct = training_loss(logits.float(), {"pdf": pdfs, "soft": targets.float()}, spec)
    expected = 0.3 * F.cross_entropy(logits, pdfs) + 0.7 * soft_target_loss(logits, targets, 2.0)
    assert torch.allclose(loss.double(), expected.double(), atol=1e-5)
    assert int(correct) == int((logits.argmax(-1) == pdfs).sum())


def _sparse(targets):
    """All pdfs as [N, P] ids + weights, in a shuffled column order per row."""
    rows, pdfs = targets.shape
    g = torch.Generator().manual_seed(4)
    ids = torch.stack([torch.randperm(pdfs, generator=g) for _ in range(rows)])
    return ids, targets.gather(1, ids)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_sparse_kt_loss_and_gradient_with_all_pdfs_equal_the_dense_path(temperature):
    from asrkt.nnet.losses import sparse_target_loss

    logits, targets = _data(seed=5)
    ids, weights = _sparse(targets.float())
    dense = logits.clone().float().requires_grad_(True)
    sparse = logits.clone().float().requires_grad_(True)
    a = soft_target_loss(dense, targets.float(), temperature)
    b = sparse_target_loss(sparse, ids.int(), weights, temperature)
    a.backward()
    b.backward()
    assert torch.allclose(a, b, atol=1e-6)
    assert torch.allclose(dense.grad, sparse.grad, atol=1e-7)


def test_sparse_kt_loss_with_top_k_and_padding_equals_dense_rows_with_zeros():
    from asrkt.nnet.losses import sparse_target_loss

    logits, targets = _data(seed=6)
    weights, ids = targets.float().topk(2, dim=-1)
    weights = weights / weights.sum(-1, keepdim=True)
    ids = torch.cat([ids, torch.zeros_like(ids[:, :1])], 1)  # a padding column (weight 0)
    weights = torch.cat([weights, torch.zeros_like(weights[:, :1])], 1)
    dense_targets = torch.zeros_like(targets.float()).scatter_(1, ids[:, :2], weights[:, :2])
    dense = logits.clone().float().requires_grad_(True)
    sparse = logits.clone().float().requires_grad_(True)
    soft_target_loss(dense, dense_targets, 2.0).backward()
    sparse_target_loss(sparse, ids, weights, 2.0).backward()
    assert torch.allclose(dense.grad, sparse.grad, atol=1e-7)
    spec = LossSpec(hard_weight=0.0, soft_weight=1.0, temperature=2.0)
    loss_d, hits_d = training_loss(logits.float(), {"soft": dense_targets}, spec)
    loss_s, hits_s = training_loss(logits.float(), {"soft_ids": ids, "soft_weights": weights},
                                   spec)
    assert torch.allclose(loss_d, loss_s, atol=1e-6) and int(hits_d) == int(hits_s)


def test_interpolated_loss_with_sparse_soft_targets_equals_the_dense_one():
    logits, targets = _data(seed=7)
    pdfs = targets.argmax(dim=-1)
    ids, weights = _sparse(targets.float())
    spec = LossSpec(hard_weight=0.4, soft_weight=0.6, temperature=3.0)
    dense, _ = training_loss(logits.float(), {"pdf": pdfs, "soft": targets.float()}, spec)
    sparse, hits = training_loss(logits.float(), {"pdf": pdfs, "soft_ids": ids.int(),
                                                  "soft_weights": weights}, spec)
    assert torch.allclose(dense, sparse, atol=1e-6)
    assert int(hits) == int((logits.argmax(-1) == pdfs).sum())
