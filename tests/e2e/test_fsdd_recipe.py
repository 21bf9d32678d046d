"""recipes/fsdd end to end on a tiny FSDD subset, one test per script: run.sh (every stage through
RESULTS.md), local/run_vtlp.sh, local/cv_study.sh, local/run_cv_lmwt.sh, local/teacher_study.sh;
and the option parsing all recipe scripts share.

Two speakers, recording indices 0-4 (100 utterances), one speaker-independent fold (train on
jackson, test on george), one seed, the tiny configs of recipes/fsdd/conf/tiny (one epoch per
neural stage). Checks the plumbing, not the accuracy. Everything is written under tmp dirs; the
run.sh work dir is shared by the tests of the scripts that build on it (module-scoped fixture).
scripts/recipe_trace.py checks that the scripts run the commands of the earlier run.sh flags.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SYSTEMS = ("dnn_rand", "dnn_rbm", "lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft")
STUDY_SYSTEMS = ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg")
# relative paths on a recipe's command line are relative to the caller's directory
TINY_CONF = str(Path(__file__).resolve().parents[2] / "recipes" / "fsdd" / "conf" / "tiny")
CELLS = ["--folds", "george", "--conditions", "full", "--seeds", "1", "--conf", TINY_CONF]
# the networks on senone targets (tri1), not the default monophone ones: the path with more to go
# wrong (the tree's pdfs, graph and model through every neural stage and study)
NN_GMM = ["--nn-gmm", "tri1"]


def _env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")


def _run(cmd, timeout=600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout, **kw)


def _wer(decode: Path) -> str:
    return (decode / "scoring_kaldi" / "best_wer").read_text()


@pytest.fixture(scope="module")
def main_run(fsdd_dir, repo_root, tmp_path_factory):
    """run.sh on the tiny subset: (work dir, command, the run's result)."""
    work = tmp_path_factory.mktemp("fsdd") / "work"
    cmd = ["bash", str(repo_root / "recipes" / "fsdd" / "run.sh"), "--work", str(work),
           "--speakers", "george jackson", "--max-index", "5", "--tri1-leaves", "80",
           "--tri2-leaves", "80", "--tri1-gauss", "150", "--tri2-gauss", "150",
           "--tri-opts", "--thresh 20",  # 2418 frames: a lower --thresh
           *CELLS, *NN_GMM, str(fsdd_dir)]
    return work, cmd, _run(cmd)


def _local(repo_root: Path, name: str) -> str:
    return str(repo_root / "recipes" / "fsdd" / "local" / name)


@pytest.mark.slow
def test_run_sh_builds_and_decodes_the_paper_and_chosen_systems(main_run, repo_root):
    work, cmd, result = main_run
    log = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, log
    for n in range(16):
        assert f"stage {n}:" in result.stderr, f"stage {n} did not run\n{log}"
    exp = work / "exp" / "si_george" / "full"
    for system in ("mono", "tri1", "tri2"):  # the GMMs of stages 3-6
        assert "/ 50," in _wer(exp / system / "decode_test"), system
    pdfs = {system: int(re.search(r"<NUMPDFS> (\d+)", (exp / system / "final.mdl").read_text())[1])
            for system in ("mono", "tri1", "tri2")}
    assert pdfs["tri1"] > pdfs["mono"] and pdfs["tri2"] > pdfs["mono"], pdfs
    for system in SYSTEMS + STUDY_SYSTEMS:
        # george 0-4: 50 words
        assert "/ 50," in _wer(exp / "seed1" / system / "decode_test"), system
    for system in ("lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft"):
        assert (exp / "seed1" / system / "train.jsonl").exists()
    for system in ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg"):  # stage 14: KT kept, W 0.5
        config = yaml.safe_load((exp / "seed1" / system / "config.yaml").read_text())
        assert config["kt_weight"] == 0.5, config
    for system in ("dnn_rand", "dnn_rbm"):  # the teachers: frequency masking (--teacher-freq-mask)
        config = yaml.safe_load((exp / "seed1" / system / "config.yaml").read_text())
        assert config["freq_mask"] == 8 and config["dropout"] == 0, config
        assert config["weight_init"] == "nnet1", config  # conf/tiny/dnn.yaml, as conf/dnn.yaml
    assert not list(exp.glob("seed1/*_fm8"))  # no separate masked teachers (1m)/(2m) any more
    # the test speaker never reaches the training data
    train_text = (work / "data" / "fbank" / "si_george" / "full" / "train" / "text").read_text()
    assert "george" not in train_text and len(train_text.splitlines()) == 50
    results = (work / "RESULTS.md").read_text()
    for system in ("mono", "tri1", "tri2") + SYSTEMS + STUDY_SYSTEMS:
        assert f"`{system}`" in results
    assert "`dnn_rbm` vs `mono`" in results and "`lstm_kt_rbm_ftreg` vs `lstm_ce`" in results
    assert "george" in results and "seeds of the neural systems: 1" in results
    # the networks' targets and decoding: tri1 (--nn-gmm), prior scale 0.5 (--nn-prior-scale)
    assert "alignments of the condition's `tri1` GMM" in results
    assert "log-posterior - 0.5 log-prior" in results
    assert "DNN teachers (1)/(2): conf/dnn.yaml, --freq-mask 8 (run.sh --teacher-freq-mask 8)" \
        in results
    assert (exp / "tri1_ali" / "pdf.scp").exists() and not (exp / "tri2_ali").exists()
    assert (work / "RESULTS.png").stat().st_size > 1000
    assert not (repo_root / "recipes" / "fsdd" / "exp").exists()
    # re-running skips what is done; the table quotes the options that shape the results
    again = _run(cmd[:2] + ["--stage", "3"] + cmd[2:], timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "done already" in again.stderr
    for command in ("train-mono", "train-deltas", "train-lda-mllt", "train-teacher", "decode"):
        assert f"asrkt {command} " not in again.stderr, command
    command = next(line for line in (work / "RESULTS.md").read_text().splitlines()
                   if "command:" in line)
    assert "--speakers 'george jackson'" in command and "--stage" not in command, command


@pytest.mark.slow
def test_lattice_sweep_equals_one_search_per_lm_weight(main_run, repo_root):
    # the LM-weight sweep of decode/decode-nnet (one lattice search per utterance) and asrkt's
    # one-weight search against Kaldi's LatticeFasterDecoder (kaldi-hmm-gmm), one search per
    # weight, on the run's real GMM; scripts/compare_sweep.py prints every differing pair and
    # exits 1 on any
    work, _, result = main_run
    assert result.returncode == 0
    exp = work / "exp" / "si_george" / "full"
    train = work / "data" / "mfcc" / "si_george" / "full" / "train"
    cmd = [sys.executable, str(repo_root / "scripts" / "compare_sweep.py"), str(exp / "mono"),
           str(exp / "mono" / "graph"), str(train)]
    compared = _run(cmd, timeout=300)
    assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr[-2000:]
    assert ("50 utterances x 11 LM weights (7-17), lattice beam 6: pairs differing from Kaldi's "
            "per-weight searches: asrkt per weight 0 of 550, asrkt sweep 0 of 550"
            in compared.stdout), compared.stdout


@pytest.mark.slow
def test_run_vtlp_adds_teachers_on_warped_copies(main_run, repo_root):
    work, _, first = main_run
    assert first.returncode == 0
    result = _run(["bash", _local(repo_root, "run_vtlp.sh"), "--work", str(work), *CELLS,
                   *NN_GMM])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # the training data plus two warped copies, aligned; the augmented teachers decoded
    vtlp_dir = work / "data" / "fbank" / "si_george" / "full" / "train_vtlp"
    vtlp_text = (vtlp_dir / "text").read_text()
    assert "george" not in vtlp_text and len(vtlp_text.splitlines()) == 150
    assert (vtlp_dir / "spk2warp").read_text() == ("jackson 1\nvtlp0.9-jackson 0.9\n"
                                                   "vtlp1.1-jackson 1.1\n")
    assert "150 utterance(s) aligned" in result.stdout + result.stderr
    exp = work / "exp" / "si_george" / "full" / "seed1"
    for system in ("dnn_rand_vtlp", "dnn_rbm_vtlp"):
        assert "/ 50," in _wer(exp / system / "decode_test")
        log = (exp / system / "log" / "train-teacher.log").read_text()
        assert "copies of one utterance (utt2uniq) kept together" in log


@pytest.mark.study
@pytest.mark.slow
def test_cv_study_trains_variants_and_evaluates_the_held_out_speaker(main_run, repo_root):
    work, _, first = main_run
    assert first.returncode == 0
    # one other KT temperature (the loop is the same for each); a 3-weight LM sweep (each weight
    # is one more decoding pass of every system)
    study = _run(["bash", _local(repo_root, "cv_study.sh"), "--seeds", "1", "--conf", TINY_CONF,
                  "--other-temperatures", "4", "--min-lmwt", "9", "--max-lmwt", "11",
                  "--ali-opts", "--retry-beam 400",  # the tiny tri1 fails 9 of 50 at 40
                  *NN_GMM,
                  str(work), "si_george"])
    assert study.returncode == 0, study.stdout[-3000:] + study.stderr[-3000:]
    exp = work / "exp" / "si_george" / "full"
    table = (work / "CV_STUDY.md").read_text()
    for system in SYSTEMS + ("lstm_ce_splice5", "lstm_ce_big", "lstm_ce_e20", "lstm_ce_e40",
                             "lstm_kt_rand", "lstm_kt_rand_e10_ft", "lstm_kt_rand_T4_ft",
                             "lstm_kt_rand_ft_w05", "lstm_kt_rbm_ft_w05", "lstm_s5_kt_rbm_ft_w05"):
        assert f"`{system}`" in table, system
        evaluated = json.loads((exp / "seed1" / system / "eval_test.json").read_text())
        assert evaluated["utterances"] == 50 and 0 <= evaluated["frame_acc"] <= 1
        sweep = exp / "seed1" / system / "decode_sweep"
        assert sorted(p.name for p in sweep.glob("wer_*")) == ["wer_10", "wer_11", "wer_9"]
    assert "`lstm_kt_rand_T1_ft`" not in table  # only the temperatures asked for
    assert "## LM-weight sweep on `george`" in table and "| `mono` |" in table
    big = yaml.safe_load((exp / "seed1" / "lstm_ce_big" / "config.yaml").read_text())
    assert (big["hidden_dim"], big["proj_dim"], big["max_epochs"]) == (256, 128, 1)


@pytest.mark.slow
def test_run_cv_lmwt_decodes_with_the_weights_chosen_per_fold(main_run, repo_root, tmp_path):
    work, _, first = main_run
    assert first.returncode == 0
    # a hand-written choice (local/choose_lmwt.sh's output)
    choice = tmp_path / "lmwt" / "lmwt_george"
    choice.mkdir(parents=True)
    (choice / "lmwt_full").write_text("gmm 7\nnn 9\n")
    cmd = ["bash", _local(repo_root, "run_cv_lmwt.sh"), "--work", str(work), *CELLS, *NN_GMM,
           str(tmp_path / "lmwt")]
    cv = _run(cmd, timeout=300)
    assert cv.returncode == 0, cv.stderr[-3000:]
    exp = work / "exp" / "si_george" / "full"
    assert (exp / "mono" / "decode_test_cv" / "wer_7").exists()
    for system in SYSTEMS + STUDY_SYSTEMS:
        assert (exp / "seed1" / system / "decode_test_cv" / "wer_9").exists(), system
    cv_results = (work / "RESULTS_cvlmwt.md").read_text()
    assert "george 7/9" in cv_results and "chosen per fold" in cv_results
    assert "`dnn_rbm_fm8`" not in cv_results  # the systems of the committed RESULTS_cvlmwt.md
    assert "george 12/10" in (work / "RESULTS.md").read_text()  # the a-priori table is kept
    (choice / "lmwt_full").unlink()
    missing = _run(cmd, timeout=300)
    assert missing.returncode != 0 and "run local/choose_lmwt.sh for fold george" in missing.stderr


@pytest.mark.study
@pytest.mark.slow
def test_teacher_study_tiny(fsdd_dir, repo_root, tmp_path):
    """local/teacher_study.sh: nested folds (george, jackson; theo never read), plain, dropout
    and frequency-masking teachers decoded, TEACHER_STUDY_theo.md pairs them; the VTLP teachers
    left out with --warps "" (local/run_vtlp.sh has its own test, on main_run). In a work
    dir of its own: main_run's teachers train on tri1's alignments (--nn-gmm tri1), the study's
    on the monophone's, so in run.sh's work dir it would stop at the first of them ("made by
    another command", tests/unit/test_systems_sh.py), where it used to take them silently."""
    work = tmp_path / "study"
    cmd = ["bash", _local(repo_root, "teacher_study.sh"), "--seeds", "1", "--conf", TINY_CONF,
           "--speakers", "george jackson theo", "--max-index", "5", "--warps", "",
           str(fsdd_dir), str(work),
           "theo"]
    result = _run(cmd, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "theo" not in (work / "data" / "all" / "utt2spk").read_text()
    assert sorted(p.name for p in (work / "exp").iterdir()) == ["si_george", "si_jackson"]
    table = (work / "TEACHER_STUDY_theo.md").read_text()
    assert "(folds: george, jackson)" in table
    assert table.startswith("# DNN teachers with regularisers on new speakers: "
                            "nested folds inside fold theo")
    assert "_vtlp" not in table and "VTLP teachers" not in result.stderr
    for name in ("", "_do0.2", "_fm8"):
        for t in ("rand", "rbm"):
            assert f"| `dnn_{t}{name}` " in table, name
            for fold in ("george", "jackson"):
                seed = work / "exp" / f"si_{fold}" / "full" / "seed1"
                assert "/ 50," in _wer(seed / f"dnn_{t}{name}" / "decode_test")
    assert "`dnn_rbm_fm8` vs `dnn_rbm`" in table and "`dnn_rand_do0.2` vs `mono`" in table
    config = yaml.safe_load((work / "exp" / "si_george" / "full" / "seed1" / "dnn_rbm_do0.2" /
                             "config.yaml").read_text())
    assert config["dropout"] == 0.2 and config["freq_mask"] == 0
    plain = yaml.safe_load((work / "exp" / "si_george" / "full" / "seed1" / "dnn_rbm" /
                            "config.yaml").read_text())
    assert plain["freq_mask"] == 0  # the plain teacher: run.sh's without its masking
    assert "asrkt train-teacher" in result.stderr  # the teachers trained here
    assert not (work / "exp" / "si_jackson" / "full" / "seed1" / "lstm_ce").exists()
    assert not (work / "exp" / "si_jackson" / "full" / "tri1").exists()  # --gmm-systems mono


def test_fsdd_recipe_rejects_missing_corpus(repo_root, tmp_path):
    result = _run(["bash", str(repo_root / "recipes" / "fsdd" / "run.sh"), "--work",
                   str(tmp_path / "work"), str(tmp_path / "nowhere")], timeout=120)
    assert result.returncode != 0
    assert "no recordings/ in" in result.stderr and "free-spoken-digit-dataset" in result.stderr
    # invoked by a relative path from the repository root (run.sh cds into its own folder)
    relative = _run(["bash", "recipes/fsdd/run.sh", "--work", str(tmp_path / "work2"),
                     str(tmp_path / "nowhere")], cwd=repo_root, timeout=120)
    assert relative.returncode != 0 and "no recordings/ in" in relative.stderr, relative.stderr
    # the networks' GMM must be one of those trained
    no_gmm = _run(["bash", str(repo_root / "recipes" / "fsdd" / "run.sh"), "--work",
                   str(tmp_path / "work3"), "--gmm-systems", "mono", *NN_GMM,
                   str(tmp_path / "nowhere")],
                  timeout=120)
    assert no_gmm.returncode != 0
    assert "--nn-gmm 'tri1' is not one of --gmm-systems 'mono'" in no_gmm.stderr, no_gmm.stderr


def test_run_sh_finds_the_default_corpus_from_any_work_dir(fsdd_dir, repo_root, tmp_path):
    # the default corpus path is relative to recipes/fsdd; run.sh must resolve it before it
    # enters --work (a bug once made every --work run without a corpus argument fail)
    work = tmp_path / "elsewhere" / "work"
    result = _run(["bash", str(repo_root / "recipes" / "fsdd" / "run.sh"), "--work", str(work),
                   "--speakers", "george", "--max-index", "1", "--stop-stage", "0"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert len((work / "data" / "all" / "wav.scp").read_text().splitlines()) == 10


def test_recipe_scripts_with_a_usage_line_are_executable(repo_root):
    # the READMEs call them as local/<name>.sh; only sourced files (layout.sh, stage.sh,
    # systems.sh, path.sh) have no usage line and need no executable bit
    scripts = sorted((repo_root / "recipes").glob("**/*.sh"))
    documented = [p for p in scripts if "Usage:" in p.read_text()]
    assert len(documented) >= 15, documented
    not_executable = [str(p.relative_to(repo_root)) for p in documented
                      if not os.access(p, os.X_OK)]
    assert not not_executable, f"chmod +x {' '.join(not_executable)}"


def test_parse_options_sets_checks_and_documents_options(repo_root, tmp_path):
    """recipes/common/parse_options.sh: --name value / --name=value set the variable, unknown
    options and non-boolean values for boolean options are errors, --help lists the defaults."""
    script = tmp_path / "s.sh"
    script.write_text("#!/usr/bin/env bash\n# A test script.\nset -eu\n"
                      "nj=2            # parallel jobs\nfast=false      # go fast\n"
                      "some_name=\"a b\"\n"
                      f". {repo_root}/recipes/common/parse_options.sh\n"
                      'echo "nj=$nj fast=$fast some_name=$some_name rest=$*"\n')
    ok = _run(["bash", str(script), "--nj", "4", "--fast=true", "--some-name", "x y", "pos"],
              timeout=30)
    assert ok.returncode == 0 and ok.stdout == "nj=4 fast=true some_name=x y rest=pos\n", ok.stderr
    unknown = _run(["bash", str(script), "--jobs", "4"], timeout=30)
    assert unknown.returncode == 1 and "unknown option --jobs" in unknown.stderr
    boolean = _run(["bash", str(script), "--fast", "yes"], timeout=30)
    assert boolean.returncode == 1 and "--fast takes true or false" in boolean.stderr
    missing = _run(["bash", str(script), "--nj"], timeout=30)
    assert missing.returncode == 1 and "needs a value" in missing.stderr
    usage = _run(["bash", str(script), "--help"], timeout=30)
    assert usage.returncode == 0 and "A test script." in usage.stdout
    assert ("  --nj 2            # parallel jobs" in usage.stdout
            and '--some-name "a b"' in usage.stdout)


def test_kt_results_script_pools_folds_and_seeds(repo_root, tmp_path):
    """scripts/kt_results.py on a fake exp dir: per-fold means, pooled mean ± std over seeds."""
    exp = tmp_path / "exp"

    def wer(path: Path, errors: int, words: int) -> None:
        (path / "scoring_kaldi").mkdir(parents=True)
        (path / "scoring_kaldi" / "best_wer").write_text(
            f"%WER {100 * errors / words:.2f} "
            f"[ {errors} / {words}, 0 ins, 0 del, {errors} sub ] x\n")

    for split in ("si_a", "si_b"):
        wer(exp / split / "full" / "mono" / "decode_test", 1, 100)
        wer(exp / split / "full" / "tri1" / "decode_test", 2, 100)  # a GMM: no seed dir
        for seed, (ce, kt, dnn) in {"1": (10, 5, 0), "2": (20, 5, 2)}.items():
            wer(exp / split / "full" / f"seed{seed}" / "lstm_ce" / "decode_test", ce, 100)
            wer(exp / split / "full" / f"seed{seed}" / "lstm_kt_rand_ft" / "decode_test", kt, 100)
            wer(exp / split / "full" / f"seed{seed}" / "lstm_kt_rand_ftreg" / "decode_test", 3, 100)
            wer(exp / split / "full" / f"seed{seed}" / "dnn_rbm" / "decode_test", dnn, 100)
            (exp / split / "full" / f"seed{seed}" / "lstm_ce" / "train.jsonl").write_text(
                '{"epoch": 0, "cv_acc": 0.1, "accepted": true}\n'
                '{"epoch": 1, "cv_acc": 0.5, "accepted": true}\n')
    out = tmp_path / "RESULTS.md"
    result = subprocess.run([sys.executable, str(repo_root / "scripts" / "kt_results.py"),
                             "--exp", str(exp),
                             "--splits", "si_a si_b", "--conditions", "full", "--seeds", "1 2",
                             "--systems", "mono tri1 dnn_rbm lstm_ce lstm_kt_rand_ft "
                             "lstm_kt_rand_ftreg",
                             "--command", "x", "--out", str(out),
                             "--png", str(tmp_path / "R.png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "| `mono` monophone GMM-HMM (flat start) | 1.00 | 1.00 | 1.00 | – | – |" in text
    assert ("| `tri1` triphone GMM-HMM, deltas (train-deltas on mono's alignments) "
            "| 2.00 | 2.00 | 2.00 | – | – |") in text
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
            (d / f"wer_{w}").write_text(
                f"%WER {wer:.2f} [ {int(wer)} / 100, 0 ins, 0 del, 0 sub ]\n")
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
