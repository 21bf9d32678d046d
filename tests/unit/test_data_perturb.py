"""VTLN perturbation of data dirs (perturb-data-dir), combine-data-dirs, warped features, and the
CV hold-out that keeps perturbed copies with their original."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.combine import combine_data_dirs
from asrkt.data.datadir import DataDir
from asrkt.data.perturb import perturb_vtln
from asrkt.data.subset import subset_data_dir
from asrkt.data.validate import validate_data_dir
from asrkt.data.warp import warp_factors
from asrkt.errors import AsrktError
from asrkt.feats.extract import FeatConfig, compute_features
from asrkt.nnet.corpus import split_holdout
from tests.helpers.datadirs import generated_data_dir


def test_perturbed_copy_prefixes_ids_and_maps_originals(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=4)
    copy = perturb_vtln(src, tmp_path / "p09", 0.9)
    assert copy.utterances == [f"vtlp0.9-{u}" for u in DataDir(src).utterances]
    assert set(copy.spk2utt) == {"vtlp0.9-spk0", "vtlp0.9-spk1"}
    assert (tmp_path / "p09" / "spk2warp").read_text() == "vtlp0.9-spk0 0.9\nvtlp0.9-spk1 0.9\n"
    uniq = dict(line.split() for line in (tmp_path / "p09" / "utt2uniq").read_text().splitlines())
    assert uniq == {f"vtlp0.9-{u}": u for u in DataDir(src).utterances}
    assert copy.wav_scp["vtlp0.9-spk0-utt0"] == DataDir(src).wav_scp["spk0-utt0"]
    assert validate_data_dir(copy.path) == []
    # a copy of a copy would stack warps: refused
    with pytest.raises(AsrktError, match="already has warp factors"):
        perturb_vtln(copy.path, tmp_path / "again", 1.1)
    with pytest.raises(AsrktError, match="not 1"):
        perturb_vtln(src, tmp_path / "one", 1.0)


def test_perturb_keeps_segments(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    (src / "segments").write_text("spk0-utt0 spk0-utt0 0 0.5\nspk1-utt1 spk1-utt1 0.1 0.6\n")
    copy = perturb_vtln(src, tmp_path / "p", 1.1)
    assert copy.segments["vtlp1.1-spk1-utt1"].recording == "vtlp1.1-spk1-utt1"
    assert copy.segments["vtlp1.1-spk1-utt1"].start == pytest.approx(0.1)
    assert validate_data_dir(copy.path) == []


def test_combine_unions_files_and_rejects_duplicate_ids(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=4)
    p09, p11 = perturb_vtln(src, tmp_path / "a", 0.9), perturb_vtln(src, tmp_path / "b", 1.1)
    both = combine_data_dirs(tmp_path / "all", [src, p09.path, p11.path])
    assert len(both.utterances) == 12
    assert validate_data_dir(both.path) == []
    warps = warp_factors(both)
    assert warps["spk0-utt0"] == 1.0 and warps["vtlp1.1-spk0-utt0"] == 1.1
    uniq = dict(line.split() for line in (both.path / "utt2uniq").read_text().splitlines())
    assert uniq["spk0-utt0"] == "spk0-utt0" and uniq["vtlp0.9-spk0-utt0"] == "spk0-utt0"
    # subsets carry utt2uniq and spk2warp along
    sub = tmp_path / "sub"
    subset_data_dir(both.path, sub, ["spk0-utt0", "vtlp0.9-spk0-utt0"])
    assert (sub / "spk2warp").read_text() == "spk0 1\nvtlp0.9-spk0 0.9\n"
    assert validate_data_dir(sub) == []
    with pytest.raises(AsrktError, match=r"\(spk0-utt0\): utterance also in"):
        combine_data_dirs(tmp_path / "dup", [src, both.path])


def test_cli_perturb_then_make_feats_warps(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    runner = CliRunner()
    result = runner.invoke(cli, ["perturb-data-dir", "--vtln-warp", "1.1", str(src),
                                 str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["make-feats", "--config", str(write_config(tmp_path)),
                                 str(tmp_path / "p"), str(tmp_path / "fb")])
    assert result.exit_code == 0, result.output
    import kaldiio

    from asrkt.io.audio import read_audio

    feats = dict(kaldiio.load_scp(str(tmp_path / "p" / "feats.scp")))
    samples, rate = read_audio(DataDir(src).wav_scp["spk0-utt0"])
    config = FeatConfig(dither=0.0)
    np.testing.assert_allclose(feats["vtlp1.1-spk0-utt0"],
                               compute_features(samples, rate, config, "x", warp=1.1), atol=1e-4)
    assert not np.allclose(feats["vtlp1.1-spk0-utt0"], compute_features(samples, rate, config, "x"))


def write_config(tmp_path):
    path = tmp_path / "fbank.yaml"
    path.write_text("type: fbank\ndither: 0.0\n")
    return path


def test_bad_warp_file_names_line(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    (src / "spk2warp").write_text("spk0 0.9\nspk1 abc\n")
    with pytest.raises(AsrktError, match=r"spk2warp:2 \(spk1\): warp factor 'abc'"):
        warp_factors(DataDir(src))
    (src / "spk2warp").write_text("spk0 0.9\n")
    with pytest.raises(AsrktError, match="no warp factor for speaker 'spk1'"):
        warp_factors(DataDir(src))


def test_warp_moves_a_tone_along_the_mel_axis():
    rate = 8000
    t = np.arange(rate) / rate
    tone = (8000 * np.sin(2 * np.pi * 1500 * t)).astype(np.float32)
    config = FeatConfig(dither=0.0)
    peak = {w: int(np.argmax(compute_features(tone, rate, config, "u", warp=w).mean(0)))
            for w in (0.85, 1.0, 1.15)}
    # Kaldi's warp maps frequency f to about w * f before the mel bins: a larger factor puts
    # the tone into a higher bin; the frame count never changes
    assert peak[0.85] < peak[1.0] < peak[1.15]
    assert compute_features(tone, rate, config, "u", warp=0.85).shape == \
        compute_features(tone, rate, config, "u").shape


def test_warped_mel_banks_are_kaldis():
    knf = pytest.importorskip("kaldi_native_fbank")
    import torchaudio.compliance.kaldi as tk

    config = FeatConfig()
    for warp in (0.9, 1.1):
        opts = knf.MelBanksOptions()
        opts.num_bins = config.num_mel_bins
        frame_opts = knf.FrameExtractionOptions()
        frame_opts.samp_freq = 8000
        ref = knf.MelBanks(opts, frame_opts, warp).get_matrix()
        ours, _ = tk.get_mel_banks(config.num_mel_bins, 256, 8000.0, config.low_freq,
                                   config.high_freq, config.vtln_low, config.vtln_high, warp)
        np.testing.assert_allclose(ours.numpy(), ref[:, :128], atol=1e-5)


def test_holdout_keeps_copies_with_their_original():
    originals = [f"u{i:02d}" for i in range(20)]
    utts = sorted(originals + [f"vtlp0.9-{u}" for u in originals])
    groups = {u: u.split("-")[-1] for u in utts}
    train, cv = split_holdout(utts, 0.1, seed=3, groups=groups)
    assert len(cv) == 4 and set(train) | set(cv) == set(utts)
    assert {groups[u] for u in cv}.isdisjoint(groups[u] for u in train)
    # without groups the split is the plain per-utterance one (unchanged by this feature)
    plain_train, plain_cv = split_holdout(originals, 0.1, seed=3)
    assert split_holdout(originals, 0.1, seed=3, groups={u: u for u in originals}) == \
        (plain_train, plain_cv)
