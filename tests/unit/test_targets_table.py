"""scripts/targets_table.py: TARGETS_STUDY.md from LM-weight sweeps laid out as
recipes/*/local/targets_study.sh leaves them: %WER pooled over folds as errors / words (not a
mean of per-fold rates), the fixed weight and the oracle best with its weight, the decision by
the lowest fixed-weight %WER, a cell with a missing fold shown as such, bad input one message."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import targets_table  # noqa: E402


def sweep(d: Path, errors: dict, words: int) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for w, e in errors.items():
        (d / f"wer_{w}").write_text(f"%WER {100 * e / words:.2f} [ {e} / {words}, 0 ins, 0 del, "
                                    f"{e} sub ]\n")
    return d


def net(d: Path, accs: list) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    hist = [{"epoch": 0, "cv_acc": 0.01}] + [
        {"epoch": i + 1, "cv_acc": a, "accepted": k} for i, (a, k) in enumerate(accs)]
    (d / "train.jsonl").write_text("\n".join(json.dumps(h) for h in hist) + "\n")
    return d


@pytest.fixture
def study(tmp_path):
    """Two folds of different sizes (100 and 300 words); GMMs mono/tri1 at LMWT 12 = 10 and 20
    errors per fold; dnn_rand on mono/tri1 at S 1.0 and 0.5."""
    rows = []
    sizes = {"fold a": 100, "fold b": 300}
    gmm_err = {"mono": {"fold a": 10, "fold b": 60}, "tri1": {"fold a": 5, "fold b": 45}}
    # network errors at LMWT 10 (the fixed weight); LMWT 4 is better for one cell only
    nn_err = {("mono", "1.0"): (20, 90), ("mono", "0.5"): (9, 40),
              ("tri1", "1.0"): (8, 30), ("tri1", "0.5"): (6, 51)}
    for t in ("mono", "tri1"):
        (tmp_path / t / "graph").mkdir(parents=True)
        (tmp_path / t / "graph" / "num_pdfs").write_text({"mono": "62", "tri1": "176"}[t] + "\n")
        for f, n in sizes.items():
            e = gmm_err[t][f]
            errs = {w: e + (w != 12) for w in range(4, 16)}
            d = sweep(tmp_path / t / f"decode_{f[-1]}_sweep", errs, n)
            rows.append((t, "GMM", "-", f, str(d), "-"))
        for s in ("1.0", "0.5"):
            for i, (f, n) in enumerate(sizes.items()):
                e = nn_err[(t, s)][i]
                n_dir = net(tmp_path / f"dnn_rand_{t}_{f[-1]}", [(0.5, True), (0.6 + 0.1 * i, True),
                                                               (0.9, False)])
                errs = {w: e + 1 for w in range(4, 16)}
                errs[10] = e
                if (t, s) == ("mono", "1.0"):
                    errs[4] = e - 5
                d = sweep(n_dir / f"decode_{s}", errs, n)
                rows.append((t, "dnn_rand", s, f, str(d), str(n_dir)))
    tsv = tmp_path / "study.tsv"
    tsv.write_text("".join("\t".join(r) + "\n" for r in rows))
    return tsv


def make(tsv: Path, tmp_path: Path) -> str:
    out = tmp_path / "T.md"
    assert targets_table.main(["--tsv", str(tsv), "--title", "T", "--command", "cmd x",
                               "--setting", "seed 1", "--out", str(out)]) == 0
    return out.read_text()


def test_pooled_fixed_best_and_decision(study, tmp_path):
    text = make(study, tmp_path)
    assert "- command: `cmd x`" in text and "- seed 1" in text and "do not edit" in text
    # GMM: (10 + 60) / 400 at LMWT 12; every other weight one more error per fold
    assert "| mono | 62 | 17.50 / 17.50 (LMWT 12) |" in text
    assert "| tri1 | 176 | 12.50 / 12.50 (LMWT 12) |" in text
    # pooled errors / words, not the mean of the fold rates: mono S=1: (20 + 90) / 400 = 27.50
    # (the mean of 20.00 and 30.00 would be 25.00); best at LMWT 4: (15 + 85) / 400
    assert "27.50 / 25.00 (LMWT 4)" in text
    # the lowest fixed cell of dnn_rand is tri1, S = 1.0: (8 + 30) / 400 = 9.50, in bold
    assert "**9.50 / 9.50 (LMWT 10)**" in text
    # CV frame acc: the last accepted epoch's (rejected 0.9 is not the kept model), mean over folds
    assert ("| dnn_rand | tri1 | **9.50 / 9.50 (LMWT 10)** | 14.25 / 14.25 (LMWT 10) | 65.00 "
            "| 3 3 |") in text
    # per fold at the fixed weights, pooled with counts
    assert "| dnn_rand | mono | 0.5 | 9.00 | 13.33 | 12.25 [49 / 400] |" in text
    assert "| GMM | tri1 | - | 5.00 | 15.00 | 12.50 [50 / 400] |" in text
    assert "- dnn_rand, S = 1.0: mono 27.50, tri1 9.50: lowest on tri1 targets." in text
    assert "- dnn_rand, S = 0.5: mono 12.25, tri1 14.25: lowest on mono targets." in text
    assert "- dnn_rand: lowest at tri1 targets, S = 1.0 (9.50); beats its GMM (tri1 12.50)." in text
    # with several folds (or seeds), how many of them the network is below its GMM in: tri1
    # S = 1.0 beats it pooled (9.50 < 12.50) but only in fold b (10.00 < 15.00; 8.00 > 5.00)
    assert ("- beats its GMM at S = 0.5: dnn_rand/mono yes (below it in 2 of 2 folds), "
            "dnn_rand/tri1 no (below it in 0 of 2 folds).") in text
    assert ("- beats its GMM at S = 1.0: dnn_rand/mono no (below it in 0 of 2 folds), "
            "dnn_rand/tri1 yes (below it in 1 of 2 folds).") in text
    assert "two or more targets decoded: lowest on tri1 1, mono 1." in text
    assert "per system and targets: dnn_rand/mono S = 0.5, dnn_rand/tri1 S = 1.0." in text


def test_missing_fold_is_not_pooled(study, tmp_path):
    lines = study.read_text().splitlines()
    kept = [ln for ln in lines if not (ln.startswith("tri1\tdnn_rand\t0.5\tfold b"))]
    study.write_text("\n".join(kept) + "\n")
    text = make(study, tmp_path)
    assert "- (1 of 2 folds)" in text
    assert "| dnn_rand | tri1 | 0.5 | 6.00 | - | - |" in text
    # no decision from an incomplete cell
    assert "- dnn_rand, S = 0.5:" not in text


def test_bad_input_names_the_line(study, tmp_path):
    empty = tmp_path / "empty_decode"
    empty.mkdir()
    study.write_text(study.read_text() + f"mono\tdnn_rand\t0\tfold a\t{empty}\t-\n")
    with pytest.raises(SystemExit, match=r"study.tsv:13: no wer_<LMWT> files in .*empty_decode"):
        make(study, tmp_path)
    study.write_text("mono\tGMM\t-\n")
    with pytest.raises(SystemExit, match=r"study.tsv:1: expected 6 tab-separated fields, got 3"):
        make(study, tmp_path)


def test_rule_best_decides_at_each_systems_best_weight(study, tmp_path):
    """--rule best (recipes that choose the LM weight on dev): mono S = 1.0's best weight
    (LMWT 4: (15 + 85) / 400 = 25.00) makes it no longer the worst of S = 1.0; the lowest cell of
    dnn_rand is still tri1 S = 1.0 (9.50 at its best weight, 10)."""
    out = tmp_path / "B.md"
    assert targets_table.main(["--tsv", str(study), "--title", "T", "--command", "c",
                               "--rule", "best", "--out", str(out)]) == 0
    text = out.read_text()
    assert "at each system's best LM weight over 4..15" in text
    assert "the recipe's rule for the weight" in text
    assert "- dnn_rand, S = 1.0: mono 25.00, tri1 9.50: lowest on tri1 targets." in text
    # GMM best: 17.50 (LMWT 12); mono S = 0.5 at its best (LMWT 10) 12.25: beats it
    assert "- beats its GMM at S = 0.5: dnn_rand/mono yes, dnn_rand/tri1 no." in text
    fixed = make(study, tmp_path)
    assert "- dnn_rand, S = 1.0: mono 27.50, tri1 9.50" in fixed     # the default is unchanged


def test_per_seed_lines_when_folds_carry_seeds(study, tmp_path):
    """Folds labelled '<fold>, seed N' (fsdd's targets_study.sh with --seeds): each seed's
    %WER pooled over its own folds, against the GMM's, and in how many seeds it is below."""
    rows = [ln.split("\t") for ln in study.read_text().splitlines()]
    # the two folds become one fold in two seeds: seed 1 holds 'fold a' (100 words), seed 2
    # 'fold b' (300 words); a third label without a seed would turn the lines off
    relabel = {"fold a": "fold x, seed 1", "fold b": "fold x, seed 2"}
    study.write_text("".join("\t".join(r[:3] + [relabel[r[3]]] + r[4:]) + "\n" for r in rows))
    text = make(study, tmp_path)
    # tri1 S = 1.0: 8 / 100 and 30 / 300 against the GMM's 5 / 100 and 45 / 300
    assert ("- dnn_rand/tri1, S = 1.0, per seed (pooled over its folds), seed 1 8.00 / "
            "seed 2 10.00 against the GMM's 5.00 / 15.00: below it in 1 of 2 seeds.") in text
    assert ("- dnn_rand/mono, S = 0.5, per seed (pooled over its folds), seed 1 9.00 / "
            "seed 2 13.33 against the GMM's 10.00 / 20.00: below it in 2 of 2 seeds.") in text
    study.write_text(study.read_text().replace("fold x, seed 2", "fold y"))
    assert "per seed" not in make(study, tmp_path)
