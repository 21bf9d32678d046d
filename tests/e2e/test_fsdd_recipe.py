"""recipes/fsdd/run.sh end to end on a tiny FSDD subset: every stage through scoring and RESULTS.md.

Two speakers, recording indices 0-4 (100 utterances), one speaker-independent fold (train on
jackson, test on george), one seed, the tiny configs of recipes/fsdd/conf/tiny (one epoch per
neural stage). Checks the plumbing, not the accuracy. Everything is written under tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SYSTEMS = ("dnn_rand", "dnn_rbm", "lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft")


def _env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")


@pytest.mark.slow
def test_fsdd_recipe_tiny_subset(fsdd_dir, repo_root, tmp_path):
    work = tmp_path / "work"
    run = repo_root / "recipes" / "fsdd" / "run.sh"
    cmd = ["bash", str(run), "--work", str(work), "--speakers", "george jackson", "--max-index", "5",
           "--folds", "george", "--conditions", "full", "--seeds", "1", "--conf", "conf/tiny",
           "--kt-reg", "0.5", "--vtlp", "0.9 1.1", str(fsdd_dir)]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    log = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, log
    for n in range(13):
        assert f"stage {n}:" in result.stderr, f"stage {n} did not run\n{log}"
    exp = work / "exp" / "si_george" / "full"
    assert (exp / "mono" / "decode_test" / "scoring_kaldi" / "best_wer").read_text().startswith("%WER")
    for system in SYSTEMS:
        best = exp / "seed1" / system / "decode_test" / "scoring_kaldi" / "best_wer"
        assert best.read_text().startswith("%WER"), system
        assert "/ 50," in best.read_text()  # george, indices 0-4: 50 test words
    for system in ("lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft"):
        assert (exp / "seed1" / system / "train.jsonl").exists()
    for system in ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg"):  # --kt-reg 0.5
        config = yaml.safe_load((exp / "seed1" / system / "config.yaml").read_text())
        assert config["kt_weight"] == 0.5, config
        assert "/ 50," in (exp / "seed1" / system / "decode_test" / "scoring_kaldi" / "best_wer").read_text()
    # the test speaker never reaches the training data
    train_text = (work / "data" / "fbank" / "si_george" / "full" / "train" / "text").read_text()
    assert "george" not in train_text and len(train_text.splitlines()) == 50
    # --vtlp: the training data plus two warped copies, aligned; the augmented teachers decoded
    vtlp_dir = work / "data" / "fbank" / "si_george" / "full" / "train_vtlp"
    vtlp_text = (vtlp_dir / "text").read_text()
    assert "george" not in vtlp_text and len(vtlp_text.splitlines()) == 150
    assert (vtlp_dir / "spk2warp").read_text() == "jackson 1\nvtlp0.9-jackson 0.9\nvtlp1.1-jackson 1.1\n"
    assert "150 utterance(s) aligned" in result.stdout + result.stderr
    for system in ("dnn_rand_vtlp", "dnn_rbm_vtlp"):
        assert "/ 50," in (exp / "seed1" / system / "decode_test" / "scoring_kaldi" / "best_wer").read_text()
        log = (exp / "seed1" / system / "log" / "train-teacher.log").read_text()
        assert "copies of one utterance (utt2uniq) kept together" in log
        assert "150" in log  # the augmented training set
    results = (work / "RESULTS.md").read_text()
    for system in ("mono",) + SYSTEMS + ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg", "dnn_rand_vtlp",
                                         "dnn_rbm_vtlp"):
        assert f"`{system}`" in results
    assert "`dnn_rbm_vtlp` vs `dnn_rbm`" in results and "`dnn_rbm_vtlp` vs `mono`" in results
    assert "george" in results and "seeds of the neural systems: 1" in results
    assert (work / "RESULTS.png").stat().st_size > 1000
    assert not (repo_root / "recipes" / "fsdd" / "exp").exists()
    # re-running skips what is done
    again = subprocess.run(cmd[:2] + ["--stage", "11"] + cmd[2:], env=_env(), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "done already" in again.stderr
    command = next(line for line in (work / "RESULTS.md").read_text().splitlines() if "command:" in line)
    assert "--speakers 'george jackson'" in command and "--kt-reg 0.5" in command, command
    assert "--vtlp '0.9 1.1'" in command, command
    assert "--stage" not in command, command  # stage options do not shape the results
    # the CV study (local/cv_study.sh) on the same fold: variants, held-out-speaker evaluation
    study = subprocess.run(["bash", str(repo_root / "recipes" / "fsdd" / "local" / "cv_study.sh"),
                            "--seeds", "1", "--conf", "conf/tiny", str(work), "si_george"],
                           env=_env(), capture_output=True, text=True, timeout=600)
    assert study.returncode == 0, study.stdout[-3000:] + study.stderr[-3000:]
    table = (work / "CV_STUDY.md").read_text()
    for system in SYSTEMS + ("lstm_ce_splice5", "lstm_ce_big", "lstm_ce_e20", "lstm_ce_e40",
                             "lstm_kt_rand", "lstm_kt_rand_e10_ft", "lstm_kt_rand_T1_ft",
                             "lstm_kt_rand_T4_ft", "lstm_kt_rand_ft_w05", "lstm_kt_rbm_ft_w05",
                             "lstm_s5_kt_rbm_ft_w05"):
        assert f"`{system}`" in table, system
        evaluated = json.loads((exp / "seed1" / system / "eval_test.json").read_text())
        assert evaluated["utterances"] == 50 and 0 <= evaluated["frame_acc"] <= 1
    assert "## LM-weight sweep on `george`" in table and "| `mono` |" in table
    # LM weights chosen per fold on CV data (--cv-lmwt; here a hand-written choice file)
    choice = tmp_path / "lmwt" / "lmwt_george"
    choice.mkdir(parents=True)
    (choice / "lmwt_full").write_text("gmm 7\nnn 9\n")
    cv_cmd = cmd[:2] + ["--stage", "4", "--cv-lmwt", str(tmp_path / "lmwt")] + cmd[2:]
    cv = subprocess.run(cv_cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert cv.returncode == 0, cv.stderr[-3000:]
    assert (exp / "mono" / "decode_test_cv" / "wer_7").exists()
    for system in SYSTEMS:
        assert (exp / "seed1" / system / "decode_test_cv" / "wer_9").exists(), system
    cv_results = (work / "RESULTS_cvlmwt.md").read_text()
    assert "george 7/9" in cv_results and "chosen per fold" in cv_results
    assert "george 12/10" in (work / "RESULTS.md").read_text()  # the a-priori table is kept
    (choice / "lmwt_full").unlink()
    missing = subprocess.run(cv_cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "run local/choose_lmwt.sh for fold george" in missing.stderr
    big = yaml.safe_load((exp / "seed1" / "lstm_ce_big" / "config.yaml").read_text())
    assert (big["hidden_dim"], big["proj_dim"], big["max_epochs"]) == (256, 128, 1)
    # --teachers-only: no soft targets, no LSTMs; the table holds the GMM and the DNN teachers
    only = subprocess.run(cmd[:2] + ["--stage", "7", "--teachers-only", "true"] + cmd[2:], env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert only.returncode == 0, only.stderr[-3000:]
    for n in (7, 8, 9, 10):
        assert f"stage {n}:" not in only.stderr, only.stderr[-3000:]
    teachers = (work / "RESULTS.md").read_text()
    assert "`dnn_rbm_vtlp` vs `mono`" in teachers and "`lstm_ce`" not in teachers


@pytest.mark.slow
def test_teacher_study_tiny(fsdd_dir, repo_root, tmp_path):
    """local/teacher_study.sh: nested folds (george, jackson; theo never read), plain, VTLP,
    dropout and frequency-masking teachers decoded, TEACHER_STUDY_theo.md pairs them."""
    work = tmp_path / "nest"
    cmd = ["bash", str(repo_root / "recipes" / "fsdd" / "local" / "teacher_study.sh"), "--seeds", "1",
           "--conf", "conf/tiny", "--speakers", "george jackson theo", "--max-index", "5",
           str(fsdd_dir), str(work), "theo"]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "theo" not in (work / "data" / "all" / "utt2spk").read_text()
    table = (work / "TEACHER_STUDY_theo.md").read_text()
    assert table.startswith("# DNN teachers with regularisers on new speakers: nested folds inside fold theo")
    for name in ("", "_vtlp", "_do0.2", "_fm8"):
        for t in ("rand", "rbm"):
            assert f"| `dnn_{t}{name}` " in table, name
            for fold in ("george", "jackson"):
                best = work / "exp" / f"si_{fold}" / "full" / "seed1" / f"dnn_{t}{name}" / "decode_test"
                assert "/ 50," in (best / "scoring_kaldi" / "best_wer").read_text()
    assert "`dnn_rbm_fm8` vs `dnn_rbm`" in table and "`dnn_rand_do0.2` vs `mono`" in table
    config = yaml.safe_load((work / "exp" / "si_george" / "full" / "seed1" / "dnn_rbm_do0.2" /
                             "config.yaml").read_text())
    assert config["dropout"] == 0.2 and config["freq_mask"] == 0


def test_fsdd_recipe_rejects_missing_corpus(repo_root, tmp_path):
    result = subprocess.run(["bash", str(repo_root / "recipes" / "fsdd" / "run.sh"), "--work",
                             str(tmp_path / "work"), str(tmp_path / "nowhere")],
                            env=_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "FSDD recordings not found" in result.stderr
    assert "free-spoken-digit-dataset" in result.stderr
    # invoked by a relative path from the repository root (run.sh cds into its own folder)
    relative = subprocess.run(["bash", "recipes/fsdd/run.sh", "--work", str(tmp_path / "work2"),
                               str(tmp_path / "nowhere")], cwd=repo_root, env=_env(),
                              capture_output=True, text=True, timeout=120)
    assert relative.returncode != 0 and "FSDD recordings not found" in relative.stderr, relative.stderr


def test_fsdd_results_script_pools_folds_and_seeds(repo_root, tmp_path):
    """scripts/fsdd_results.py on a fake exp dir: per-fold means, pooled mean ± std over seeds."""
    exp = tmp_path / "exp"

    def wer(path: Path, errors: int, words: int) -> None:
        (path / "scoring_kaldi").mkdir(parents=True)
        (path / "scoring_kaldi" / "best_wer").write_text(
            f"%WER {100 * errors / words:.2f} [ {errors} / {words}, 0 ins, 0 del, {errors} sub ] x\n")

    for split in ("si_a", "si_b"):
        wer(exp / split / "full" / "mono" / "decode_test", 1, 100)
        for seed, (ce, kt, dnn) in {"1": (10, 5, 0), "2": (20, 5, 2)}.items():
            wer(exp / split / "full" / f"seed{seed}" / "lstm_ce" / "decode_test", ce, 100)
            wer(exp / split / "full" / f"seed{seed}" / "lstm_kt_rand_ft" / "decode_test", kt, 100)
            wer(exp / split / "full" / f"seed{seed}" / "lstm_kt_rand_ftreg" / "decode_test", 3, 100)
            wer(exp / split / "full" / f"seed{seed}" / "dnn_rbm" / "decode_test", dnn, 100)
            (exp / split / "full" / f"seed{seed}" / "lstm_ce" / "train.jsonl").write_text(
                '{"epoch": 0, "cv_acc": 0.1, "accepted": true}\n{"epoch": 1, "cv_acc": 0.5, "accepted": true}\n')
    out = tmp_path / "RESULTS.md"
    result = subprocess.run([sys.executable, str(repo_root / "scripts" / "fsdd_results.py"), "--exp", str(exp),
                             "--splits", "si_a si_b", "--conditions", "full", "--seeds", "1 2",
                             "--systems", "mono dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rand_ftreg", "--command", "x", "--out", str(out),
                             "--png", str(tmp_path / "R.png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "| `mono` monophone GMM-HMM (flat start) | 1.00 | 1.00 | 1.00 | – | – |" in text
    # lstm_ce: 10% (seed 1) and 20% (seed 2) on both folds -> 15.00 ± 7.07; CV acc 50%
    assert "| 15.00 ± 7.07 | 15.00 ± 7.07 | 15.00 ± 7.07 | 2 | 50.00 ± 0.00 |" in text
    assert "`lstm_kt_rand_ft` vs `lstm_ce`: mean pooled WER difference -10.00 points" in text
    # the GMM (one per fold) is paired with every seed of the DNN: 0% and 2% vs 1%
    assert ("`dnn_rbm` vs `mono`: mean pooled WER difference +0.00 points (equal); `dnn_rbm` "
            "better in 1, tied in 0, worse in 1 of 2 seed(s) — smaller than its seed-to-seed std "
            "(1.41): not established.") in text
    assert "`lstm_kt_rand_ft` vs `lstm_ce`: mean pooled WER difference -10.00 points (lower); " \
           "`lstm_kt_rand_ft` better in 2, tied in 0, worse in 0 of 2 seed(s) — the same sign in " \
           "every seed." in text
    assert "`lstm_kt_rand_ftreg` vs `lstm_ce`: mean pooled WER difference -12.00 points" in text
    assert "`lstm_kt_rand_ftreg` vs `lstm_kt_rand_ft`: mean pooled WER difference -2.00" in text
    assert (tmp_path / "R.png").stat().st_size > 1000


def test_choose_lmwt_script_picks_the_lowest_cv_wer(repo_root, tmp_path):
    """scripts/choose_lmwt.py: the GMM's weight from its sweep, the NN weight from the mean of
    the NN sweeps (ties to the smaller weight)."""
    def sweep(name: str, wers: dict) -> Path:
        d = tmp_path / name
        d.mkdir()
        for w, wer in wers.items():
            (d / f"wer_{w}").write_text(f"%WER {wer:.2f} [ {int(wer)} / 100, 0 ins, 0 del, 0 sub ]\n")
        return d

    gmm = sweep("gmm", {8: 30.0, 10: 20.0, 12: 25.0})
    nn_a = sweep("a", {8: 10.0, 10: 12.0, 12: 9.0})   # alone: 12
    nn_b = sweep("b", {8: 10.0, 10: 8.0, 12: 11.0})   # mean: 8 -> 10.0, 10 -> 10.0, 12 -> 10.0
    out, table = tmp_path / "lmwt_full", tmp_path / "lmwt_full.md"
    cmd = [sys.executable, str(repo_root / "scripts" / "choose_lmwt.py"), "--gmm", str(gmm),
           "--nn", f"{nn_a} {nn_b}", "--out", str(out), "--table", str(table)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "gmm 10\nnn 8\n"
    assert "| chosen |" in table.read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = subprocess.run(cmd[:3] + [str(empty)] + cmd[4:], capture_output=True, text=True)
    assert bad.returncode != 0 and "no LM weight decoded" in bad.stderr
