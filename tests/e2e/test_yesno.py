"""recipes/yesno/run.sh end to end: Kaldi's egs/yesno reaches %WER 0.00, and so must we."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_yesno_recipe_reaches_zero_wer(yesno_dir, repo_root, tmp_path):
    recipes = tmp_path / "recipes"
    shutil.copytree(repo_root / "recipes" / "yesno", recipes / "yesno",
                    ignore=shutil.ignore_patterns("data", "exp", "mfcc"))
    shutil.copytree(repo_root / "recipes" / "common", recipes / "common")
    shutil.copytree(repo_root / "scripts", tmp_path / "scripts",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    result = subprocess.run(["bash", "run.sh", str(yesno_dir / "waves_yesno")],
                            cwd=recipes / "yesno", env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    decode = recipes / "yesno" / "exp" / "mono0a" / "decode_test_yesno"
    best = (decode / "scoring_kaldi" / "best_wer").read_text()
    assert best.startswith("%WER 0.00 [ 0 / 240, 0 ins, 0 del, 0 sub ]"), best
    assert len(list(decode.glob("wer_*"))) == 11
    # the default LM-weight sweep (one search) against Kaldi's LatticeFasterDecoder per weight on
    # the test set, for the GMM and for the fine-tuned KT student's log-likelihoods
    yesno = recipes / "yesno"
    lstm = f"scp:{yesno}/exp/lstm_kt_ft/loglikes_test_yesno/loglikes.scp"
    for extra, data in (([], "test_yesno"), (["--loglikes", lstm], "fbank/test_yesno")):
        compared = subprocess.run(
            [sys.executable, str(repo_root / "scripts" / "compare_sweep.py"), *extra,
             str(yesno / "exp" / "mono0a"), str(yesno / "exp" / "mono0a" / "graph_tgpr"),
             str(yesno / "data" / data)], capture_output=True, text=True, timeout=300)
        assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr[-2000:]
        assert "asrkt per weight 0 of 330, asrkt sweep 0 of 330" in compared.stdout, \
            compared.stdout
    # neural stages: DNN teacher, LSTM baseline, KT-pre-trained + fine-tuned LSTM, decoded hybrid
    results = (recipes / "yesno" / "RESULTS.md").read_text()
    for system in ("mono", "dnn", "lstm_ce", "lstm_kt_ft"):
        row = next(line for line in results.splitlines()
                   if line.startswith(f"| `{system}`"))
        assert re.fullmatch(r"\d+\.\d\d", row.split("|")[2].strip()), row
    assert "| `mono`" in results and "0.00" in results.split("| `mono`")[1].split("\n")[0]
    # stages can be re-run on their own
    again = subprocess.run(["bash", "run.sh", "--stage", "5", "--stop-stage", "5",
                            str(yesno_dir / "waves_yesno")], cwd=recipes / "yesno", env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "%WER 0.00" in again.stdout


def test_yesno_recipe_rejects_missing_corpus(repo_root, tmp_path):
    result = subprocess.run(["bash",
                             str(repo_root / "recipes" / "yesno" / "local" / "prepare_data.sh"),
                             str(tmp_path / "nowhere"), str(tmp_path / "data")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "no such directory" in result.stderr
