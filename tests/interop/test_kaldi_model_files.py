"""Kaldi's model and tree files both ways, with a reference Kaldi build (skipped without one):
Kaldi's tree-info, gmm-info and hmm-info read asrkt's mono and tri ``final.mdl`` and ``tree``;
Kaldi's binary copies of them (``gmm-copy --binary=true``, ``copy-tree --binary=true``) read back
into asrkt give the same model and likelihoods; and the binary files of asrkt's test writer and
tree writer are what Kaldi writes. The toy corpus of tests/unit/test_kaldi_model_files.py;
the build is found as tests/interop/test_kaldi_interop.py finds it."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tests.interop.test_kaldi_interop import KALDI_ROOT
from tests.unit.test_kaldi_model_files import _test_feats, root, toy  # noqa: F401 (fixtures)

TOOLS = ("gmm-copy", "copy-tree", "tree-info", "gmm-info", "hmm-info")


def kaldi(tool: str, *args) -> str:
    """Run a Kaldi binary of the reference build; its stdout (skip when the build lacks it)."""
    binary = KALDI_ROOT / "bin" / tool
    if not binary.exists():
        pytest.skip(f"no {tool} in the reference Kaldi build {KALDI_ROOT / 'bin'} (run "
                    f"scripts/build_kaldi_reference.sh or set ASRKT_KALDI_ROOT)")
    result = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def info(text: str) -> dict:
    """'name value' lines of tree-info/gmm-info/hmm-info as {name: int}."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if value.lstrip("-").isdigit():
            out[name.strip()] = int(value)
    return out


@pytest.mark.parametrize("model", ["mono", "tri1"])
def test_kaldi_info_tools_read_asrkt_models(root, model):  # noqa: F811 (the fixture)
    from asrkt.hmm.model import GmmModel

    m = GmmModel.load(root / model)
    tree = info(kaldi("tree-info", root / model / "tree"))
    assert tree == {"num-pdfs": m.num_pdfs, "context-width": m.tree.context_width,
                    "central-position": m.tree.central_position}
    gmm = info(kaldi("gmm-info", root / model / "final.mdl"))
    assert (gmm["number of pdfs"], gmm["number of transition-ids"], gmm["feature dimension"],
            gmm["number of gaussians"]) == (m.num_pdfs, m.tm.num_transition_ids, m.dim,
                                            m.num_gauss)
    hmm = info(kaldi("hmm-info", root / model / "final.mdl"))
    assert (hmm["number of phones"], hmm["number of pdfs"],
            hmm["number of transition-states"]) == (len(m.topo.phones), m.num_pdfs,
                                                    m.tm.num_transition_states)


@pytest.mark.parametrize("model", ["mono", "tri1"])
def test_kaldi_binary_copies_read_back_into_the_same_model(root, model, tmp_path):  # noqa: F811
    """asrkt model -> gmm-copy/copy-tree --binary=true -> asrkt: the model read from Kaldi's
    binary files is the one read from asrkt's text files (parameters, transition log-probs,
    likelihoods, the tree), and Kaldi's text copy reads back to it too."""
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.tree import Tree

    src = root / f"{model}_text"
    for name, binary in (("kbin", "true"), ("ktext", "false")):
        d = tmp_path / name
        shutil.copytree(src, d)
        kaldi("gmm-copy", f"--binary={binary}", src / "final.mdl", d / "final.mdl")
        kaldi("copy-tree", f"--binary={binary}", src / "tree", d / "tree")
    assert (tmp_path / "kbin" / "final.mdl").read_bytes()[:2] == b"\x00B"
    # asrkt's binary tree writer writes Kaldi's bytes
    kaldi_tree = (tmp_path / "kbin" / "tree").read_bytes()
    assert kaldi_tree == (root / f"{model}_bin" / "tree").read_bytes()
    assert Tree.read(tmp_path / "ktext" / "tree").to_bytes() == Tree.read(src / "tree").to_bytes()
    want = GmmModel.load(src)
    feats = _test_feats(root)[:5]
    for name in ("kbin", "ktext"):
        got = GmmModel.load(tmp_path / name)
        assert got.cd_tree.to_bytes() == want.cd_tree.to_bytes()
        assert np.array_equal(got.tid2pdf(), want.tid2pdf())
        assert np.array_equal(np.asarray(got.tm.log_probs), np.asarray(want.tm.log_probs))
        for a, b in zip(got.gmms, want.gmms):
            for field in ("weights", "means", "vars"):
                assert np.array_equal(getattr(a, field), getattr(b, field)), (name, field)
        for utt, x in feats:
            assert np.array_equal(got.pdf_loglikes(x, utt), want.pdf_loglikes(x, utt))


@pytest.mark.parametrize("model", ["mono", "tri1"])
def test_kaldi_reads_the_test_writers_binary_model_as_asrkts_text(root, model, tmp_path):  # noqa: F811
    """The binary files of tests/helpers/kaldi_model_writer.py are Kaldi's format: gmm-copy
    prints the same text for them as for asrkt's text model."""
    from_text = kaldi("gmm-copy", "--binary=false", root / f"{model}_text" / "final.mdl", "-")
    from_binary = kaldi("gmm-copy", "--binary=false", root / f"{model}_bin" / "final.mdl", "-")
    assert from_text == from_binary and "<DiagGMM>" in from_text
