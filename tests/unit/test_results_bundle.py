"""scripts/results_bundle.py: a cell's table inputs packed on one machine and unpacked on another
give the same tables (kt_results.py: the weight chosen on dev, test's WER there, the age table),
with only the hypotheses the tables read; unpacking never mixes two runs of a cell."""

from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from tests.helpers.markdown import table_rows
from tests.unit.test_kt_results import TEST_HYPS, data_dir, scored_dir

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import kt_results  # noqa: E402
import results_bundle  # noqa: E402

# dev's hypotheses: 11 is dev's best (no error), so test is read at 11, not at its own best 10
DEV_HYPS = {10: {"u1": "A", "u2": "C D E", "u3": "F"},
            11: {"u1": "A B", "u2": "C D E", "u3": "F"},
            12: {"u1": "X", "u2": "C", "u3": "F"}}
CELL = "exp/full/seed1/lstm_ce"


@pytest.fixture()
def work(tmp_path):
    """A work dir as a recipe leaves it: one network (history, config, model) and one GMM, each
    decoding dev and test over LM weights 10-12."""
    work = tmp_path / "work"
    sets = {s: data_dir(work / "data" / s) for s in ("dev", "test")}
    for system in (CELL, "exp/mono"):
        scored_dir(work / system / "decode_dev", sets["dev"], DEV_HYPS)
        scored_dir(work / system / "decode_test", sets["test"], TEST_HYPS)
        (work / system / "decode_test" / "options").write_text("decode --beam 11\n")
    (work / CELL / "train.jsonl").write_text('{"epoch": 1, "cv_acc": 0.5, "accepted": true}\n')
    (work / CELL / "config.yaml").write_text("hidden: 8\n")
    (work / CELL / "final.pt").write_bytes(b"weights")
    return work


def tables(work: Path, out: Path) -> str:
    assert kt_results.main(["--exp", str(work / "exp"), "--splits", ".", "--conditions", "full",
                            "--seeds", "1", "--systems", "mono lstm_ce", "--command", "run.sh",
                            "--decode-name", "decode_test", "--lmwt-from", "decode_dev",
                            "--gmm-dirs", "full:mono=mono", "--age-data",
                            str(work / "data" / "test"), "--out", str(out)]) == 0
    return out.read_text()


def fresh_work(tmp_path: Path, name: str) -> Path:
    """Another machine's work dir: the data dirs of stage 0, no exp/."""
    other = tmp_path / name
    for s in ("dev", "test"):
        data_dir(other / "data" / s)
    return other


def test_unpacked_bundle_gives_the_same_tables(work, tmp_path):
    bundle = tmp_path / "cell.tar.gz"
    best_wer = Path(CELL) / "decode_test" / "scoring_kaldi" / "best_wer"
    os.utime(work / best_wer, (1_700_000_000, 1_700_000_000))     # decoded long before packing
    results_bundle.main(["pack", str(bundle), "--work", str(work), "--note", "code abc123",
                         CELL, "exp/mono"])
    other = fresh_work(tmp_path, "other")
    # per system: 3 wer_<LMWT> + best_wer + 2 hypotheses files per set, test's options; the
    # network's history and config
    assert results_bundle.unpack([bundle], other) == 2 * (2 * (3 + 1 + 2) + 1) + 2
    cell = other / CELL
    assert not (cell / "final.pt").exists() and (cell / "train.jsonl").exists()
    # each set's own best (dev 11, test 10) and its sibling's (test is read at dev's 11); not 12
    for name in ("decode_dev", "decode_test"):
        assert sorted(p.name for p in (cell / name / "scoring").iterdir()) == ["10.txt", "11.txt"]
    assert (cell / "decode_test" / "options").read_text() == "decode --beam 11\n"
    assert (other / best_wer).stat().st_mtime == 1_700_000_000     # not the unpacking's time
    with tarfile.open(bundle) as tar:
        manifest = tar.extractfile("bundle.txt").read().decode()
    assert "note: code abc123" in manifest and f"dirs: {CELL} exp/mono" in manifest
    assert "environment: " in manifest and "CPU: " in manifest
    assert not (other / "bundle.txt").exists()

    here, there = tables(work, tmp_path / "a.md"), tables(other, tmp_path / "b.md")
    for header in ("| system | %WER", "| system | children"):
        assert table_rows(here, header) == table_rows(there, header)
    assert table_rows(there, "| system | %WER")["lstm_ce"][:3] == ["33.33", "1", "11"]
    # unpacking again adds nothing
    assert results_bundle.unpack([bundle], other) == 0


def test_unpack_never_mixes_two_runs(work, tmp_path):
    first, second = tmp_path / "1.tar.gz", tmp_path / "2.tar.gz"
    results_bundle.pack(first, work, [CELL], [])
    (work / CELL / "train.jsonl").write_text('{"epoch": 1, "cv_acc": 0.6, "accepted": true}\n')
    results_bundle.pack(second, work, [CELL, "exp/mono"], [])
    other = fresh_work(tmp_path, "other")
    with pytest.raises(SystemExit, match=r"train.jsonl: .*1.tar.gz and .*2.tar.gz differ"):
        results_bundle.unpack([first, second], other)
    assert not (other / "exp").exists()            # nothing written
    results_bundle.unpack([first], other)
    with pytest.raises(SystemExit, match=r"train.jsonl: already there with other content"):
        results_bundle.unpack([second], other)
    assert not (other / "exp" / "mono").exists()


def test_pack_errors(work, tmp_path):
    out = tmp_path / "b.tar.gz"
    with pytest.raises(SystemExit, match=r"exp/nothing: no such directory"):
        results_bundle.pack(out, work, ["exp/nothing"], [])
    (work / "exp" / "empty").mkdir()
    with pytest.raises(SystemExit, match=r"exp/empty: no decode dir .* nothing to pack"):
        results_bundle.pack(out, work, ["exp/empty"], [])
    (work / CELL / "decode_dev" / "scoring" / "11.txt").unlink()
    with pytest.raises(SystemExit, match=r"decode_dev/scoring/11.txt: missing \(the hypotheses "
                                         r"of LM weight 11"):
        results_bundle.pack(out, work, [CELL], [])
    assert not out.exists()


def test_unpack_refuses_what_is_not_a_bundle(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(SystemExit, match=r"entry '../outside.txt' is not a plain file"):
        results_bundle.unpack([evil], tmp_path / "w")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(SystemExit, match=r"broken.tar.gz: not a readable .tar.gz"):
        results_bundle.unpack([broken], tmp_path / "w")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "w").exists()
