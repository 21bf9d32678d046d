"""scripts/kt_results.py's options for recipes/speechocean762 (the other recipes' tables are
tested in tests/unit/test_speech_commands.py): --lmwt-from (test scored at the LM weight with the
lowest dev WER, per system and seed, not at test's own best), --gmm-dirs (GMMs outside
<exp>/<cond>/, an anchor system as a GMM row), --age-data (%WER by age group from the
per-utterance errors at the chosen weight, wer_grid.utterance_counts) and their errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asrkt.decode.score import score_decode_dir
from tests.helpers.markdown import table_rows

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import kt_results  # noqa: E402
import wer_grid  # noqa: E402

# utterance -> (speaker, age, reference); ages 8 / 15 / 30: one child, one teenager, one adult
UTTS = {"u1": ("a", 8, "A B"), "u2": ("b", 15, "C D E"), "u3": ("c", 30, "F")}
# test hypotheses per LM weight: 10 is test's own best (no error), 11 has one error of the child
# and one of the teenager, 12 more
TEST_HYPS = {10: {"u1": "A B", "u2": "C D E", "u3": "F"},
             11: {"u1": "A X", "u2": "C D", "u3": "F"},
             12: {"u1": "X", "u2": "", "u3": "G"}}


def data_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "text").write_text("".join(f"{u} {r}\n" for u, (_, _, r) in UTTS.items()))
    (path / "utt2spk").write_text("".join(f"{u} {s}\n" for u, (s, _, _) in UTTS.items()))
    (path / "spk2utt").write_text("".join(f"{s} {u}\n" for u, (s, _, _) in UTTS.items()))
    (path / "spk2age").write_text("".join(f"{s} {a}\n" for _, (s, a, _) in UTTS.items()))
    return path


def scored_dir(path: Path, data: Path, hyps: dict) -> Path:
    """A decode dir scored by asrkt's own scoring (scoring/<LMWT>.txt -> wer_<LMWT>, best_wer)."""
    (path / "scoring").mkdir(parents=True)
    for w, by_utt in hyps.items():
        (path / "scoring" / f"{w}.txt").write_text("".join(f"{u} {h}\n" for u, h in by_utt.items()))
    score_decode_dir(data, path)
    return path


def sweep_dir(path: Path, errors: dict, words: int = 6) -> Path:
    """A decode dir with wer_<LMWT> files only (the dev sweep that chooses the weight)."""
    path.mkdir(parents=True)
    for w, e in errors.items():
        (path / f"wer_{w}").write_text(f"%WER {100 * e / words:.2f} [ {e} / {words}, 0 ins, "
                                       f"0 del, {e} sub ]\n")
    return path


@pytest.fixture()
def exp(tmp_path):
    data = data_dir(tmp_path / "data" / "test")
    exp = tmp_path / "exp"
    for system in ("mono", "../kaldi_exp/mono", "full/seed1/lstm_ce"):
        scored_dir(exp / system / "decode_test", data, TEST_HYPS)
    sweep_dir(exp / "mono" / "decode_dev", {10: 1, 11: 2, 12: 3})          # dev chooses 10
    sweep_dir(exp / "../kaldi_exp/mono" / "decode_dev", {10: 4, 11: 4, 12: 4})  # a tie: 10
    sweep_dir(exp / "full/seed1/lstm_ce" / "decode_dev", {10: 5, 11: 3, 12: 4})  # dev chooses 11
    return exp


def run(exp: Path, out: Path, *extra: str) -> str:
    assert kt_results.main(["--exp", str(exp), "--splits", ".", "--conditions", "full",
                            "--seeds", "1", "--systems", "mono kaldi_mono lstm_ce",
                            "--command", "run.sh", "--decode-name", "decode_test",
                            "--gmm-dirs", "full:mono=mono full:kaldi_mono=../kaldi_exp/mono",
                            "--out", str(out), *extra]) == 0
    return out.read_text()


