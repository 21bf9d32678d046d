"""make-feats / compute-cmvn / data-dir commands: real invocations and bad input."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.datadir import write_data_dir
from tests.helpers.datadirs import fsdd_data_dir, generated_data_dir, synthetic_wav


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, *fragments):
    """Exit status 1 and exactly one 'error:' line containing every fragment."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "error:" in line]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def no_outputs(data: Path, feat_dir: Path):
    assert not (data / "feats.scp").exists() and not (data / "utt2num_frames").exists()
    assert not list(feat_dir.glob("*.ark")) and not list(feat_dir.glob(".*.tmp"))


@pytest.mark.parametrize("rate", [8000, 16000])
def test_make_feats_nj_identical_and_readable(tmp_path, rate):
    data = generated_data_dir(tmp_path / "data", rate, count=5)
    shutil.copytree(data, tmp_path / "data2")
    assert run("make-feats", "--nj", 1, data, tmp_path / "f1").exit_code == 0
    assert run("make-feats", "--nj", 3, "--type", "fbank", tmp_path / "data2",
               tmp_path / "f3").exit_code == 0
    assert len(list((tmp_path / "f3").glob("raw_fbank_data2.*.ark"))) == 3
    one = dict(kaldiio.load_scp(str(data / "feats.scp")))
    three = dict(kaldiio.load_scp(str(tmp_path / "data2" / "feats.scp")))
    assert sorted(one) == sorted(three) and len(one) == 5
    for utt in one:
        np.testing.assert_array_equal(one[utt], three[utt])
    frames = dict(line.split()
                  for line in (data / "utt2num_frames").read_text().splitlines())
    assert all(int(frames[u]) == one[u].shape[0] for u in one)
    # Kaldi rspecifier syntax over our output
    with kaldiio.ReadHelper(f"scp:{data / 'feats.scp'}") as reader:
        assert len(list(reader)) == 5
    ark = sorted((tmp_path / "f1").glob("*.ark"))[0]
    with kaldiio.ReadHelper(f"ark,s,cs:{ark}") as reader:
        keys = [k for k, _ in reader]
    assert keys == sorted(one)
    assert run("validate-data-dir", data).exit_code == 0



def test_make_feats_also_extracts_each_data_dir_as_alone(tmp_path):
    """--also: the extra data dirs get what a call of their own gives them (archives named after
    each dir in the one FEAT_DIR, feats.scp, a log and options file each); two dirs of the same
    name, or an --also dir that is not there, stop it with one line before anything is written."""
    a = generated_data_dir(tmp_path / "a", 16000, count=3)
    b = generated_data_dir(tmp_path / "b", 16000, count=2)
    shutil.copytree(b, tmp_path / "solo" / "b")
    assert run("make-feats", "--type", "mfcc", "--also", b, a, tmp_path / "f").exit_code == 0
    assert run("make-feats", "--type", "mfcc", tmp_path / "solo" / "b",
               tmp_path / "fsolo").exit_code == 0
    together = dict(kaldiio.load_scp(str(b / "feats.scp")))
    alone = dict(kaldiio.load_scp(str(tmp_path / "solo" / "b" / "feats.scp")))
    assert sorted(together) == sorted(alone) and len(together) == 2
    for utt in alone:
        np.testing.assert_array_equal(together[utt], alone[utt])
    assert len(dict(kaldiio.load_scp(str(a / "feats.scp")))) == 3
    for name in ("a", "b"):
        assert (tmp_path / "f" / f"raw_mfcc_{name}.1.ark").is_file()
        assert (tmp_path / "f" / f"mfcc_{name}.yaml").is_file()
        assert (tmp_path / "f" / "log" / f"make_mfcc_{name}.log").is_file()
    twin = generated_data_dir(tmp_path / "x" / "a", 16000, count=2)
    one_line_error(run("make-feats", "--also", twin, a, tmp_path / "g"),
                   "would both write", "raw_fbank_a.*", "separate FEAT_DIRs")
    no_outputs(twin, tmp_path / "g")
    missing = run("make-feats", "--also", tmp_path / "nowhere", twin, tmp_path / "h")
    assert missing.exit_code != 0 and "nowhere" in missing.output
    no_outputs(twin, tmp_path / "h")

def test_make_feats_compressed_and_mfcc(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=3)
    plain = tmp_path / "plain"
    shutil.copytree(data, plain)
    assert run("make-feats", "--type", "mfcc", "--compress", data, tmp_path / "m").exit_code == 0
    assert run("make-feats", "--type", "mfcc", plain, tmp_path / "p").exit_code == 0
    comp = dict(kaldiio.load_scp(str(data / "feats.scp")))
    ref = dict(kaldiio.load_scp(str(plain / "feats.scp")))
    for utt in ref:
        assert comp[utt].shape == ref[utt].shape == (ref[utt].shape[0], 13)
        span = ref[utt].max(axis=0) - ref[utt].min(axis=0)
        assert np.all(np.abs(comp[utt] - ref[utt]) <= 0.01 * span + 1e-3)
    assert (tmp_path / "m").stat().st_size > 0
    assert (tmp_path / "m" / "mfcc_data.yaml").exists()


