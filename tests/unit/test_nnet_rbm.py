"""CD-1 on real FSDD features lowers the reconstruction error; the Gaussian-RBM guard."""

from pathlib import Path

import numpy as np
import pytest
import torch

from asrkt.nnet.rbm import (
    RBM,
    SharedCD1,
    bernoulli_vis_bias,
    cd1_step,
    momentum_at,
    train_rbm_epoch,
)


@pytest.fixture(scope="module")
def fsdd_spliced(fsdd_dir: Path) -> torch.Tensor:
    """Spliced (±2), globally normalised fbank frames of 12 FSDD recordings."""
    import soundfile
    import torchaudio.compliance.kaldi as kaldi

    files = sorted((fsdd_dir / "recordings").glob("*_jackson_*.wav"))[:12]
    mats = []
    for path in files:
        samples, rate = soundfile.read(path, dtype="float32")
        wave = torch.from_numpy(samples * 32768.0)[None]
        feats = kaldi.fbank(wave, sample_frequency=rate, num_mel_bins=23, dither=0.0,
                            energy_floor=1.0)
        padded = torch.cat([feats[:1]] * 2 + [feats] + [feats[-1:]] * 2)
        mats.append(torch.cat([padded[k:k + len(feats)] for k in range(5)], dim=1))
    data = torch.cat(mats)
    return (data - data.mean(0)) / data.std(0)


def _epochs(rbm, data, epochs, seed=0):
    errors = []
    for epoch in range(epochs):
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(data)))
        gen = torch.Generator().manual_seed(epoch)
        stats = train_rbm_epoch(rbm, lambda idx: data[idx], lambda x: x, order, 100, gen,
                                (0.5, 0.9), len(data), 0.0002)
        errors.append(stats["recon_mse"])
    return errors


def test_cd1_lowers_reconstruction_error_on_fsdd(fsdd_spliced):
    data = fsdd_spliced
    gen = torch.Generator().manual_seed(0)
    gauss = RBM.initial(data.shape[1], 64, "gaussian", 0.01, gen)
    errors = _epochs(gauss, data, 4)
    assert errors[-1] < 0.8 * errors[0], errors
    hidden = gauss.propagate(data)
    bern = RBM.initial(64, 32, "bernoulli", 0.4, gen,
                       vis_bias=bernoulli_vis_bias(hidden.mean(0)))
    errors = _epochs(bern, hidden, 4)
    assert errors[-1] < errors[0], errors


def test_gaussian_weight_explosion_guard():
    gen = torch.Generator().manual_seed(0)
    rbm = RBM.initial(10, 20, "gaussian", 0.01, gen, stddev=5.0)
    data = torch.randn(50, 10, generator=gen)
    before = rbm.weight.clone()
    cd1_step(rbm, data, gen, 0.5, 0.0)
    assert rbm.learning_rate == pytest.approx(0.009)
    scale = float(rbm.weight.norm() / before.norm())
    assert scale < 0.5 and torch.allclose(rbm.weight, before * scale, atol=1e-5)
    assert rbm.frames_seen == 0  # the update itself was skipped


def test_momentum_ramp():
    assert momentum_at(0, 0.5, 0.9, 100) == 0.5
    assert momentum_at(50, 0.5, 0.9, 100) == pytest.approx(0.7)
    assert momentum_at(1000, 0.5, 0.9, 100) == 0.9


