"""scripts/wer_grid.py, the table of the recipes' GMM-size studies (fsdd and speech_commands
tri_study.sh: a column per fold; speechocean762 gmm_dev_study.sh: a column per LM weight with
the systems' sizes): cells from fake decode dirs, pooling over folds, the best LM weight, the
end-of-sweep mark, the bold lowest, and the errors for bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import wer_grid  # noqa: E402


def decode_dir(path: Path, sweep: dict, words: int = 100) -> Path:
    """A decode dir as asrkt score leaves it: wer_<LMWT> per weight and the best in best_wer."""
    (path / "scoring_kaldi").mkdir(parents=True)
    for w, errors in sweep.items():
        (path / f"wer_{w}").write_text(f"%WER {100 * errors / words:.2f} [ {errors} / {words}, "
                                       f"0 ins, 0 del, {errors} sub ]\n%SER 1.00 [ 1 / 1 ]\n")
    w = min(sweep, key=lambda k: (sweep[k], k))
    (path / "scoring_kaldi" / "best_wer").write_text(
        f"%WER {100 * sweep[w] / words:.2f} [ {sweep[w]} / {words}, 0 ins, 0 del, "
        f"{sweep[w]} sub ] {path}/wer_{w}\n")
    return path


def write_tsv(path: Path, rows) -> Path:
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


def table_rows(md: str) -> dict:
    """system -> its cells, from every table row of ``md``."""
    out = {}
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("system",):
            out[cells[0]] = cells[1:]
    return out


def test_folds_pooled_and_lowest_in_bold(tmp_path):
    rows = [("full", "mono", "fold a", decode_dir(tmp_path / "m_a", {12: 30}, 100)),
            ("full", "mono", "fold b", decode_dir(tmp_path / "m_b", {12: 10}, 300)),
            ("full", "tri1", "fold a", decode_dir(tmp_path / "t_a", {12: 20}, 100)),
            ("full", "tri1", "fold b", decode_dir(tmp_path / "t_b", {12: 15}, 300))]
    tsv = write_tsv(tmp_path / "d.tsv", rows)
    out = tmp_path / "T.md"
    assert wer_grid.main(["--tsv", str(tsv), "--title", "T", "--command", "c", "--out",
                          str(out)]) == 0
    md = out.read_text()
    cells = table_rows(md)
    assert cells["mono"] == ["30.00", "3.33", "10.00 [40 / 400]"]     # pooled: 40 / 400 words
    assert cells["tri1"] == ["20.00", "5.00", "**8.75 [35 / 400]**"]
    assert "## full" in md and "- command: `c`" in md


def test_a_system_missing_a_fold_is_not_pooled(tmp_path):
    rows = [("c", "mono", "a", decode_dir(tmp_path / "m_a", {12: 30})),
            ("c", "mono", "b", decode_dir(tmp_path / "m_b", {12: 30})),
            ("c", "tri1", "a", decode_dir(tmp_path / "t_a", {12: 1}))]
    cells = table_rows("\n".join(wer_grid.tables(rows)))
    assert cells["tri1"] == ["1.00", "–", "–"]
    assert cells["mono"][-1] == "**30.00 [60 / 200]**"


def test_sweep_pools_each_weight_and_marks_the_best(tmp_path):
    rows = [("dev", "mono", "f1", decode_dir(tmp_path / "m1", {7: 50, 8: 40, 9: 45})),
            ("dev", "mono", "f2", decode_dir(tmp_path / "m2", {7: 50, 8: 44, 9: 41})),
            ("dev", "big", "f1", decode_dir(tmp_path / "b1", {7: 60, 8: 50, 9: 30})),
            ("dev", "big", "f2", decode_dir(tmp_path / "b2", {7: 60, 8: 50, 9: 31}))]
    cells = table_rows("\n".join(wer_grid.tables(rows, sweep=True)))
    # mono: 8 -> 84/200 = 42.00, 9 -> 86/200 = 43.00: best 8, inside the sweep
    assert cells["mono"] == ["50.00", "42.00", "43.00", "42.00 (LMWT 8; 84 / 200)"]
    # big: best at 9, the sweep's end (a wider sweep could find lower), and lowest in bold
    assert cells["big"][-1] == "**30.50 (LMWT 9 (end of the sweep); 61 / 200)**"


def test_sweep_ties_go_to_the_lower_weight(tmp_path):
    rows = [("dev", "s", "dev", decode_dir(tmp_path / "s", {10: 20, 11: 20, 12: 25}))]
    cells = table_rows("\n".join(wer_grid.tables(rows, sweep=True)))
    assert cells["s"][-1] == "**20.00 (LMWT 10 (end of the sweep); 20 / 100)**"
    rows = [("dev", "s", "dev", decode_dir(tmp_path / "t", {10: 30, 11: 20, 12: 20, 13: 21}))]
    cells = table_rows("\n".join(wer_grid.tables(rows, sweep=True)))
    assert cells["s"][-1] == "**20.00 (LMWT 11; 20 / 100)**"


def test_model_info_columns_come_from_the_decode_dirs_parent(tmp_path, monkeypatch):
    seen = []

    def fake_info(model_dir):
        seen.append(model_dir)
        return {"leaves": 500, "totgauss": 4000, "pdfs": 431, "gauss": 4001}

    monkeypatch.setattr(wer_grid, "model_info", fake_info)
    rows = [("dev", "exp/tri1", "dev",
             decode_dir(tmp_path / "tri1" / "decode_dev", {7: 60, 8: 55, 9: 58}))]
    md = "\n".join(wer_grid.tables(rows, sweep=True, with_info=True))
    assert "| system | --num-leaves | --totgauss | pdfs | Gaussians | LMWT 7 |" in md
    assert table_rows(md)["exp/tri1"][:4] == ["500", "4000", "431", "4001"]
    assert seen == [tmp_path / "tri1"]


def test_model_info_of_a_dir_without_a_model_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="wer_grid.py: .*nomodel"):
        wer_grid.model_info(tmp_path / "nomodel")


@pytest.mark.parametrize("line, message", [
    ("a\tb\tc\n", "expected 4 tab-separated fields, got 3"),
    ("a\tb\tc\t{missing}\n", "no scoring_kaldi/best_wer in"),
    ("\n", "no decode dirs")])
def test_bad_tsv_stops_with_the_line(tmp_path, line, message):
    tsv = tmp_path / "d.tsv"
    tsv.write_text(line.format(missing=tmp_path / "nowhere"))
    with pytest.raises(SystemExit, match=message):
        wer_grid.read_tsv(tsv)


def test_sweep_without_wer_files_names_the_dir(tmp_path):
    d = decode_dir(tmp_path / "d", {12: 3})
    for f in d.glob("wer_*"):
        f.unlink()
    with pytest.raises(SystemExit, match=f"{d}: no wer_<LMWT> files"):
        wer_grid.tables([("c", "s", "f", d)], sweep=True)
