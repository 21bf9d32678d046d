"""The synthetic digits corpus: determinism, layout, speakers, SNRs, dictionary (tiny corpora)."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asrkt.corpora import espeak
from asrkt.corpora.noise import active_power, add_noise, make_noise, pink_noise, snr_db
from asrkt.corpora.synth_digits import (
    LEXICON,
    WORDS,
    SynthDigitsConfig,
    generate_corpus,
    noisy_set_name,
    plan_corpus,
    read_wav_int16,
)
from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError

TINY = dict(num_train_speakers=2, num_test_speakers=2, utts_per_speaker=2,
            test_utts_per_speaker=2, snrs=[20, 5, 0], babble_speakers=3, babble_talkers=2)


def tiny_config(**changes) -> SynthDigitsConfig:
    return SynthDigitsConfig(**{**TINY, **changes})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    generate_corpus(out, tiny_config(seed=3), nj=1)
    return out


def all_files(root: Path):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()
                  and "log" not in p.parts)


def test_same_seed_same_bytes_whatever_nj(corpus, tmp_path):
    other = tmp_path / "corpus_nj2"
    generate_corpus(other, tiny_config(seed=3), nj=2)
    files = all_files(corpus)
    assert files == all_files(other)
    assert len([f for f in files if f.suffix == ".wav"]) == 4 + 4 + 4 * 9 + 9
    for rel in files:
        if rel.name == "wav.scp":  # absolute paths differ; the entries must not otherwise
            a = (corpus / rel).read_text().replace(str(corpus.resolve()), "ROOT")
            assert a == (other / rel).read_text().replace(str(other.resolve()), "ROOT")
        else:
            assert filecmp.cmp(corpus / rel, other / rel, shallow=False), rel


def test_other_seed_other_audio(corpus, tmp_path):
    other = tmp_path / "seed4"
    generate_corpus(other, tiny_config(seed=4, num_test_speakers=0, utts_per_speaker=1), nj=1)
    a = read_wav_int16(corpus / "wav/train/trn01-000.wav")
    b = read_wav_int16(other / "wav/train/trn01-000.wav")
    assert len(a) != len(b) or not np.array_equal(a, b)


def test_data_dirs_and_transcripts_match_plan(corpus):
    plan = plan_corpus(tiny_config(seed=3))
    expected_sets = {"train", "test_clean"} | {noisy_set_name(k, s) for k in
                                               ("white", "pink", "babble") for s in (20, 5, 0)}
    assert {p.name for p in (corpus / "data").iterdir()} == expected_sets | {"local"}
    train, test = DataDir(corpus / "data/train"), DataDir(corpus / "data/test_clean")
    assert train.text == {u.id: list(u.words) for u in plan.train}
    assert test.text == {u.id: list(u.words) for u in plan.test}
    for utt, words in {**train.text, **test.text}.items():
        assert 1 <= len(words) <= 7 and set(words) <= set(WORDS)
        assert utt.startswith(train.utt2spk.get(utt, test.utt2spk.get(utt)) + "-")
    noisy = DataDir(corpus / "data" / noisy_set_name("babble", 0))
    assert noisy.text == test.text and noisy.utt2spk == test.utt2spk
    for utt, path in noisy.wav_scp.items():
        assert Path(path).is_absolute() and Path(path).exists()
        assert f"/{noisy_set_name('babble', 0)}/{utt}.wav" in path


def test_speakers_disjoint(corpus):
    train = set(DataDir(corpus / "data/train").spk2utt)
    test = set(DataDir(corpus / "data/test_clean").spk2utt)
    assert train and test and not train & test
    rows = [line.split("\t") for line in (corpus / "speakers.tsv").read_text().splitlines()[1:]]
    variants = {role: {r[3] for r in rows if r[1] == role} for role in ("train", "test", "babble")}
    assert not variants["train"] & variants["test"]
    assert not variants["babble"] & (variants["train"] | variants["test"])
    assert len({(r[2], r[3]) for r in rows}) == len(rows)


def test_wav_format_and_noise_floor(corpus):
    wav = corpus / "wav"
    for path in sorted(wav.glob("test_clean/*.wav")) + sorted(wav.glob("train/*.wav")):
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
        samples = read_wav_int16(path).astype(np.float64)
        frames = samples[: len(samples) // 200 * 200].reshape(-1, 200)
        assert (frames ** 2).sum(axis=1).min() > 0, f"{path} has a digitally silent frame"
        assert np.abs(samples).max() < 32767 * 0.6
        assert len(samples) > 0.3 * 8000


@pytest.mark.parametrize("kind", ["white", "pink", "babble"])
def test_noisy_copies_have_nominal_snr(corpus, kind):
    for utt_path in sorted((corpus / "wav/test_clean").glob("*.wav")):
        clean = read_wav_int16(utt_path).astype(np.float64)
        for snr in (20, 5, 0):
            noisy = read_wav_int16(corpus / "wav" / noisy_set_name(kind, snr) / utt_path.name)
            assert len(noisy) == len(clean)
            measured = snr_db(clean, noisy - clean, 8000)
            assert abs(measured - snr) <= 0.5, (kind, snr, utt_path.name, measured)


def test_dictionary_and_lm(corpus):
    lexicon = [line.split() for line in
               (corpus / "data/local/dict/lexicon.txt").read_text().splitlines()]
    words = {entry[0]: entry[1:] for entry in lexicon}
    assert set(words) == set(WORDS) | {"<SIL>", "<UNK>"} and words["<SIL>"] == ["SIL"]
    assert words["SEVEN"] == LEXICON["SEVEN"].split()
    nonsil = (corpus / "data/local/dict/nonsilence_phones.txt").read_text().split()
    sil = (corpus / "data/local/dict/silence_phones.txt").read_text().split()
    assert (corpus / "data/local/dict/optional_silence.txt").read_text().split() == ["SIL"]
    assert "SIL" in sil and not set(sil) & set(nonsil)
    assert {p for pron in words.values() for p in pron} == set(nonsil) | set(sil)
    arpa = (corpus / "data/local/lm/unigram.arpa").read_text()
    probs = [10 ** float(line.split("\t")[0]) for line in arpa.splitlines()
             if "\t" in line and not line.endswith("<s>")]
    assert "ngram 1=13" in arpa and len(probs) == 12 and abs(sum(probs) - 1) < 1e-4
    assert (corpus / "data/local/lm/words.txt").read_text().split() == sorted(WORDS)


def test_skip_if_done_resume_and_config_mismatch(corpus, tmp_path):
    stamp = os.stat(corpus / "data/train/text").st_mtime_ns
    summary = generate_corpus(corpus, tiny_config(seed=3), nj=1)
    assert summary.skipped and summary.sets["train"]["utterances"] == 4
    assert os.stat(corpus / "data/train/text").st_mtime_ns == stamp
    with pytest.raises(AsrktError, match="another config"):
        generate_corpus(corpus, tiny_config(seed=5), nj=1)
    # an interrupted run: no done marker, one wav missing -> resumed, same bytes
    out = tmp_path / "resume"
    config = tiny_config(seed=3, num_train_speakers=1, num_test_speakers=0)
    generate_corpus(out, config)
    wav = out / "wav/train/trn01-001.wav"
    original = wav.read_bytes()
    wav.unlink()
    (out / ".done").unlink()
    assert not generate_corpus(out, config).skipped
    assert wav.read_bytes() == original and (out / ".done").exists()
    assert not list(out.rglob("*.tmp"))


@pytest.mark.parametrize("changes, message", [
    (dict(noise_types=["white", "brown"]), "unknown noise type"),
    (dict(min_digits=3, max_digits=2), "min_digits"),
    (dict(num_train_speakers=0, num_test_speakers=0), "at least one"),
    (dict(babble_talkers=9), "babble_talkers"),
    (dict(rate=[200, 100]), "rate"),
])
def test_bad_config_is_one_line_error(changes, message, tmp_path):
    with pytest.raises(AsrktError, match=message):
        generate_corpus(tmp_path / "x", tiny_config(**changes))
    assert not (tmp_path / "x").exists()


def test_noise_generators():
    rng = np.random.default_rng(0)
    white = make_noise("white", 80000, rng)
    assert abs(np.mean(white ** 2) - 1) < 0.02
    pink = pink_noise(2 ** 16, np.random.default_rng(1))
    spectrum = np.abs(np.fft.rfft(pink)) ** 2
    low, high = spectrum[100:200].mean(), spectrum[1600:3200].mean()
    assert 9 < 10 * np.log10(low / high) < 15  # 1/f: 4 octaves ~ 12 dB
    speech = np.sin(np.arange(8000) / 5.0) * np.r_[np.ones(4000), np.zeros(4000)]
    mixed = add_noise(speech, white[:8000], 7.0, 8000)
    assert abs(snr_db(speech, mixed - speech, 8000) - 7.0) < 1e-9
    assert abs(active_power(speech, 8000) - 0.5) < 0.01  # the silent half does not count
    with pytest.raises(AsrktError, match="talkers"):
        make_noise("babble", 100, rng, [np.ones(50)], babble_talkers=2)


def test_espeak_deterministic_and_errors():
    voice = espeak.VoiceSettings("en-us", "m3", 50, 50, 175, 1)
    with espeak.SynthesisServer() as server:
        a = server.synthesize("one two", voice, 7)
        b = server.synthesize("one two", voice, 7)
        with pytest.raises(AsrktError, match="unknown eSpeak voice"):
            server.synthesize("one", espeak.VoiceSettings("xx-nowhere", "m3", 50, 50, 175, 1), 1)
        assert np.array_equal(server.synthesize("one two", voice, 7), a)
    assert server.sample_rate == 22050 and a.dtype == np.int16 and len(a) > 0.3 * 22050
    assert np.array_equal(a, b) and np.array_equal(a, espeak.synthesize("one two", voice, 7))
    variants = espeak.list_variants()
    assert len(variants) > 50 and "m3" in variants
    assert not {"whisper", "whisperf", "UniRobot", "robosoft", "Demonic"} & set(variants)


def test_interrupted_run_leaves_no_partial_files_and_resumes(tmp_path, monkeypatch):
    from asrkt.corpora import synth_digits

    config = tiny_config(seed=9, num_test_speakers=0, utts_per_speaker=3)
    real, calls = synth_digits.render_clean, []

    def failing(utt, cfg, synth):
        calls.append(utt.id)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(utt, cfg, synth)

    monkeypatch.setattr(synth_digits, "render_clean", failing)
    out = tmp_path / "c"
    with pytest.raises(KeyboardInterrupt):
        generate_corpus(out, config, nj=1)
    assert len(list((out / "wav/train").glob("*.wav"))) == 3
    assert not list(out.rglob("*.tmp")) and not (out / ".done").exists()
    assert not (out / "data/train/text").exists()
    monkeypatch.setattr(synth_digits, "render_clean", real)
    summary = generate_corpus(out, config, nj=1)
    assert summary.sets["train"]["utterances"] == 6 and (out / ".done").exists()


def test_plan_without_noisy_sets_has_no_babble_speakers():
    plan = plan_corpus(tiny_config(noise_types=[]))
    assert not plan.babble and {s.role for s in plan.speakers} == {"train", "test"}
    more = plan_corpus(tiny_config(noise_types=[], num_train_speakers=5))
    assert [u.words for u in more.test] == [u.words for u in plan.test]  # test set kept
    assert [s.voice for s in more.speakers if s.role == "test"] == \
        [s.voice for s in plan.speakers if s.role == "test"]
