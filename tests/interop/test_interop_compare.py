"""scripts/kaldi_interop_compare.py without Kaldi: each comparison passes on equal inputs and
fails on a difference (so a PASS of the interop checks means something)."""

from __future__ import annotations

import os
import subprocess
import sys

import kaldiio
import numpy as np
import pytest


@pytest.fixture
def compare(repo_root, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=str(repo_root))
        script = repo_root / "scripts" / "kaldi_interop_compare.py"
        return subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              text=True, cwd=tmp_path, env=env)
    return run


def _ark(path, table) -> str:
    with kaldiio.WriteHelper(f"ark,scp:{path}.ark,{path}.scp") as writer:
        for key, value in table.items():
            writer(key, value)
    return f"scp:{path}.scp"


def test_tables_within_tolerance_pass_and_beyond_fail(compare, tmp_path):
    rng = np.random.default_rng(0)
    a = {"u1": rng.standard_normal((5, 3)).astype(np.float32), "u2": np.ones((2, 3), np.float32)}
    b = {k: v * (1 + 1e-5) for k, v in a.items()}
    c = dict(a, u2=a["u2"] * 1.01)
    sa, sb, sc = _ark(tmp_path / "a", a), _ark(tmp_path / "b", b), _ark(tmp_path / "c", c)
    assert compare("tables", sa, sb, "--rtol", "1e-3").stdout.startswith("PASS")
    res = compare("tables", sa, sc, "--rtol", "1e-3")
    assert res.returncode == 1 and res.stdout.startswith("FAIL") and "u2" in res.stdout
    assert compare("tables", sa, sb).returncode == 1          # exact comparison by default
    missing = compare("tables", sa, _ark(tmp_path / "d", {"u1": a["u1"]}))
    assert missing.returncode == 1 and "keys differ" in missing.stdout


def test_counts_offset_hyps_and_wer(compare, tmp_path):
    (tmp_path / "k").write_text("[ 3.5 0.5 10.5 ]\n")
    (tmp_path / "a").write_text("[ 3 0 10 ]\n")
    assert compare("counts", "--offset", "0.5", "k", "a").returncode == 0
    assert compare("counts", "k", "a").returncode == 1
    (tmp_path / "h1").write_text("u1 one two\nu2 three\n")
    (tmp_path / "h2").write_text("u1 one two\nu2 four\n")
    assert compare("hyps", "h1", "h1").returncode == 0
    res = compare("hyps", "h1", "h2")
    assert res.returncode == 1 and "1 of 2 utterances equal" in res.stdout
    wer = "%WER 16.00 [ 16 / 100, 0 ins, 4 del, 12 sub ]"
    assert compare("wer-equal", wer, wer).returncode == 0
    assert compare("wer-equal", wer, wer.replace("16", "17")).returncode == 1


def test_bad_input_is_one_line(compare):
    res = compare("tables", "ark:/nonexistent.ark", "ark:/nonexistent2.ark")
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "error:" in res.stderr
