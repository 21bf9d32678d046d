"""speechocean762 data prep and LM helpers (asrkt.corpora.speechocean762): the dev rule, the
lexicon normalisation, the checks of a corpus folder (one error line, nothing written), the
vocabulary closure of an ARPA model, the perplexity report and the order rule."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from asrkt.corpora import speechocean762 as so
from asrkt.corpora.speech_commands import in_quarter
from asrkt.errors import AsrktError
from tests.helpers.speechocean762 import SPEAKERS, fake_speechocean762


def test_age_groups():
    assert [so.age_group(a) for a in (6, 12, 13, 17, 18, 43)] == \
        ["child", "child", "teen", "teen", "adult", "adult"]


def _speakers(strata):
    """speaker ids numbered across strata {(age, gender): n}."""
    spk2age, spk2gender, i = {}, {}, 0
    for (age, gender), n in strata.items():
        for _ in range(n):
            i += 7
            spk2age[f"{i:04d}"], spk2gender[f"{i:04d}"] = age, gender
    return spk2age, spk2gender


def test_dev_rule_takes_every_fifth_speaker_of_each_stratum():
    # the whole corpus's training speakers: adult f 41, adult m 26, child f 22, child m 30,
    # teen f 4, teen m 2 -> 9 + 6 + 5 + 6 + 1 + 1 = 28 of 125
    strata = {(30, "f"): 41, (20, "m"): 26, (8, "f"): 22, (6, "m"): 30, (14, "f"): 4,
              (16, "m"): 2}
    spk2age, spk2gender = _speakers(strata)
    dev = so.dev_speakers(spk2age, spk2gender)
    assert len(dev) == 28 and dev == sorted(dev)
    for (age, gender), n in strata.items():
        members = sorted(s for s in spk2age if spk2age[s] == age and spk2gender[s] == gender)
        assert [s for s in members if s in dev] == members[::5]
        assert len([s for s in members if s in dev]) == math.ceil(n / 5)
    # the order of the input does not matter; ages of one group are one stratum
    keys = list(spk2age)
    random.Random(1).shuffle(keys)
    assert so.dev_speakers({k: spk2age[k] for k in keys}, spk2gender) == dev
    spk2age2 = dict(spk2age, **{s: 35 for s in spk2age if spk2age[s] == 30})
    assert so.dev_speakers(spk2age2, spk2gender) == dev


def test_stress_removed_or_kept_and_mended():
    pron = ["K", "Y", "UH", "AH1", "R", "IH", "AH0", "S"]
    assert so.normalise_pron(pron) == ["K", "Y", "UH", "AH", "R", "IH", "AH", "S"]
    assert so.normalise_pron(pron, keep_stress=True) == ["K", "Y", "UH1", "AH1", "R", "IH0",
                                                        "AH0", "S"]
    assert so.normalise_pron(["D", "IH"], keep_stress=True) == ["D", "IH0"]   # none follows
    assert so.normalise_pron(["ER2", "HH"], keep_stress=True) == ["ER2", "HH"]
    lexicon = {"A": [["AH0"], ["AH1"], ["EY1"]], "B": [["B", "IY1"]]}
    assert so.normalise_lexicon(lexicon) == {"A": [["AH"], ["EY"]], "B": [["B", "IY"]]}
    assert so.normalise_lexicon(lexicon, keep_stress=True) == lexicon


def test_kept_stress_variants_share_a_root_and_stress_is_a_question(tmp_path):
    """Kaldi's WSJ arrangement: AH0 AH1 one root (the tree splits them where the data says),
    one extra question per stress digit; without stress the dict is one phone per root."""
    from asrkt.hmm.lang import prepare_lang

    lexicon = {"A": [["AH0"], ["AH1"], ["EY1"]], "B": [["B", "IY1"]], "C": [["S", "IY0"]]}
    so.write_dict(lexicon, tmp_path / "dict")
    assert (tmp_path / "dict" / "nonsilence_phones.txt").read_text().splitlines() == \
        ["AH0 AH1", "B", "EY1", "IY0 IY1", "S"]
    assert (tmp_path / "dict" / "extra_questions.txt").read_text().splitlines() == \
        ["AH0 IY0", "AH1 EY1 IY1", "B S", "SIL"]
    prepare_lang(tmp_path / "dict", tmp_path / "lang")
    roots = (tmp_path / "lang" / "phones" / "roots.txt").read_text().splitlines()
    assert "shared split AH0 AH1" in roots and "shared split IY0 IY1" in roots
    questions = (tmp_path / "lang" / "phones" / "extra_questions.txt").read_text().splitlines()
    assert "AH1 EY1 IY1" in questions
    so.write_dict(so.normalise_lexicon(lexicon), tmp_path / "dict")     # stress removed
    assert (tmp_path / "dict" / "nonsilence_phones.txt").read_text().splitlines() == \
        ["AH", "B", "EY", "IY", "S"]
    assert not (tmp_path / "dict" / "extra_questions.txt").exists()


def test_prepare_data_writes_train_dev_test(tmp_path):
    corpus = fake_speechocean762(tmp_path / "c")
    counts = so.prepare_data(corpus, tmp_path / "data")
    spk = {name: (tmp_path / "data" / name / "spk2utt").read_text().split("\n")
           for name in ("train", "dev", "test")}
    spk = {name: {line.split()[0] for line in lines if line} for name, lines in spk.items()}
    assert spk["dev"] == {"0001", "0010", "0020"}          # the 1st of each stratum
    assert spk["train"] == {"0002", "0011", "0012"}
    assert spk["test"] == {"0030"}
    assert counts["train"] == {"utterances": 6, "speakers": 3, "adult/f": 2, "child/m": 1}
    for line in (tmp_path / "data" / "dev" / "wav.scp").read_text().splitlines():
        utt, path = line.split()
        assert Path(path).is_absolute() and Path(path).is_file() and path.endswith(f"{utt}.WAV")
    assert (tmp_path / "data" / "dev" / "spk2age").read_text() == "0001 7\n0010 25\n0020 15\n"
    assert (tmp_path / "data" / "test" / "spk2gender").read_text() == "0030 f\n"
    assert "000010000 WE CLEAR A DAY\n" in (tmp_path / "data" / "dev" / "text").read_text()
    assert set(SPEAKERS) == spk["train"] | spk["dev"] | spk["test"]


def _break(corpus: Path, case: str) -> str:
    """Damage the corpus one way; the text the one error line must hold."""
    if case == "no WAVE":
        (corpus / "WAVE").rename(corpus / "wave")
        return "no WAVE/: not a speechocean762 folder"
    if case == "no test":
        (corpus / "test").rename(corpus / "tst")
        return "no test/"
    if case == "no lexicon":
        (corpus / "resource" / "lexicon.txt").unlink()
        return "no resource/lexicon.txt"
    if case == "word":
        text = corpus / "train" / "text"
        text.write_text(text.read_text().replace("GOOD DAY", "GOOD NIGHT", 1))
        return "word 'NIGHT' is not in"
    if case == "wav":
        (corpus / "WAVE" / "SPEAKER0030" / "000300001.WAV").write_bytes(b"RIFF1234WAVEjunk")
        return "000300001.WAV: unreadable WAV"
    if case == "missing wav":
        (corpus / "WAVE" / "SPEAKER0011" / "000110000.WAV").unlink()
        return "000110000.WAV: no such WAV"
    raise ValueError(case)


def test_quarter_list_is_speech_commands_rule(tmp_path):
    """The quarter condition's list: the utterances of the data dir that speech_commands'
    in_quarter keeps (one implementation), sorted; none kept is an error, nothing written."""
    train = tmp_path / "train"
    train.mkdir()
    utts = sorted(f"0{s}{n:04d}" for s in ("0001", "0010") for n in range(20))
    (train / "utt2spk").write_text("".join(f"{u} {u[1:5]}\n" for u in utts))
    out = tmp_path / "lists" / "train_quarter.list"
    kept, total = so.write_quarter_list(train, out)
    assert out.read_text().split() == [u for u in utts if in_quarter(u)]
    assert (kept, total) == (len(out.read_text().split()), 40) and 0 < kept < 40
    (train / "utt2spk").write_text("".join(f"{u} x\n" for u in utts if not in_quarter(u)))
    with pytest.raises(AsrktError, match="none of its .* utterances is in the quarter subset"):
        so.write_quarter_list(train, tmp_path / "other.list")
    assert not (tmp_path / "other.list").exists()


@pytest.mark.parametrize("case", ["no WAVE", "no test", "no lexicon", "word", "wav",
                                  "missing wav"])
def test_bad_corpus_is_one_error_and_nothing_written(tmp_path, case):
    corpus = fake_speechocean762(tmp_path / "c")
    expected = _break(corpus, case)
    with pytest.raises(AsrktError) as info:
        so.prepare_data(corpus, tmp_path / "data")
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "data").exists()


def _kn(tmp_path: Path, sentences, order: int) -> str:
    from kaldingram.train import main

    text = tmp_path / "text.txt"
    text.write_text("".join(s + "\n" for s in sentences))
    arpa = tmp_path / f"lm{order}.arpa"
    main(["--ngram-order", str(order), "--text", str(text), "--lm", str(arpa)])
    return arpa.read_text()


def _sums(model, vocabulary):
    """Sum over the vocabulary and </s> of P(w | h) for every history h of the model."""
    words = sorted(vocabulary) + ["</s>"]
    histories = [()] + [g for m in model[:-1] for g in m if g[-1] != "</s>"]
    return [sum(10 ** so._logprob(model, h + (w,)) for w in words) for h in histories]


TEXT = ["WE SEE A DAY", "A GOOD DAY", "WE SEE A GOOD DAY", "GOOD DAY TO YOU", "WE SEE YOU"]


@pytest.mark.parametrize("order", [2, 3, 4])
def test_closed_vocabulary_is_normalised_over_the_lexicon(tmp_path, order):
    arpa = _kn(tmp_path, TEXT, order)
    vocabulary = {w for s in TEXT for w in s.split()} | {"CURE", "CLEAR"}
    mass = so.unseen_mass(TEXT)
    assert mass == pytest.approx(1 / 19)               # TO: the one word seen once, 19 tokens
    closed, zerotons = so.close_vocabulary(arpa, vocabulary, mass)
    assert zerotons == ["CLEAR", "CURE"]
    model = so.parse_arpa(closed)
    assert {g[0] for g in model[0]} == vocabulary | {"<s>", "</s>"}
    assert 10 ** so._logprob(model, ("CURE",)) == pytest.approx(mass / 2, rel=1e-5)
    for total in _sums(model, vocabulary):
        assert total == pytest.approx(1, abs=1e-5)
    before = so.parse_arpa(arpa)                        # the seen words keep their proportions
    assert so._logprob(model, ("DAY",)) - so._logprob(before, ("DAY",)) == \
        pytest.approx(math.log10(1 - mass), abs=1e-6)
    if order > 2:                                       # explicit bigrams are not touched
        assert model[1][("A", "GOOD")][0] == before[1][("A", "GOOD")][0]
    # the vocabulary already closed: the text comes back as it was
    assert so.close_vocabulary(arpa, vocabulary - {"CURE", "CLEAR"}, mass) == (arpa, [])
    with pytest.raises(AsrktError, match="outside the lexicon, e.g. 'YOU'"):
        so.close_vocabulary(arpa, vocabulary - {"YOU"}, mass)


def test_zero_probability_ngrams_of_a_tiny_text_back_off(tmp_path):
    # no 4-gram is seen twice: kaldingram's discount is 1 and it writes every 4-gram at -99
    text = ["A B C D E", "B C D F"]
    arpa = _kn(tmp_path, text, 4)
    assert any(line.startswith("-99") and len(line.split()) == 5 for line in arpa.splitlines())
    closed, _ = so.close_vocabulary(arpa, set("ABCDEF") | {"G"}, so.unseen_mass(text))
    model = so.parse_arpa(closed)
    assert all(v[0] > so.ZERO_LOGPROB for m in model for g, v in m.items() if g != ("<s>",))
    for total in _sums(model, set("ABCDEF") | {"G"}):
        assert total == pytest.approx(1, abs=1e-5)


def test_ppl_report_and_order_rule():
    report = ("file data/local/lm/dev.txt: 560 sentences, 3527 words, 0 OOVs\n"
              "0 zeroprobs, logprob= -8821.1795 ppl= 143.9961 ppl1= 316.9883\n")
    assert so.parse_ppl_report(report) == so.Perplexity(560, 3527, 0, 0, 143.9961)
    with pytest.raises(AsrktError, match="not a kaldingram ppl report"):
        so.parse_ppl_report("file x: 1 sentences\n")
    assert so.choose_order({2: 144.0, 3: 143.5, 4: 150.0}) == 3
    assert so.choose_order({2: 144.001, 3: 143.999, 4: 150.0}) == 2     # equal as printed
    assert so.choose_order({4: 10.0, 3: 10.0}) == 3
    assert so.unseen_rate(["A B", "C A"], {"A"}) == (2, 4)
