"""Our fbank/MFCC equal the Kaldi-exact C++ reference (kaldi-native-fbank) within 1e-3 relative."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from asrkt.feats.extract import FeatConfig, compute_features

knf = pytest.importorskip("kaldi_native_fbank")


def reference(samples: np.ndarray, rate: int, config: FeatConfig) -> np.ndarray:
    """kaldi-native-fbank with the same options."""
    if config.type == "fbank":
        opts = knf.FbankOptions()
        opts.use_energy = bool(config.use_energy)
    else:
        opts = knf.MfccOptions()
        opts.num_ceps = config.num_ceps
        opts.use_energy = True if config.use_energy is None else config.use_energy
        opts.cepstral_lifter = config.cepstral_lifter
    opts.frame_opts.samp_freq = rate
    opts.frame_opts.dither = 0.0
    opts.frame_opts.frame_shift_ms = config.frame_shift
    opts.frame_opts.frame_length_ms = config.frame_length
    opts.frame_opts.snip_edges = config.snip_edges
    opts.mel_opts.num_bins = config.num_mel_bins
    opts.mel_opts.low_freq = config.low_freq
    opts.mel_opts.high_freq = config.high_freq
    computer = knf.OnlineFbank(opts) if config.type == "fbank" else knf.OnlineMfcc(opts)
    computer.accept_waveform(rate, samples)
    computer.input_finished()
    return np.stack([computer.get_frame(i) for i in range(computer.num_frames_ready)])


def assert_close(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape
    scale = np.maximum(np.abs(ref), 1.0)  # relative, with an absolute floor near zero
    assert np.max(np.abs(ours - ref) / scale) < 1e-3


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
@pytest.mark.parametrize("rate", [8000, 16000])
def test_generated_signals_match_reference(kind, rate):
    rng = np.random.default_rng(rate)
    t = np.arange(int(1.3 * rate)) / rate
    samples = (8000 * np.sin(2 * np.pi * 440 * t)
               + 300 * rng.standard_normal(t.size)).astype(np.float32)
    config = FeatConfig(type=kind, dither=0.0, num_mel_bins=23 if rate == 8000 else 40)
    assert_close(compute_features(samples, rate, config, "u"), reference(samples, rate, config))


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
def test_fsdd_recordings_match_reference(fsdd_dir, kind):
    config = FeatConfig(type=kind, dither=0.0)
    for name in ["0_george_0", "3_jackson_17", "7_lucas_40", "9_theo_49", "5_nicolas_2"]:
        samples, rate = soundfile.read(fsdd_dir / "recordings" / f"{name}.wav", dtype="int16")
        samples = samples.astype(np.float32)
        assert rate == 8000
        assert_close(compute_features(samples, rate, config, name),
                     reference(samples, rate, config))


def test_resampling_to_16k_gives_16k_frames():
    rate = 8000
    samples = (1000 * np.random.default_rng(0).standard_normal(rate)).astype(np.float32)
    config = FeatConfig(dither=0.0, sample_frequency=16000.0, num_mel_bins=40)
    feats = compute_features(samples, rate, config, "u")
    assert feats.shape == (98, 40)  # 1 s at 16 kHz, 25 ms / 10 ms frames, snip_edges


def test_dither_is_deterministic_per_utterance():
    samples = np.zeros(4000, dtype=np.float32)  # digital silence: dither keeps log energies finite
    config = FeatConfig()
    a = compute_features(samples, 8000, config, "utt-a")
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, compute_features(samples, 8000, config, "utt-a"))
    assert not np.array_equal(a, compute_features(samples, 8000, config, "utt-b"))
