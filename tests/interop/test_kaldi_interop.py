"""Interop with a reference Kaldi build (scripts/build_kaldi_reference.sh), both directions.

Runs scripts/kaldi_interop.sh once (a few minutes on 2 cores) and checks each of its results:
Kaldi's binaries read asrkt's features, CMVN, model, tree, graphs, log-likelihoods and
Posterior tables and agree with asrkt's aligner and decoders; asrkt reads Kaldi's features,
alignments, pdf alignments and priors, trains on them and decodes Kaldi's alignment; and the
context-dependent checks (tree statistics, build-tree, tri1 models both ways, tri1 WERs, a
network on Kaldi's tri1 pdfs through both decoders, LDA and MLLT statistics and estimates,
deterministic single-Gaussian tri1/tri2 likelihoods and WERs).
Skips (with a message) without a build: set ASRKT_KALDI_ROOT or build into
~/.cache/asrkt/kaldi. CI does not build Kaldi.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KALDI_ROOT = Path(os.environ.get("ASRKT_KALDI_ROOT", Path.home() / ".cache" / "asrkt" / "kaldi"))

CHECKS = [
    # Kaldi reads asrkt
    "copy-feats",
    "compute-cmvn-stats",
    "gmm-info/hmm-info/tree-info",
    "gmm-align-compiled == asrkt align",
    "gmm-decode-faster == asrkt decode",
    "latgen-faster-mapped == asrkt decode-nnet (hyps)",
    "latgen-faster-mapped == asrkt decode-nnet (WER)",
    "copy-post reads dump-posteriors --top-k",
    # asrkt reads Kaldi
    "compute-fbank-feats == asrkt make-feats",
    "compute-mfcc-feats == asrkt make-feats",
    "asrkt ali-to-pdf == Kaldi ali-to-pdf",
    "analyze-counts == asrkt pdf_counts + 0.5",
    "train-teacher on Kaldi alignments == on asrkt's",
    "KT student on Kaldi alignments, latgen-faster-mapped == decode-nnet",
    "KT student recognises speech",
    "Kaldi alignment -> asrkt decode-nnet + score",
]
# stage 2, Kaldi's binary model files: run when the build has gmm-copy and copy-tree
MODEL_FILE_CHECKS = [
    "asrkt align with gmm-copy --binary=true of our model == asrkt align",
    "asrkt decode with gmm-copy --binary=true of our model == asrkt decode",
]
# stage 3, context-dependent: run when the build has the tree and GMM training tools
CD_CHECKS = [
    "acc-tree-stats == asrkt tree statistics",
    "sum-tree-stats reads asrkt's treeacc",
    "build-tree == asrkt build_tree",
    "tri1 tree-info/gmm-info",
    "gmm-align-compiled == asrkt align (tri1)",
    "gmm-latgen-faster == asrkt decode (tri1)",
    "tri1 EM passes, Kaldi's vs asrkt's likelihoods",
    "asrkt decode with Kaldi's tri1 == gmm-latgen-faster",
    "asrkt align with Kaldi's tri1 == gmm-align-compiled",
    "network on Kaldi's tri1 pdfs",
    "latgen-faster-mapped == asrkt decode-nnet with Kaldi's tri1 (hyps)",
    "latgen-faster-mapped == asrkt decode-nnet with Kaldi's tri1 (WER)",
    "gmm-latgen-faster == asrkt decode (tri2, LDA+MLLT)",
    "acc-lda --rand-prune 0 + est-lda == asrkt's LDA (train-lda-mllt 0.mat)",
    "est-lda == asrkt estimate_lda (acc-lda's statistics)",
    "gmm-acc-mllt --rand-prune 0 == asrkt's MLLT statistics (tri2's model)",
    "est-mllt == asrkt estimate_mllt (gmm-acc-mllt's statistics)",
    "single-Gaussian tri1 EM passes, Kaldi's vs asrkt's likelihoods",
    "single-Gaussian tri2 EM passes (--randprune 0), Kaldi's vs asrkt's likelihoods",
    "single-Gaussian tri1 WER, Kaldi's vs asrkt's train-deltas",
    "tri2 (LDA+MLLT) WER, single-Gaussian, Kaldi's (--randprune 0) vs asrkt's train-lda-mllt",
    "asrkt decode with Kaldi's tri2 (LDA+MLLT) == gmm-latgen-faster",
]


@pytest.fixture(scope="module")
def interop_results(fsdd_dir, repo_root, tmp_path_factory):
    """{check name: 'PASS ...'/'FAIL ...' line} of one scripts/kaldi_interop.sh run."""
    if not (KALDI_ROOT / "bin" / "latgen-faster-mapped").exists():
        pytest.skip(f"no reference Kaldi build in {KALDI_ROOT} (run "
                    "scripts/build_kaldi_reference.sh or set ASRKT_KALDI_ROOT)")
    work = tmp_path_factory.mktemp("kaldi_interop")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               ASRKT_PYTHON=sys.executable, ASRKT_KALDI_ROOT=str(KALDI_ROOT),
               PYTHONPATH=str(repo_root))
    result = subprocess.run(["bash", str(repo_root / "scripts" / "kaldi_interop.sh"),
                             "--fsdd", str(fsdd_dir), "--work", str(work)],
                            env=env, capture_output=True, text=True, timeout=1800)
    log = result.stdout[-3000:] + result.stderr[-3000:]
    path = work / "results.txt"
    results = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        status, _, rest = line.partition(" ")
        name = rest.split(": ", 1)[0]
        results[name] = line
    if not results:
        pytest.fail("kaldi_interop.sh wrote no results:\n" + log)
    results["__log__"] = log
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_kaldi_interop(interop_results, name):
    assert name in interop_results, (f"check '{name}' did not run:\n" + interop_results["__log__"])
    assert interop_results[name].startswith("PASS "), interop_results[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", CD_CHECKS)
def test_kaldi_interop_context_dependent(interop_results, name):
    """Tree statistics, build-tree, tri1 alignment/decoding both ways, tri1 WERs (stage 3)."""
    _passed_if_built(interop_results, name, ("build-tree", "gmm-init-model"))


@pytest.mark.slow
@pytest.mark.parametrize("name", MODEL_FILE_CHECKS)
def test_kaldi_interop_binary_model_files(interop_results, name):
    """asrkt align/decode with Kaldi's binary copies of our model == with our model dir."""
    _passed_if_built(interop_results, name, ("gmm-copy", "copy-tree"))


def _passed_if_built(interop_results, name, tools) -> None:
    """The check passed; skipped when the build predates ``tools`` (the script skips it too)."""
    if not all((KALDI_ROOT / "bin" / b).exists() for b in tools):
        pytest.skip(f"the build in {KALDI_ROOT} has no {'/'.join(tools)} (rerun "
                    "scripts/build_kaldi_reference.sh)")
    assert name in interop_results, (f"check '{name}' did not run:\n" + interop_results["__log__"])
    assert interop_results[name].startswith("PASS "), interop_results[name]