# buffer_frames 60: the features streamed in blocks of about two utterances
@pytest.mark.parametrize("stop_after,buffer_frames", [(1, 0), (2, 0), (2, 60)])
def test_pretrain_rbm_resume_gives_the_same_dbn(tmp_path, monkeypatch, stop_after,
                                                buffer_frames):
    import asrkt.nnet.dbn as dbn
    from asrkt.nnet.config import RBMConfig
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    data, _ = make_synthetic_corpus(tmp_path / "corpus", num_utts=6, dim=5)
    config = RBMConfig(device="cpu", cmvn="utterance", nn_depth=2, hid_dim=8, splice=1,
                       batch_size=16, buffer_frames=buffer_frames)
    dbn.pretrain_rbm(config, data, tmp_path / "a")
    original = dbn.save_torch

    def interrupt(obj, path):
        original(obj, path)
        if path.name == f"epoch-{stop_after}.pt":
            raise KeyboardInterrupt

    monkeypatch.setattr(dbn, "save_torch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        dbn.pretrain_rbm(config, data, tmp_path / "b")
    monkeypatch.setattr(dbn, "save_torch", original)
    dbn.pretrain_rbm(config, data, tmp_path / "b", resume=True)
    a = torch.load(tmp_path / "a" / "final.pt", weights_only=True)["layers"]
    b = torch.load(tmp_path / "b" / "final.pt", weights_only=True)["layers"]
    assert len(a) == len(b) == 2
    for x, y in zip(a, b):
        assert all(torch.equal(x[k], y[k]) for k in ("weight", "vis_bias", "hid_bias"))


def test_pretrain_rbm_streaming_one_block_equals_in_memory(tmp_path):
    import asrkt.nnet.dbn as dbn
    from asrkt.nnet.config import RBMConfig
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    data, _ = make_synthetic_corpus(tmp_path / "corpus", num_utts=6, dim=5)
    layers = {}
    for buffer in (0, 10 ** 6, 60):
        config = RBMConfig(device="cpu", cmvn="utterance", nn_depth=2, hid_dim=8, splice=1,
                           batch_size=16, buffer_frames=buffer)
        dbn.pretrain_rbm(config, data, tmp_path / str(buffer))
        layers[buffer] = torch.load(tmp_path / str(buffer) / "final.pt",
                                    weights_only=True)["layers"]

    def same(a, b):
        return all(torch.equal(x[k], y[k]) for x, y in zip(a, b)
                   for k in ("weight", "vis_bias", "hid_bias"))

    assert same(layers[0], layers[10 ** 6])
    assert not same(layers[0], layers[60])  # other blocks, other order: trained all the same
    history = (tmp_path / "60" / "train.jsonl").read_text().splitlines()
    assert len(history) == 3 and all("recon_mse" in line for line in history)


def _copy(rbm):
    return RBM.from_state({k: v.clone() if torch.is_tensor(v) else v
                           for k, v in rbm.state().items()})


@pytest.mark.parametrize("vis_type,stddev", [("gaussian", 0.1), ("bernoulli", 0.1),
                                             ("gaussian", 5.0)])  # 5.0: the guard fires
def test_shared_cd1_of_two_ranks_is_the_step_on_both_batches(vis_type, stddev):
    """Data-parallel CD-1 (SharedCD1): rank A's batch plus rank B's, statistics summed, gives
    the update of one step on the two batches together (same hidden samples: CPU draws of
    one generator concatenate); a rank without a batch adds nothing."""
    gen = torch.Generator().manual_seed(1)
    rbm = RBM.initial(10, 16, vis_type, 0.05, gen, stddev=stddev)
    data = torch.randn(40, 10, generator=gen)
    if vis_type == "bernoulli":
        data = torch.sigmoid(data)
    one, two = _copy(rbm), _copy(rbm)
    cd1_step(one, data, torch.Generator().manual_seed(7), 0.5, 0.001)
    gen_a, gen_b = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    torch.rand(24, 16, generator=gen_b)  # rank B's samples follow rank A's 24 frames
    other = SharedCD1.statistics(two, data[24:], gen_b)
    shared = SharedCD1(lambda t: t + other)
    assert shared.step(two, data[:24], gen_a, 0.5, 0.001) == 40
    for name in ("weight", "vis_bias", "hid_bias", "weight_corr", "learning_rate",
                 "frames_seen"):
        a, b = getattr(one, name), getattr(two, name)
        assert (torch.allclose(a, b, atol=1e-5) if torch.is_tensor(a) else a == b), name
    assert (two.learning_rate < 0.05) == (stddev > 1)  # the guard fired where meant to
    idle = SharedCD1(lambda t: t)
    before = two.weight.clone()
    assert idle.step(two, None, gen_a, 0.5, 0.001) == 0 and torch.equal(two.weight, before)