def test_test_is_scored_at_the_weight_chosen_on_dev(exp, tmp_path):
    md = run(exp, tmp_path / "R.md", "--lmwt-from", "decode_dev",
             "--age-data", str(tmp_path / "data" / "test"))
    # without --lmwt-from every system would be at test's own best, 10 (0 errors)
    table = table_rows(md, "| system | %WER")
    assert table["lstm_ce"][:3] == ["33.33", "1", "11"]     # dev's 11: 2 errors / 6 words
    assert table["mono"][:3] == ["0.00", "–", "10"]
    assert table["kaldi_mono"][:3] == ["0.00", "–", "10"]   # the anchor: a GMM row via --gmm-dirs
    assert "never chosen on this set" in md
    ages = table_rows(md, "| system | children")
    assert "children (age 8, 1 speakers)" in md and "adults (age 30, 1 speakers)" in md
    assert ages["words"] == ["2", "3", "1", "6"]            # the groups add up to the set's words
    assert ages["lstm_ce"] == ["50.00 [1 / 2]", "33.33 [1 / 3]", "0.00 [0 / 1]", "33.33 [2 / 6]"]
    assert ages["mono"] == ["0.00 [0 / 2]", "0.00 [0 / 3]", "0.00 [0 / 1]", "0.00 [0 / 6]"]


def test_without_lmwt_from_each_set_at_its_own_best(exp, tmp_path):
    md = run(exp, tmp_path / "R.md")
    table = table_rows(md, "| system | %WER")
    assert table["lstm_ce"][:2] == ["0.00", "1"] and "LM weight per seed" not in md
    assert "LM weight per fold (GMM/NN): test 10/10." in md
    # the packages and the CPU's torch kernels the numbers depend on (they differ by machine)
    env = next(line for line in md.splitlines() if line.startswith("- environment: "))
    assert "numpy " in env and "kaldi-hmm-gmm " in env and "CPU: " in env, env
    assert "ASRKT_CPU_KERNELS=" in env, env


def test_gmm_rows_of_one_table_stay_in_that_table():
    """--gmm-dirs' extra GMMs (an anchor's) are the table's own, not the process's: a second
    table without them treats the name as a network again."""
    dirs = kt_results.parse_gmm_dirs("full:kaldi_mono=../kaldi_exp/mono")
    assert kt_results.gmm_systems(dirs) == {"mono", "tri1", "tri2", "kaldi_mono"}
    assert kt_results.decode_dir(Path("e"), ".", "full", "-", "kaldi_mono", "d", dirs) \
        == Path("e/../kaldi_exp/mono/d")
    assert kt_results.decode_dir(Path("e"), ".", "full", "1", "kaldi_mono", "d") \
        == Path("e/full/seed1/kaldi_mono/d")


def test_errors(exp, tmp_path):
    with pytest.raises(SystemExit, match="'full-mono' is not COND:SYSTEM=DIR"):
        kt_results.parse_gmm_dirs("full-mono")
    with pytest.raises(SystemExit, match="--age-data needs one split"):
        kt_results.main(["--exp", str(exp), "--splits", "a b", "--seeds", "1", "--command", "c",
                         "--age-data", str(tmp_path), "--out", str(tmp_path / "R.md")])
    # dev chose a weight that test did not decode
    (exp / "mono" / "decode_dev" / "wer_9").write_text("%WER 0.00 [ 0 / 6, 0 ins, 0 del, 0 sub ]\n")
    with pytest.raises(SystemExit, match="no wer_9 .the LM weight chosen on"):
        run(exp, tmp_path / "R.md", "--lmwt-from", "decode_dev")
    # per-utterance counts against another set's text disagree with wer_<LMWT>
    decode = exp / "full/seed1/lstm_ce/decode_test"
    other = {"u1": ["A", "B"], "u2": ["C", "D", "E", "Z"], "u3": ["F"]}
    with pytest.raises(SystemExit, match="not the decoded set's text"):
        wer_grid.utterance_counts(decode, 11, other)
    assert sum(e for e, _ in wer_grid.utterance_counts(
        decode, 11, {u: r.split() for u, (_, _, r) in UTTS.items()}).values()) == 2
