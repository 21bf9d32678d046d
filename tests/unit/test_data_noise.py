"""Noise copies of data dirs (perturb-data-dir --noise-dir), the mixing make-feats applies, and
copy-ali (the clean alignments as the noisy copies' targets)."""

from __future__ import annotations

import re
import shutil

import kaldiio
import numpy as np
import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.combine import combine_data_dirs
from asrkt.data.config import NoiseConfig
from asrkt.data.datadir import DataDir, write_data_dir
from asrkt.data.noise import mix_at_snr, noise_segment, read_noise_mixes
from asrkt.data.perturb import perturb_noise, perturb_vtln
from asrkt.data.subset import subset_data_dir
from asrkt.data.validate import validate_data_dir
from asrkt.errors import AsrktError
from asrkt.io.tables import read_table
from asrkt.nnet.targets import PdfAlignments
from tests.helpers.datadirs import generated_data_dir, synthetic_wav
from tests.helpers.synthetic_nnet import make_synthetic_corpus


def noise_dir(root, rate=8000, seconds=(0.3, 1.5, 2.0)):
    """A noise data dir of white-ish noise clips (one shorter than the utterances)."""
    (root / "wav").mkdir(parents=True, exist_ok=True)
    wav = {}
    for i, length in enumerate(seconds):
        wav[f"n{i}"] = str(synthetic_wav(root / "wav" / f"n{i}.wav", length, rate, seed=10 + i))
    write_data_dir(root, wav_scp=wav, text={u: "x" for u in wav}, utt2spk={u: u for u in wav})
    return root


def lines(path):
    return dict(line.split(maxsplit=1) for line in path.read_text().splitlines())


def test_noise_copy_files_ids_and_draws(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=4)
    noise = noise_dir(tmp_path / "noise")
    copy = perturb_noise(src, tmp_path / "c2", noise,
                         NoiseConfig(snr_min=5, snr_max=15, seed=3, copy=2))
    originals = DataDir(src).utterances
    assert copy.utterances == [f"noise2-{u}" for u in originals]
    assert set(copy.spk2utt) == {"noise2-spk0", "noise2-spk1"}
    assert lines(copy.file("utt2uniq")) == {f"noise2-{u}": u for u in originals}
    assert copy.wav_scp["noise2-spk0-utt0"] == DataDir(src).wav_scp["spk0-utt0"]
    assert validate_data_dir(copy.path) == []
    durations = {"n0": 0.3, "n1": 1.5, "n2": 2.0}
    drawn = {u: v.split() for u, v in lines(copy.file("utt2noise")).items()}
    assert sorted(drawn) == copy.utterances
    for clip, offset, snr in drawn.values():
        assert 0 <= float(offset) <= durations[clip] and 5 <= float(snr) <= 15
    assert len({snr for _, _, snr in drawn.values()}) == 4  # drawn, not constant
    assert lines(copy.file("noise_wav.scp")) == {
        n: DataDir(noise).wav_scp[n] for n in {clip for clip, _, _ in drawn.values()}}
    # the same seed and copy number: the same files; another copy number: other draws
    again = perturb_noise(src, tmp_path / "again", noise,
                          NoiseConfig(snr_min=5, snr_max=15, seed=3, copy=2))
    assert again.file("utt2noise").read_text() == copy.file("utt2noise").read_text()
    other = perturb_noise(src, tmp_path / "c1", noise,
                          NoiseConfig(snr_min=5, snr_max=15, seed=3, copy=1))
    assert [v for v in lines(other.file("utt2noise")).values()] != list(lines(
        copy.file("utt2noise")).values())
    # both copies combine with the original; make-feats then finds every copy's noise
    both = combine_data_dirs(tmp_path / "all", [src, copy.path, other.path])
    assert validate_data_dir(both.path) == []
    mixes, wav = read_noise_mixes(both)
    assert len(mixes) == 8 and "spk0-utt0" not in mixes and set(wav) <= set(durations)
    # a subset keeps its copies' noise (and only the clips they name)
    subset_data_dir(both.path, tmp_path / "sub", ["spk0-utt0", "noise2-spk1-utt1"])
    sub_mixes, sub_wav = read_noise_mixes(DataDir(tmp_path / "sub"))
    assert lines(tmp_path / "sub" / "utt2noise") == {
        "noise2-spk1-utt1": lines(both.file("utt2noise"))["noise2-spk1-utt1"]}
    assert lines(tmp_path / "sub" / "noise_wav.scp") == sub_wav == {
        mixes["noise2-spk1-utt1"].noise: wav[mixes["noise2-spk1-utt1"].noise]}