def test_make_feats_config_file_and_unknown_key(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    (tmp_path / "fbank.yaml").write_text("num_mel_bins: 15\ndither: 0.0\n")
    assert run("make-feats", "--config", tmp_path / "fbank.yaml", data,
               tmp_path / "f").exit_code == 0
    feats = dict(kaldiio.load_scp(str(data / "feats.scp")))
    assert all(m.shape[1] == 15 for m in feats.values())
    (tmp_path / "bad.yaml").write_text("num_mel_binz: 15\n")
    one_line_error(run("make-feats", "--config", tmp_path / "bad.yaml", data, tmp_path / "g"),
                   "bad.yaml", "num_mel_binz")


def test_make_feats_kaldi_flags_override_the_config_file(tmp_path):
    """make-feats takes every extraction option as a flag (as compute-fbank-feats): defaults <
    --config YAML < flags, and the resolved options are saved."""
    import yaml

    from asrkt.feats.config import FeatConfig

    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    (tmp_path / "fbank.yaml").write_text("num_mel_bins: 15\ndither: 1.0\nlow_freq: 40\n")
    assert run("make-feats", "--config", tmp_path / "fbank.yaml", "--dither", "0",
               "--num-mel-bins", "17", "--no-snip-edges", data, tmp_path / "f").exit_code == 0
    saved = yaml.safe_load((tmp_path / "f" / "fbank_data.yaml").read_text())
    assert saved == dataclasses.asdict(FeatConfig(num_mel_bins=17, dither=0.0, low_freq=40.0,
                                                  snip_edges=False))
    first = dict(kaldiio.load_scp(str(data / "feats.scp")))
    assert all(m.shape[1] == 17 for m in first.values())
    assert run("make-feats", "--config", tmp_path / "fbank.yaml", "--dither", "0",
               "--num-mel-bins", "17", "--no-snip-edges", data, tmp_path / "f2").exit_code == 0
    again = dict(kaldiio.load_scp(str(data / "feats.scp")))
    assert all(np.array_equal(first[u], again[u]) for u in first)  # dither 0: no randomness


@pytest.mark.parametrize("args, yaml_text, message", [
    (["--num-mel-bins", "0"], None, "command line: 'num_mel_bins' must be an integer >= 3, got 0"),
    ([], "num_mel_bins: 0\n", "bad.yaml:1: 'num_mel_bins' must be an integer >= 3, got 0"),
    (["--dither", "nan"], None, "'dither' must be a finite number >= 0, got nan"),
    (["--frame-shift", "-10"], None, "'frame_shift' must be a finite number > 0, got -10.0"),
    ([], "1: 2\n", "bad.yaml:1: keys must be option names, got 1"),
    ([], "- num_mel_bins\n", "bad.yaml: expected a mapping"),
    (["--type", "mfcc", "--num-ceps", "30"], None, "num_ceps must be in 1..num_mel_bins (23)"),
])
def test_make_feats_bad_options_are_one_line_errors(tmp_path, args, yaml_text, message):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    if yaml_text is not None:
        (tmp_path / "bad.yaml").write_text(yaml_text)
        args = ["--config", tmp_path / "bad.yaml", *args]
    one_line_error(run("make-feats", *args, data, tmp_path / "f"), "asrkt make-feats: error: ",
                   message)
    no_outputs(data, tmp_path / "f")


def test_make_feats_binary_config_file(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    (tmp_path / "bin.yaml").write_bytes(bytes(range(256)))
    one_line_error(run("make-feats", "--config", tmp_path / "bin.yaml", data, tmp_path / "f"),
                   "bin.yaml: not a")
    no_outputs(data, tmp_path / "f")


def test_compute_cmvn_kaldi_format(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=4, speakers=2)
    run("make-feats", data, tmp_path / "f")
    result = run("compute-cmvn", data)
    assert result.exit_code == 0, result.output
    feats = dict(kaldiio.load_scp(str(data / "feats.scp")))
    cmvn = dict(kaldiio.load_scp(str(data / "cmvn.scp")))
    assert sorted(cmvn) == ["spk0", "spk1"]
    mats = np.concatenate([feats[u] for u in feats if u.startswith("spk1")]).astype(np.float64)
    stats = cmvn["spk1"]
    assert stats.shape == (2, mats.shape[1] + 1) and stats.dtype == np.float64
    np.testing.assert_allclose(stats[0, :-1], mats.sum(0), rtol=1e-6)
    np.testing.assert_allclose(stats[1, :-1], (mats ** 2).sum(0), rtol=1e-6)
    assert stats[0, -1] == mats.shape[0] and stats[1, -1] == 0


def test_fsdd_features_and_cmvn(fsdd_dir, tmp_path):
    data = fsdd_data_dir(fsdd_dir, tmp_path / "fsdd", indices=[0, 1], digits=[0, 5])
    assert run("make-feats", "--nj", 2, data, tmp_path / "fbank").exit_code == 0
    assert run("compute-cmvn", data).exit_code == 0
    assert run("validate-data-dir", data).exit_code == 0
    feats = dict(kaldiio.load_scp(str(data / "feats.scp")))
    assert len(feats) == 20 and all(m.shape[1] == 23 for m in feats.values())


# ---- bad input: one line, exit 1, nothing half-written -------------------------------------

def test_missing_wav(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=3)
    (tmp_path / "data" / "wav" / "spk1-utt1.wav").unlink()
    one_line_error(run("make-feats", "--nj", 2, data, tmp_path / "f"), "wav.scp", "spk1-utt1",
                   "does not exist")
    no_outputs(data, tmp_path / "f")


@pytest.mark.parametrize("content", [b"", b"RIFF garbage that is not audio"])
def test_unreadable_or_empty_wav(tmp_path, content):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    (tmp_path / "data" / "wav" / "spk0-utt0.wav").write_bytes(content)
    one_line_error(run("make-feats", data, tmp_path / "f"), "spk0-utt0")
    no_outputs(data, tmp_path / "f")


def test_nan_in_audio(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    samples = np.zeros(4000, dtype=np.float32)
    samples[100] = np.nan
    soundfile.write(tmp_path / "data" / "wav" / "spk1-utt1.wav", samples, 8000, subtype="FLOAT")
    one_line_error(run("make-feats", data, tmp_path / "f"), "spk1-utt1", "NaN")
    no_outputs(data, tmp_path / "f")


def test_utterance_shorter_than_one_frame(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    soundfile.write(tmp_path / "data" / "wav" / "spk0-utt0.wav", np.ones(150, np.int16), 8000)
    one_line_error(run("make-feats", data, tmp_path / "f"), "spk0-utt0", "shorter than one frame")
    no_outputs(data, tmp_path / "f")


def test_unsorted_and_duplicate_keys(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=3)
    lines = (data / "utt2spk").read_text().splitlines()
    (data / "utt2spk").write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n")
    one_line_error(run("make-feats", data, tmp_path / "f"), "utt2spk:2", "not sorted")
    (data / "utt2spk").write_text("\n".join([lines[0], lines[0], lines[1], lines[2]]) + "\n")
    one_line_error(run("make-feats", data, tmp_path / "f"), "utt2spk:2", "duplicate")
    no_outputs(data, tmp_path / "f")


def test_segments_past_end_of_file(tmp_path):
    wav = synthetic_wav(tmp_path / "rec.wav", 2.0, 8000)
    data = write_data_dir(tmp_path / "data", wav_scp={"rec1": str(wav)},
                          text={"rec1-a": "ONE", "rec1-b": "TWO"},
                          utt2spk={"rec1-a": "rec1", "rec1-b": "rec1"},
                          segments={"rec1-a": "rec1 0.0 1.0", "rec1-b": "rec1 1.0 3.5"}).path
    one_line_error(run("make-feats", data, tmp_path / "f"), "segments", "rec1-b", "past the end")
    no_outputs(data, tmp_path / "f")
    # small overshoot: kept
    (data / "segments").write_text("rec1-a rec1 0.0 1.0\nrec1-b rec1 1.0 2.3\n")
    assert run("make-feats", data, tmp_path / "f").exit_code == 0
    feats = dict(kaldiio.load_scp(str(data / "feats.scp")))
    assert feats["rec1-a"].shape[0] == 98 and feats["rec1-b"].shape[0] == 98


def test_wav_scp_pipe(tmp_path):
    data = generated_data_dir(tmp_path / "data", 8000, count=2)
    plain = tmp_path / "plain"
    shutil.copytree(data, plain)
    assert run("make-feats", plain, tmp_path / "p").exit_code == 0
    wav = dict(line.split(maxsplit=1)
               for line in (data / "wav.scp").read_text().splitlines())
    (data / "wav.scp").write_text("".join(f"{k} cat {v} |\n" for k, v in sorted(wav.items())))
    assert run("make-feats", data, tmp_path / "f").exit_code == 0
    piped = dict(kaldiio.load_scp(str(data / "feats.scp")))
    direct = dict(kaldiio.load_scp(str(plain / "feats.scp")))
    assert sorted(piped) == sorted(direct) == sorted(wav)
    for utt in direct:  # the pipe's bytes are the file's: the same features
        np.testing.assert_array_equal(piped[utt], direct[utt])
    (data / "wav.scp").write_text("".join(f"{k} cat {v}.missing |\n"
                                          for k, v in sorted(wav.items())))
    one_line_error(run("make-feats", data, tmp_path / "g"), "exited with status")
