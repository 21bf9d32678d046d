"""Kaldi's model files read by asrkt: ``final.mdl`` (TransitionModel + AmDiagGmm) and ``tree``,
binary and text, checked against each other and the lang dir; the feature pipeline of a Kaldi
model dir from its option files; ``asrkt align``/``make-graph``/``decode``/``decode-nnet`` with a
model dir that holds only Kaldi's files give what the asrkt dir gives. Binary model files come
from tests/helpers/kaldi_model_writer.py (checked against Kaldi's gmm-copy in
tests/interop/test_kaldi_model_files.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from tests.cli.test_cli_deltas import toy  # noqa: F401 (the fixture)
from tests.cli.test_cli_hmm import _error, run


def kaldi_dir(corpus: Path, model: str, out: Path, binary: bool,
              lang: Optional[Path] = None) -> Path:
    """A Kaldi-style model dir of an asrkt model: final.mdl (asrkt's Kaldi text, or its binary
    form) and tree (binary or text), cmvn_opts and phones.txt as Kaldi's steps scripts leave
    them; no final.npz, no feature_pipeline.yaml."""
    from asrkt.hmm.kaldi_model import read_model_file
    from asrkt.hmm.tree import Tree
    from tests.helpers.kaldi_model_writer import write_binary_model

    out.mkdir(parents=True)
    src = corpus / model
    if binary:
        write_binary_model(read_model_file(src / "final.mdl"), out / "final.mdl")
        Tree.read(src / "tree").write(out / "tree", binary=True)
    else:
        shutil.copy(src / "final.mdl", out / "final.mdl")
        shutil.copy(src / "tree", out / "tree")
    (out / "cmvn_opts").write_text("--norm-means=true --norm-vars=false\n")
    shutil.copy((lang or corpus / "lang") / "phones.txt", out / "phones.txt")
    return out


@pytest.fixture(scope="module")
def root(toy) -> Path:  # noqa: F811 (the imported fixture)
    """test_cli_deltas' toy corpus (mono, mono_ali, tri1, lang_test) and Kaldi-style copies of
    its models: <model>_text (asrkt's files) and <model>_bin (binary final.mdl and tree)."""
    for model in ("mono", "tri1"):
        kaldi_dir(toy, model, toy / f"{model}_text", binary=False)
        kaldi_dir(toy, model, toy / f"{model}_bin", binary=True)
    return toy


def _test_feats(corpus: Path):
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline

    pipeline = FeaturePipeline.load(corpus / "tri1" / "feature_pipeline.yaml")
    return list(pipeline.iter_features(DataDir(corpus / "test")))


@pytest.mark.parametrize("model", ["mono", "tri1"])
def test_binary_and_text_kaldi_files_give_the_same_model(root, model):
    from asrkt.hmm.model import GmmModel

    asrkt_model = GmmModel.load(root / model)
    text, binary = GmmModel.load(root / f"{model}_text"), GmmModel.load(root / f"{model}_bin")
    assert (root / f"{model}_bin" / "final.mdl").read_bytes()[:2] == b"\x00B"
    assert (root / f"{model}_bin" / "tree").read_bytes()[:2] == b"\x00B"
    assert not (root / f"{model}_text" / "tree").read_bytes().startswith(b"\x00B")
    assert text.cd_tree.to_bytes() == binary.cd_tree.to_bytes()
    if model == "tri1":
        assert text.cd_tree.to_bytes() == asrkt_model.cd_tree.to_bytes()
        assert (text.cd_tree.context_width, text.cd_tree.central_position) == (3, 1)
    else:
        assert (text.cd_tree.context_width, text.cd_tree.central_position) == (1, 0)
    for other in (text, binary):
        assert other.num_pdfs == asrkt_model.num_pdfs and other.num_gauss == asrkt_model.num_gauss
        assert np.array_equal(other.tid2pdf(), asrkt_model.tid2pdf())
        assert np.array_equal(other.tid2phone(), asrkt_model.tid2phone())
        # Kaldi's text holds 6 (log-probs) or 7 (Gaussians) significant digits of asrkt's float64:
        # 6 digits round by up to 5e-6 relative
        np.testing.assert_allclose(other.tm.log_probs, asrkt_model.tm.log_probs, rtol=5e-6,
                                   atol=1e-6)
    for a, b in zip(text.gmms, binary.gmms):
        for field in ("weights", "means", "vars"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
            assert getattr(a, field).dtype == np.float64
    assert np.array_equal(np.asarray(text.tm.log_probs), np.asarray(binary.tm.log_probs))
    for utt, feats in _test_feats(root)[:5]:
        want = asrkt_model.pdf_loglikes(feats, utt)
        got = text.pdf_loglikes(feats, utt)
        assert np.array_equal(got, binary.pdf_loglikes(feats, utt))
        assert np.max(np.abs(got - want)) < 1e-5 * np.max(np.abs(want))
        assert np.array_equal(np.argmax(got, axis=1), np.argmax(want, axis=1))


def test_align_make_graph_decode_and_decode_nnet_with_a_kaldi_model_dir(root):
    """A model dir with only Kaldi's files (final.mdl + tree + cmvn_opts + phones.txt) aligns
    every utterance as the asrkt dir does, and its graph decodes to the same hypotheses."""
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import ArkScpWriter, read_kaldi_text_vector, read_table

    train, test, lang = root / "train", root / "test", root / "lang"
    for model in ("mono", "tri1"):
        run("align", train, lang, root / model, root / f"{model}_ali_asrkt")
        want = dict(read_table(root / f"{model}_ali_asrkt" / "ali.scp", "int-vector"))
        for form in ("text", "bin"):
            kdir, ali = root / f"{model}_{form}", root / f"{model}_{form}_ali"
            run("align", train, lang, kdir, ali)
            got = dict(read_table(ali / "ali.scp", "int-vector"))
            assert len(got) == len(want) == 40
            assert all(np.array_equal(got[u], want[u]) for u in want), (model, form)
            # the ALI_DIR carries Kaldi's files (as align_si.sh) and serves as a model dir
            assert {"final.mdl", "tree", "cmvn_opts", "phones.txt"} <= {
                p.name for p in ali.iterdir()}
            assert not (ali / "final.npz").exists()
            run("ali-to-pdf", ali, f"scp:{ali / 'ali.scp'}", ali / "pdf.ark")
            assert np.array_equal(read_kaldi_text_vector(ali / "pdf_counts"),
                                  read_kaldi_text_vector(root / f"{model}_ali_asrkt" /
                                                         "pdf_counts"))
    hyps = {}
    for name in ("tri1", "tri1_bin"):
        graph = root / name / "graph"
        run("make-graph", root / "lang_test", root / name, graph)
        run("decode", "--min-lmwt", "10", "--max-lmwt", "10", graph, test, root / name,
            root / name / "decode")
        hyps[name] = (root / name / "decode" / "scoring" / "10.txt").read_text()
    assert hyps["tri1_bin"] == hyps["tri1"] and len(hyps["tri1"].splitlines()) == 20
    assert (root / "tri1_bin" / "graph" / "num_pdfs").read_text() == (
        root / "tri1" / "graph" / "num_pdfs").read_text()
    model = GmmModel.load(root / "tri1_bin")
    with ArkScpWriter(root / "loglikes.ark", root / "loglikes.scp") as writer:
        for utt, feats in _test_feats(root):
            writer.write(utt, model.pdf_loglikes(feats, utt))
    run("decode-nnet", "--min-lmwt", "10", "--max-lmwt", "10", root / "tri1_bin" / "graph",
        f"scp:{root / 'loglikes.scp'}", root / "tri1_bin", root / "decode_nnet")
    assert (root / "decode_nnet" / "scoring" / "10.txt").read_text() == hyps["tri1"]


def test_align_with_an_lda_mllt_model_dir_of_kaldi_files(root, tmp_path):
    """train-lda-mllt's model as Kaldi leaves it (final.mdl, tree, final.mat, splice_opts,
    cmvn_opts): the features go through splice-feats and final.mat, and align gives the asrkt
    dir's alignments."""
    from asrkt.io.tables import read_table

    tri2 = tmp_path / "tri2"
    run("train-lda-mllt", "--num-leaves", "30", "--totgauss", "90", "--thresh", "5",
        "--num-iters", "6", "--max-iter-inc", "4", "--realign-iters", "2 4", "--mllt-iters", "2",
        "--dim", "20", root / "train", root / "lang", root / "tri1", tri2)
    kdir = kaldi_dir(tmp_path, "tri2", tmp_path / "tri2_kaldi", binary=True, lang=root / "lang")
    for name in ("final.mat", "splice_opts", "cmvn_opts"):
        shutil.copy(tri2 / name, kdir / name)
    for model in (tri2, kdir):
        run("align", root / "train", root / "lang", model, tmp_path / f"{model.name}_ali")
    want = dict(read_table(tmp_path / "tri2_ali" / "ali.scp", "int-vector"))
    got = dict(read_table(tmp_path / "tri2_kaldi_ali" / "ali.scp", "int-vector"))
    assert len(got) == len(want) == 40
    assert all(np.array_equal(got[u], want[u]) for u in want)
    (kdir / "final.mat").unlink()  # decode.sh's delta features then: 13 x 3 dims, not 20
    line = _error(run("align", root / "train", root / "lang", kdir, tmp_path / "x", ok=False))
    assert f"{kdir / 'final.mdl'}: the model's dimension 20 is not 3 x" in line


# ---- the feature pipeline of a Kaldi model dir -------------------------------------------------
def test_pipeline_from_kaldi_option_files(root, tmp_path):
    from asrkt.errors import AsrktError
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.kaldi_model import kaldi_pipeline, model_pipeline
    from asrkt.hmm.model import GmmModel

    model = GmmModel.load(root / "tri1_text")
    pipeline = model_pipeline(root / "tri1_text", model)
    assert pipeline.config == FeaturePipeline.load(root / "tri1" / "feature_pipeline.yaml").config
    assert pipeline.input_dim == 13
    d = tmp_path / "k"
    d.mkdir()
    cfg = kaldi_pipeline(d, 39).config  # no option files: apply-cmvn and add-deltas defaults
    assert (cfg.cmvn, cfg.norm_vars, cfg.delta_order, cfg.delta_window) == ("speaker", False, 2, 2)
    (d / "cmvn_opts").write_text("--norm-vars=true\n")
    (d / "delta_opts").write_text("--delta-order=1 --delta-window=3\n")
    p = kaldi_pipeline(d, 26)
    assert (p.config.cmvn, p.config.norm_vars, p.config.delta_order, p.config.delta_window,
            p.input_dim) == ("speaker", True, 1, 3, 13)
    (d / "cmvn_opts").write_text("--norm-means=false --norm-vars=false")
    assert kaldi_pipeline(d, 26).config.cmvn == "none"
    for text, message in (("--norm-means=false --norm-vars=true", "needs --norm-means=true"),
                          ("--center=true", "'--center=true' is not one asrkt applies"),
                          ("--norm-vars=maybe", "--norm-vars=maybe is not true or false")):
        (d / "cmvn_opts").write_text(text)
        with pytest.raises(AsrktError, match="cmvn_opts: ") as err:
            kaldi_pipeline(d, 26)
        assert message in str(err.value)
    (d / "cmvn_opts").write_text("")
    with pytest.raises(AsrktError, match="final.mdl: the model's dimension 41 is not 2 x"):
        kaldi_pipeline(d, 41)
    (d / "delta_opts").write_text("--delta-order=x")
    with pytest.raises(AsrktError, match="delta_opts: --delta-order=x is not an integer"):
        kaldi_pipeline(d, 39)
    # feature_pipeline.yaml in the dir overrides the option files
    override = tmp_path / "override"
    shutil.copytree(root / "tri1_text", override)
    (override / "delta_opts").write_text("--delta-order=1")
    with pytest.raises(AsrktError, match="dimension 39 is not 2 x"):
        model_pipeline(override, model)
    shutil.copy(root / "tri1" / "feature_pipeline.yaml", override)
    assert model_pipeline(override, model).config.delta_order == 2


def test_lda_mllt_pipeline_from_splice_opts_and_final_mat(tmp_path):
    from asrkt.errors import AsrktError
    from asrkt.feats.pipeline import splice_frames, write_matrix
    from asrkt.hmm.kaldi_model import kaldi_pipeline

    rng = np.random.default_rng(0)
    d = tmp_path / "tri2"
    d.mkdir()
    (d / "splice_opts").write_text("--left-context=3 --right-context=3\n")
    (d / "delta_opts").write_text("--delta-order=5\n")  # not used with final.mat (decode.sh)
    matrix = rng.standard_normal((40, 91)).astype(np.float32)
    write_matrix(d / "final.mat", matrix)
    p = kaldi_pipeline(d, 40)
    assert (p.config.splice, p.config.delta_order, p.config.transform, p.input_dim) == (
        3, 0, "final.mat", 13)
    feats = rng.standard_normal((20, 13)).astype(np.float32)
    want = (splice_frames(feats - feats.mean(0), 3).astype(np.float64) @ matrix.T)
    stats = np.zeros((2, 14))
    stats[0, :13], stats[0, 13] = feats.sum(0, dtype=np.float64), 20
    np.testing.assert_allclose(p.transform(feats, stats), want, rtol=1e-4, atol=1e-4)
    write_matrix(d / "final.mat", np.hstack([matrix, np.ones((40, 1), np.float32)]))
    assert kaldi_pipeline(d, 40).input_dim == 13  # the offset column of an affine transform
    with pytest.raises(AsrktError, match="final.mat: a 40 x 92 transform does not take 7"):
        kaldi_pipeline(d, 39)
    (d / "splice_opts").write_text("--left-context=3 --right-context=2\n")
    with pytest.raises(AsrktError, match="splice_opts: --left-context=3 and --right-context=2"):
        kaldi_pipeline(d, 40)
    (d / "splice_opts").write_text("")  # splice-feats' defaults: 4 frames each side
    write_matrix(d / "final.mat", rng.standard_normal((40, 117)).astype(np.float32))
    assert (kaldi_pipeline(d, 40).config.splice, kaldi_pipeline(d, 40).input_dim) == (4, 13)
    (d / "final.mat").write_bytes(b"\x00BFM garbage")
    with pytest.raises(AsrktError, match="final.mat: not a"):
        kaldi_pipeline(d, 40)


# ---- bad input ---------------------------------------------------------------------------------
def _load_error(path: Path) -> str:
    from asrkt.errors import AsrktError
    from asrkt.hmm.model import GmmModel

    with pytest.raises(AsrktError) as err:
        GmmModel.load(path)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("form", ["text", "bin"])
def test_truncated_model_and_tree_files_are_one_line_errors(root, tmp_path, form):
    from asrkt.errors import AsrktError
    from asrkt.hmm.model import GmmModel

    src = root / f"tri1_{form}"
    for name in ("final.mdl", "tree"):
        data = (src / name).read_bytes()
        cuts = sorted(set(np.linspace(1, len(data) - 3, 60).astype(int)) | {0, 2})
        for cut in cuts:
            d = tmp_path / f"{name}_{cut}"
            shutil.copytree(src, d)
            (d / name).write_bytes(data[:cut])
            try:
                GmmModel.load(d)
            except AsrktError as exc:
                assert str(d / name) in str(exc) and "\n" not in str(exc), (cut, str(exc))
            else:  # a text cut inside the trailing whitespace only
                assert form == "text" and not data[cut:].strip(), (name, cut)


def test_mutated_binary_model_files_parse_or_are_one_line_errors(root, tmp_path):
    """Fuzz: 300 copies of the binary final.mdl with 1-4 random bytes changed each load or give
    one error line naming the file (no other exception, no crash)."""
    from asrkt.errors import AsrktError
    from asrkt.hmm.model import GmmModel

    data = (root / "mono_bin" / "final.mdl").read_bytes()
    head = data.index(b"<DIMENSION>") + 100  # the transition model and the first GMM
    rng = np.random.default_rng(1)
    d = tmp_path / "m"
    shutil.copytree(root / "mono_bin", d)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(300):
        mutated = bytearray(data)
        for pos in rng.integers(0, head, size=rng.integers(1, 5)):
            mutated[pos] = int(rng.integers(0, 256))
        (d / "final.mdl").write_bytes(bytes(mutated))
        try:
            GmmModel.load(d)
            outcomes["loaded"] += 1
        except AsrktError as exc:
            assert str(d / "final.mdl") in str(exc) and "\n" not in str(exc), str(exc)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100, outcomes


def test_files_of_another_format_are_one_line_errors(root, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(root / "tri1_bin", d)
    cases = [(b"", "truncated"),
             ((root / "tri1" / "final.npz").read_bytes(), "expected '<TransitionModel>'"),
             ((root / "tri1_bin" / "tree").read_bytes(), "expected '<TransitionModel>'"),
             (b"<TransitionModel> <Topology> <TopologyEntry> <ForPhones> 1 x",
              "expected a phone id, found 'x'"),
             ((root / "tri1_text" / "final.mdl").read_bytes() + b"<DiagGMM>",
              "unexpected data after the last GMM")]
    for data, problem in cases:
        (d / "final.mdl").write_bytes(data)
        message = _load_error(d)
        assert f"{d / 'final.mdl'}: not a valid Kaldi GMM model file" in message, message
        assert problem in message, message
    shutil.copy(root / "tri1_bin" / "final.mdl", d / "final.mdl")
    for data in (b"", (root / "tri1_bin" / "final.mdl").read_bytes(), b"ContextDependency 3 1 X"):
        (d / "tree").write_bytes(data)
        assert f"{d / 'tree'}: not a valid Kaldi tree" in _load_error(d)
    (d / "tree").unlink()
    assert f"{d / 'tree'}: tree file does not exist" in _load_error(d)
    (d / "final.mdl").unlink()
    assert f"{d / 'final.npz'}: model file does not exist" in _load_error(d)


def test_model_and_tree_that_disagree_are_one_line_errors(root, tmp_path):
    """A tree of another model, a GMM missing, a tree that leaves phone contexts without a pdf,
    a topology entry changed: one error line naming the file."""
    import dataclasses

    from asrkt.hmm.kaldi_model import read_model_file
    from asrkt.hmm.tree import Leaf, Table, Tree
    from tests.helpers.kaldi_model_writer import write_binary_model

    d = tmp_path / "d"
    shutil.copytree(root / "tri1_bin", d)
    shutil.copy(root / "mono_bin" / "tree", d / "tree")
    message = _load_error(d)
    states = len(read_model_file(d / "final.mdl").tuples)
    assert f"{d / 'final.mdl'}: its {states} transition states are not the" in message
    assert str(d / "tree") in message
    shutil.copy(root / "tri1_bin" / "tree", d / "tree")
    parsed = read_model_file(root / "tri1_bin" / "final.mdl")
    fewer = dataclasses.replace(parsed, weights=parsed.weights[:-1],
                                means_invvars=parsed.means_invvars[:-1],
                                inv_vars=parsed.inv_vars[:-1])
    write_binary_model(fewer, d / "final.mdl")
    pdfs = len(parsed.weights)
    assert _load_error(d).startswith(f"{d / 'final.mdl'}: {pdfs - 1} GMMs, but {d / 'tree'} "
                                     f"has {pdfs} pdfs")
    # a monophone tree whose table has no entry for phone 4
    shutil.copytree(root / "mono_bin", tmp_path / "m")
    tree = Tree.read(root / "mono_bin" / "tree")
    phones = tree.root
    assert isinstance(phones, Table)
    Tree(1, 0, Table(phones.key, phones.table[:4])).write(tmp_path / "m" / "tree")
    message = _load_error(tmp_path / "m")
    assert message.startswith(f"{tmp_path / 'm' / 'tree'}: phone 4 ") and "has no pdf" in message
    gap = Table(-1, (Leaf(11), Leaf(12), Leaf(14)))  # pdf 13 for no phone context
    Tree(1, 0, Table(phones.key, phones.table[:4] + (gap,))).write(tmp_path / "m" / "tree")
    assert "pdf 13 is not reached by any phone context" in _load_error(tmp_path / "m")
    # a topology entry that is no HMM
    mono = read_model_file(root / "mono_bin" / "final.mdl")
    entry = mono.entries[0]
    broken = dataclasses.replace(entry, states=entry.states[:1])
    shutil.copy(root / "mono_bin" / "tree", tmp_path / "m" / "tree")
    write_binary_model(dataclasses.replace(mono, entries=[broken] + mono.entries[1:]),
                       tmp_path / "m" / "final.mdl")
    assert _load_error(tmp_path / "m").startswith(
        f"{tmp_path / 'm' / 'final.mdl'}: invalid topology")


def test_a_kaldi_model_dir_that_disagrees_with_the_lang_dir(root, tmp_path):
    d = tmp_path / "tri"
    shutil.copytree(root / "tri1_bin", d)
    (d / "phones.txt").write_text((d / "phones.txt").read_text().replace("A 2", "AA 2"))
    line = _error(run("align", root / "train", root / "lang", d, tmp_path / "ali", ok=False))
    assert f"{d / 'phones.txt'}: the model's phone symbol table is not compatible with" in line
    line = _error(run("make-graph", root / "lang_test", d, tmp_path / "g", ok=False))
    assert "check_phones_compatible" in line
    (d / "phones.txt").unlink()  # no phones.txt: the topology's phones are still checked
    run("prepare-lang", "--position-dependent-phones", root / "dict", tmp_path / "lang_pos")
    line = _error(run("align", root / "train", tmp_path / "lang_pos", d, tmp_path / "ali",
                      ok=False))
    assert "the phones of this lang dir do not match the model's topology" in line
    (d / "cmvn_opts").write_text("--norm-means=false --norm-vars=true")
    line = _error(run("decode", root / "lang_test", root / "test", d, tmp_path / "dec", ok=False))
    assert f"{d / 'cmvn_opts'}: --norm-vars=true needs --norm-means=true" in line