def test_noise_copy_refusals(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    noise = noise_dir(tmp_path / "noise")
    copy = perturb_noise(src, tmp_path / "c", noise)
    with pytest.raises(AsrktError, match="already a noise copy"):
        perturb_noise(copy.path, tmp_path / "again", noise)
    with pytest.raises(AsrktError, match="is a noise copy"):
        perturb_vtln(copy.path, tmp_path / "warped", 0.9)
    with pytest.raises(AsrktError, match="perturb-data-dir: snr_min must be <= snr_max"):
        perturb_noise(src, tmp_path / "bad", noise, NoiseConfig(snr_min=10, snr_max=5))
    # noise on a warped copy keeps its warp factors
    warped = perturb_vtln(src, tmp_path / "w", 1.1)
    both = perturb_noise(warped.path, tmp_path / "wn", noise)
    assert lines(both.file("spk2warp")) == {"noise1-vtlp1.1-spk0": "1.1",
                                            "noise1-vtlp1.1-spk1": "1.1"}


def test_mix_reaches_the_drawn_snr():
    rng = np.random.default_rng(0)
    signal = (3000 * np.sin(np.arange(8000) / 7.0)).astype(np.float32)
    noise = (500 * rng.standard_normal(8000)).astype(np.float32)
    for snr in (-5.0, 0.0, 7.3, 20.0):
        added = mix_at_snr(signal, noise, snr) - signal
        measured = 10 * np.log10(np.sum(signal.astype(np.float64) ** 2)
                                 / np.sum(added.astype(np.float64) ** 2))
        assert abs(measured - snr) < 0.1, (snr, measured)


def test_noise_segment_offsets_tiles_and_resamples():
    clip = np.arange(10, dtype=np.float32)
    # offset 0.3 s at 10 Hz: from sample 3 on, wrapping to the start (tiled)
    np.testing.assert_array_equal(noise_segment(clip, 10, 0.3, 14, 10),
                                  [3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6])
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    down = noise_segment(tone, 16000, 0.0, 8000, 8000)
    assert down.shape == (8000,) and abs(np.abs(np.fft.rfft(down)).argmax() - 440) <= 1


def make_feats(data, feat_dir):
    result = CliRunner().invoke(cli, ["make-feats", "--type", "fbank", "--dither", "0",
                                      str(data), str(feat_dir)])
    assert result.exit_code == 0, result.output
    return {u: m for u, m in kaldiio.load_scp(str(data / "feats.scp")).items()}


def test_cli_noise_copy_then_make_feats(tmp_path):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    noise = noise_dir(tmp_path / "noise", rate=16000)  # resampled to the utterances' 8 kHz
    result = CliRunner().invoke(cli, ["perturb-data-dir", "--noise-dir", str(noise),
                                      "--snr-max", "5", str(src), str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    clean = make_feats(src, tmp_path / "fc")
    noisy = make_feats(tmp_path / "n", tmp_path / "fn")
    ark = sorted((tmp_path / "fn").glob("raw_fbank_n.*.ark"))[0].read_bytes()
    shutil.copytree(tmp_path / "n", tmp_path / "n2", ignore=shutil.ignore_patterns("feats.scp"))
    again = make_feats(tmp_path / "n2", tmp_path / "fn2")
    assert sorted((tmp_path / "fn2").glob("raw_fbank_n2.*.ark"))[0].read_bytes() == ark
    for utt in clean:
        assert noisy[f"noise1-{utt}"].shape == clean[utt].shape
        assert not np.allclose(noisy[f"noise1-{utt}"], clean[utt], atol=0.1)
        np.testing.assert_array_equal(noisy[f"noise1-{utt}"], again[f"noise1-{utt}"])


@pytest.mark.parametrize("utt2noise, message", [
    ("noise1-spk0-utt0 n0 0.1\n", r"utt2noise:1 \(noise1-spk0-utt0\): expected '<utt> <noise-id>"),
    ("noise1-spk0-utt0 n0 0.1 5\nnoise1-spk1-utt1 nX 0 5\n",
     r"utt2noise:2 \(noise1-spk1-utt1\): noise 'nX' is not in .*noise_wav.scp"),
    ("noise1-spk0-utt0 n0 -1 5\n", r"utt2noise:1 \(noise1-spk0-utt0\): offset must be"),
    ("noise1-spk0-utt9 n0 0 5\n", r"utt2noise:1 \(noise1-spk0-utt9\): not an utterance"),
])
def test_make_feats_rejects_bad_noise_lines(tmp_path, utt2noise, message):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    noise = noise_dir(tmp_path / "noise")
    copy = perturb_noise(src, tmp_path / "n", noise)
    shutil.copyfile(noise / "wav.scp", copy.file("noise_wav.scp"))  # n0 n1 n2
    copy.file("utt2noise").write_text(utt2noise)
    result = CliRunner().invoke(cli, ["make-feats", str(copy.path), str(tmp_path / "f")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "asrkt make-feats: error: " in result.output
    assert re.search(message, result.output), result.output
    assert not copy.has("feats.scp")


def test_copy_ali_gives_copies_their_originals_alignment(tmp_path):
    data, ali = make_synthetic_corpus(tmp_path / "syn", num_utts=6)
    source = DataDir(data)
    # a noise copy of the synthetic data dir (its features copied: copy-ali reads no audio)
    copy = tmp_path / "copy"
    copy.mkdir()
    prefix = "noise1-"
    for name in ("feats.scp", "utt2num_frames", "text", "utt2spk"):
        entries = lines(source.file(name))
        (copy / name).write_text("".join(
            f"{prefix}{k} {prefix + v if name == 'utt2spk' else v}\n"
            for k, v in entries.items()))
    (copy / "utt2uniq").write_text("".join(f"{prefix}{u} {u}\n" for u in source.utterances))
    both = combine_data_dirs(tmp_path / "both", [data, copy])
    result = CliRunner().invoke(cli, ["copy-ali", str(both.path), str(ali), str(tmp_path / "ali2")])
    assert result.exit_code == 0, result.output
    src_ali, dst_ali = PdfAlignments(ali).load(), PdfAlignments(tmp_path / "ali2").load()
    assert sorted(dst_ali) == both.utterances
    for utt in source.utterances:
        np.testing.assert_array_equal(dst_ali[utt], src_ali[utt])
        np.testing.assert_array_equal(dst_ali[prefix + utt], src_ali[utt])
    counts = PdfAlignments(tmp_path / "ali2").counts
    np.testing.assert_array_equal(counts, 2 * PdfAlignments(ali).counts)
    # a trainer takes the copied directory as it takes align + ali-to-pdf output
    assert CliRunner().invoke(cli, ["compute-cmvn", str(both.path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["train-teacher", str(both.path), str(tmp_path / "ali2"),
                                      str(tmp_path / "dnn"), "--max-epochs", "1", "--device",
                                      "cpu", "--num-threads", "1", "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    # an utterance whose original has no alignment: one error naming it
    kept = [(k, v) for k, v in read_table(ali / "pdf.scp") if k != source.utterances[1]]
    from asrkt.io.tables import write_table

    shutil.copytree(ali, tmp_path / "ali_missing")
    write_table(tmp_path / "ali_missing" / "pdf.ark", tmp_path / "ali_missing" / "pdf.scp",
                dict(kept))
    result = CliRunner().invoke(cli, ["copy-ali", str(both.path), str(tmp_path / "ali_missing"),
                                      str(tmp_path / "ali3")])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    missing = source.utterances[1]
    assert re.search(rf"asrkt copy-ali: error: .*pdf.scp: no alignment of '{missing}' for "
                     rf"utterance '(noise1-)?{missing}'", result.output), result.output


def test_speech_commands_silence_clips_as_noise(speech_commands_dir, tmp_path):
    clips = sorted((speech_commands_dir / "_silence_").glob("*.flac"))[:3]
    if not clips:
        pytest.skip(f"no _silence_ clips in {speech_commands_dir}")
    write_data_dir(tmp_path / "noise", wav_scp={c.stem: str(c) for c in clips},
                   text={c.stem: "x" for c in clips}, utt2spk={c.stem: c.stem for c in clips})
    src = generated_data_dir(tmp_path / "src", 16000, count=2, seconds=1.2)
    copy = perturb_noise(src, tmp_path / "n", tmp_path / "noise",
                         NoiseConfig(snr_min=0, snr_max=0))
    mixes, noise_wav = read_noise_mixes(copy)
    from asrkt.data.noise import NoiseMixer
    from asrkt.io.audio import read_audio

    mixer = NoiseMixer(mixes, noise_wav, "utt2noise")
    for utt, samples, rate in copy.iter_audio():
        added = mixer(utt, samples, rate) - samples  # 1.2 s utterance: the 1 s clip is tiled
        clip, _ = read_audio(noise_wav[mixes[utt].noise])
        assert added.shape == samples.shape and np.any(clip)
        assert abs(10 * np.log10(np.sum(samples.astype(np.float64) ** 2)
                                 / np.sum(added.astype(np.float64) ** 2))) < 0.1


@pytest.mark.parametrize("args, message", [
    ([], "give exactly one of --vtln-warp and --noise-dir"),
    (["--vtln-warp", "0.9", "--noise-dir", "NOISE"], "give exactly one of --vtln-warp and "
                                                     "--noise-dir"),
    (["--vtln-warp", "0.9", "--seed", "2", "--snr-max", "5"],
     "--snr-min, --snr-max, --seed, --copy and --config: only with --noise-dir, not with "
     "--vtln-warp"),
    (["--noise-dir", "NOISE", "--snr-min", "30"],
     "command line: snr_min must be <= snr_max, got 30 > 20 dB"),
    (["--noise-dir", "NOISE", "--snr-max", "nan"], "snr_max"),
    (["--noise-dir", "NOISE", "--copy", "0"], "copy"),
])
def test_cli_perturb_option_errors(tmp_path, args, message):
    src = generated_data_dir(tmp_path / "src", 8000, count=2)
    noise = noise_dir(tmp_path / "noise")
    args = [str(noise) if a == "NOISE" else a for a in args]
    result = CliRunner().invoke(cli, ["perturb-data-dir", *args, str(src), str(tmp_path / "p")])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith("asrkt perturb-data-dir: error: ") and message in \
        result.output, result.output
    assert not (tmp_path / "p").exists()
