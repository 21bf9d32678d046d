"""CD-1 on real FSDD features lowers the reconstruction error; the Gaussian-RBM guard."""

from pathlib import Path

import numpy as np
import pytest
import torch

from asrkt.nnet.rbm import RBM, bernoulli_vis_bias, cd1_step, momentum_at, train_rbm_epoch


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
