"""recipes/speechocean762/local/kaldi_anchor.sh: mono, tri1 and tri2 (LDA+MLLT) trained by the
reference Kaldi build's binaries on the recipe's features and lang (run.sh stages 0-3 on the
9-speaker sample, tiny sizes), each decoded on dev by asrkt over the given LM-weight sweep; a
second call skips every training step. Without the build it says
so and exits 0; a bad --gmms stops with one line either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_speechocean762_recipe import _run, sample  # noqa: F401 (fixture)
from tests.interop.test_kaldi_interop import KALDI_ROOT

ROOT = Path(__file__).resolve().parents[2]
SIZES = ["--mono-gauss", 150, "--tri1-leaves", 80, "--tri1-gauss", 250, "--tri2-leaves", 80,
         "--tri2-gauss", 250, "--gmm-min-lmwt", 10, "--gmm-max-lmwt", 12, "--nj", 1]


def anchor(*args, kaldi_root: Path = KALDI_ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run(["bash", str(ROOT / "recipes" / "speechocean762" / "local" /
                                       "kaldi_anchor.sh"), "--kaldi-root", str(kaldi_root),
                           *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=1200)


def test_without_the_build_the_anchor_is_skipped(tmp_path):
    result = anchor(tmp_path, kaldi_root=tmp_path / "nokaldi")
    assert result.returncode == 0
    assert "no Kaldi reference build with the GMM tools" in result.stderr
    bad = anchor("--gmms", "mono tri3", tmp_path, kaldi_root=tmp_path / "nokaldi")
    assert bad.returncode == 1 and bad.stderr.strip() == \
        "kaldi_anchor.sh: --gmms: mono, tri1 and/or tri2, not 'tri3'", bad.stderr


@pytest.mark.slow
def test_kaldi_anchor_of_mono_tri1_tri2_on_the_sample(sample, tmp_path):  # noqa: F811
    if not (KALDI_ROOT / "bin" / "est-mllt").exists():
        pytest.skip(f"no reference Kaldi build with est-mllt in {KALDI_ROOT} (run "
                    "scripts/build_kaldi_reference.sh or set ASRKT_KALDI_ROOT)")
    work = tmp_path / "work"
    prep = _run("--stop-stage", 3, "--conditions", "full", "--nj", 1, "--work", work, sample)
    assert prep.returncode == 0, prep.stderr[-2000:]
    result = anchor(*SIZES, work)
    assert result.returncode == 0, result.stderr[-3000:]
    exp = work / "kaldi_exp"
    assert (exp / "tri2" / "final.mat").is_file() and (exp / "tri1_ali").is_dir()
    words = sum(len(line.split()) - 1 for line in
                (work / "data" / "dev" / "text").read_text().splitlines())
    for g in ("mono", "tri1", "tri2"):
        best = (exp / g / "decode_dev" / "scoring_kaldi" / "best_wer").read_text()
        assert f"/ {words}," in best, (g, best)
        assert sorted(p.name for p in (exp / g / "decode_dev").glob("wer_*")) == \
            ["wer_10", "wer_11", "wer_12"]
    assert "--tri2-leaves 80 --tri2-gauss 250" in (exp / "tri2" / ".done").read_text()
    again = anchor(*SIZES, work)
    assert again.returncode == 0 and again.stderr.count("done already, skipping") >= 2, \
        again.stderr[-2000:]
