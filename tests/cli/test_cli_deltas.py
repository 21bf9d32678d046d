"""``asrkt train-deltas`` on the toy corpus after train-mono + align, and the downstream
commands with the triphone model: align, ali-to-pdf, make-graph, decode, decode-nnet; resuming
after a kill; one-line errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.cli.test_cli_hmm import _error, run

TRI_OPTIONS = ["--num-leaves", "30", "--totgauss", "90", "--thresh", "5", "--num-iters", "8",
               "--max-iter-inc", "5", "--realign-iters", "2 4 6"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    from tests.helpers.gmm_toy import toy_tri_dirs

    return toy_tri_dirs(tmp_path_factory.mktemp("deltas"), ["train-deltas", *TRI_OPTIONS], "tri1")


def test_train_deltas_outputs(toy):
    from asrkt.hmm.kaldi import khg
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.tree import Tree
    from asrkt.io.tables import read_table

    tri = toy / "tri1"
    mono = GmmModel.load(toy / "mono")
    model = GmmModel.load(tri)
    tree = Tree.read(tri / "tree", model.topo.get_phone_to_num_pdf_classes())
    assert model.cd_tree is not None and model.cd_tree.to_bytes() == tree.to_bytes()
    assert (tree.context_width, tree.central_position) == (3, 1)
    assert mono.num_pdfs < model.num_pdfs == tree.num_pdfs <= 30
    assert model.num_pdfs < model.num_gauss <= 90
    assert (tri / "final.mdl").read_text().startswith("<TransitionModel>")
    assert f"<NUMPDFS> {model.num_pdfs} " in (tri / "final.mdl").read_text()
    assert isinstance(model.tree, khg.ContextDependency) and model.tree.context_width == 3
    names = {p.name for p in tri.iterdir()}
    assert {"final.mdl", "final.npz", "tree", "feature_pipeline.yaml", "config.yaml", "ali.ark",
            "ali.scp", "questions.int", "num_jobs"} <= names
    assert not any(n.endswith(".npz") and n[0].isdigit() for n in names)  # checkpoints gone
    assert "treeacc.npz" not in names  # as train_deltas.sh: removed after the first model
    config = yaml.safe_load((tri / "config.yaml").read_text())
    assert (config["num_leaves"], config["totgauss"], config["num_iters"]) == (30, 90, 8)
    alis = dict(read_table(tri / "ali.scp", "int-vector"))
    assert len(alis) == 40 and max(int(a.max()) for a in alis.values()) > mono.tm.num_transition_ids
    log = (tri / "log" / "train-deltas.log").read_text()
    assert "convert-ali: 40 alignments" in log and "pass 7" in log and "pass 8" not in log
    assert "pass 6 (realigned)" in log


def test_defaults_are_train_deltas_sh():
    from asrkt.hmm.config import TrainDeltasConfig

    cfg = TrainDeltasConfig()
    assert (cfg.num_iters, cfg.max_iter_inc, cfg.realign_iters, cfg.beam, cfg.retry_beam,
            cfg.boost_silence, cfg.power, cfg.cluster_thresh) == (35, 25, "10 20 30", 10.0, 40.0,
                                                                  1.0, 0.25, -1.0)
    assert (cfg.delta_order, cfg.cmvn, cfg.init_var_floor, cfg.mixup_power) == (2, "speaker",
                                                                               0.01, 0.2)


def test_convert_ali_keeps_phones_and_states_with_the_new_trees_pdfs(toy):
    from asrkt.hmm.align import ali_to_phones
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.train_deltas import AlignmentConverter
    from asrkt.hmm.tree_stats import TransitionInfo, split_to_phones
    from asrkt.io.tables import read_table

    mono, tri = GmmModel.load(toy / "mono"), GmmModel.load(toy / "tri1")
    old_info = TransitionInfo.from_model(mono.tm, mono.topo)
    new_info = TransitionInfo.from_model(tri.tm, tri.topo)
    converter = AlignmentConverter(mono, tri)
    tid2pdf = tri.tid2pdf()
    for utt, ali in itertools.islice(read_table(toy / "mono_ali" / "ali.scp", "int-vector"), 10):
        new = converter.convert(ali)
        assert new is not None and len(new) == len(ali)
        for field in ("phone", "hmm_state", "pdf_class", "self_loop", "final"):
            assert np.array_equal(getattr(old_info, field)[ali], getattr(new_info, field)[new])
        segments = split_to_phones(old_info, np.asarray(ali))
        phones = [0] + [int(old_info.phone[ali[a]]) for a, _ in segments] + [0]
        for k, (a, b) in enumerate(segments):
            for t in range(a, b):
                pdf = tri.cd_tree.compute(phones[k:k + 3], int(old_info.pdf_class[ali[t]]))
                assert tid2pdf[new[t]] == pdf, (utt, t)
        assert np.array_equal(ali_to_phones(tri, new), ali_to_phones(mono, ali))
    bad = np.asarray(ali).copy()
    bad[-1] = bad[0]  # no longer ends with a phone's final transition
    assert converter.convert(bad) is None


def test_gmm_init_model_pools_the_statistics_of_each_leaf(toy, tmp_path):
    from asrkt.hmm.lang import Lang
    from asrkt.hmm.train_deltas import init_from_tree_stats
    from asrkt.hmm.tree import Tree
    from asrkt.hmm.tree_stats import TreeStats

    run("build-tree", "--num-leaves", "30", "--thresh", "5", toy / "train", toy / "lang",
        toy / "mono_ali", tmp_path / "t")
    stats = TreeStats.load(tmp_path / "t" / "treeacc.npz")
    tree = Tree.read(tmp_path / "t" / "tree")
    lang = Lang(toy / "lang")
    model, occs = init_from_tree_stats(lang.topo_text, lang.phone_sets, tree, stats, 0.01)
    assert model.num_pdfs == tree.num_pdfs and model.num_gauss == tree.num_pdfs
    assert occs.sum() == stats.counts.sum()
    for pdf in range(tree.num_pdfs):
        rows = [i for i in range(stats.num_events)
                if tree.compute([max(v, 0) for v in stats.events[i, 1:]],
                                int(stats.events[i, 0])) == pdf]
        count = stats.counts[rows].sum()
        mean = stats.sum_x[rows].sum(axis=0) / count
        var = np.maximum(stats.sum_x2[rows].sum(axis=0) / count - mean ** 2, 0.01)
        assert occs[pdf] == count
        np.testing.assert_allclose(model.gmms[pdf].means[0], mean, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(model.gmms[pdf].vars[0], var, rtol=1e-9, atol=1e-9)


def test_tri_model_aligns_and_decodes_no_worse_than_mono(toy):
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import ArkScpWriter, read_kaldi_text_vector, read_table

    run("align", toy / "train", toy / "lang", toy / "tri1", toy / "tri1_ali")
    run("ali-to-pdf", toy / "tri1_ali", f"scp:{toy / 'tri1_ali' / 'ali.scp'}",
        toy / "tri1_ali" / "pdf.ark")
    model = GmmModel.load(toy / "tri1_ali")
    pdfs = np.concatenate([a for _, a in read_table(toy / "tri1_ali" / "pdf.scp", "int-vector")])
    mono_pdfs = GmmModel.load(toy / "mono").num_pdfs
    assert pdfs.max() < model.num_pdfs and len(np.unique(pdfs)) > mono_pdfs
    counts = read_kaldi_text_vector(toy / "tri1_ali" / "pdf_counts")
    assert len(counts) == model.num_pdfs and counts.sum() == len(pdfs)
    run("copy-ali", toy / "train", toy / "tri1_ali", toy / "tri1_ali_copy")
    assert np.array_equal(read_kaldi_text_vector(toy / "tri1_ali_copy" / "pdf_counts"), counts)
    wers = {}
    for name in ("mono", "tri1"):
        run("make-graph", toy / "lang_test", toy / name, toy / name / "graph")
        result = run("decode", "--min-lmwt", "10", "--max-lmwt", "10", toy / name / "graph",
                     toy / "test", toy / name, toy / name / "decode")
        wers[name] = float(result.output.split("%WER ")[1].split()[0])
    assert (toy / "tri1" / "graph" / "num_pdfs").read_text().strip() == str(model.num_pdfs)
    assert wers["tri1"] <= wers["mono"] and wers["tri1"] < 5.0, wers
    pipeline = FeaturePipeline.load(toy / "tri1" / "feature_pipeline.yaml")
    with ArkScpWriter(toy / "loglikes.ark", toy / "loglikes.scp") as writer:
        for utt, feats in pipeline.iter_features(DataDir(toy / "test")):
            writer.write(utt, model.pdf_loglikes(feats, utt))
    run("decode-nnet", "--min-lmwt", "10", "--max-lmwt", "10", toy / "tri1" / "graph",
        f"scp:{toy / 'loglikes.scp'}", toy / "tri1", toy / "decode_nnet")
    assert ((toy / "decode_nnet" / "scoring" / "10.txt").read_text()
            == (toy / "tri1" / "decode" / "scoring" / "10.txt").read_text())


def test_tri_graph_paths_use_the_trees_pdf_for_each_phone_in_its_context(toy):
    """On every frame of the decoded paths through the tri HCLG the pdf is the tree's for the
    path's phone in its (cross-word) context: C and H agree with the tree (a wrong context
    width, central position or edge handling fails here, not on the toy WER)."""
    from asrkt.data.datadir import DataDir
    from asrkt.decode.config import DecodeConfig
    from asrkt.decode.decoder import Decoder
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.tree_stats import TransitionInfo, split_to_phones

    model = GmmModel.load(toy / "tri1")
    if not (toy / "tri1" / "graph" / "HCLG.fst").is_file():
        run("make-graph", toy / "lang_test", toy / "tri1", toy / "tri1" / "graph")
    decoder = Decoder(toy / "tri1" / "graph", model, DecodeConfig())
    info = TransitionInfo.from_model(model.tm, model.topo)
    tid2pdf = model.tid2pdf()
    pipeline = FeaturePipeline.load(toy / "tri1" / "feature_pipeline.yaml")
    contexts = set()
    for utt, feats in pipeline.iter_features(DataDir(toy / "test")):
        words, ali = decoder.kaldi_decode(utt, model.pdf_loglikes(feats, utt), 0.1)
        assert words is not None and len(ali) == len(feats)
        ali = np.asarray(ali)
        segments = split_to_phones(info, ali)
        phones = [0] + [int(info.phone[ali[a]]) for a, _ in segments] + [0]
        for k, (a, b) in enumerate(segments):
            contexts.add(tuple(phones[k:k + 3]))
            for t in range(a, b):
                want = model.cd_tree.compute(phones[k:k + 3], int(info.pdf_class[ali[t]]))
                assert tid2pdf[ali[t]] == want, (utt, t, phones[k:k + 3])
    assert len(contexts) > 10


def test_a_killed_run_resumes_to_the_same_model(toy, tmp_path, monkeypatch):
    from tests.helpers.gmm_toy import logged_passes, run_killed_after_pass

    out = tmp_path / "tri"
    log_file = out / "log" / "train-deltas.log"
    args = ["train-deltas", *TRI_OPTIONS, toy / "train", toy / "lang", toy / "mono_ali", out]
    run_killed_after_pass(monkeypatch, args, 3)
    assert (out / "4.npz").is_file() and not (out / "final.npz").exists()
    killed = log_file.read_text()
    assert logged_passes(killed) == [1, 2, 3]
    run(*args)
    log = log_file.read_text()
    # the resumed run appends to the killed run's log: every pass once, in order
    assert log.startswith(killed) and "continuing an earlier run at pass 4" in log
    assert logged_passes(log) == list(range(1, 8))
    for name in ("final.npz", "final.mdl", "tree", "ali.ark"):
        assert (out / name).read_bytes() == (toy / "tri1" / name).read_bytes(), name
    assert run(*args).output.strip().endswith("Gaussians")  # done: nothing to do
    done = log_file.read_text()  # the training runs' lines kept, the skip's added
    assert done.startswith(log) and "trained by an earlier run" in done[len(log):]
    assert logged_passes(done) == list(range(1, 8))
    run(*[a if a != "90" else "70" for a in args])  # other options: starts over
    fresh = log_file.read_text()  # a new log: the earlier runs' passes were of other options
    assert "starting over" in fresh and fresh.count("# finished OK") == 1
    assert logged_passes(fresh) == list(range(1, 8))
    assert (out / "final.npz").read_bytes() != (toy / "tri1" / "final.npz").read_bytes()


def test_same_model_for_any_nj(toy, tmp_path):
    """--nj 2 (forked realignment jobs) gives the fixture's --nj 1 model and alignments."""
    run("train-deltas", "--nj", "2", *TRI_OPTIONS, toy / "train", toy / "lang",
        toy / "mono_ali", tmp_path / "tri")
    for name in ("final.mdl", "final.npz", "ali.ark"):
        assert (tmp_path / "tri" / name).read_bytes() == (toy / "tri1" / name).read_bytes()


def test_every_temporary_name_of_train_deltas_is_one_a_rerun_removes(toy, tmp_path,
                                                                     monkeypatch):
    from tests.helpers.temporaries import check_rerun_removes_temporaries

    out = tmp_path / "out"
    left = check_rerun_removes_temporaries(
        monkeypatch, ["train-deltas", *TRI_OPTIONS, toy / "train", toy / "lang",
                      toy / "mono_ali", out], [out])
    assert {p.name.split(".")[1] for p in left} >= {"tree", "final", "ali", "1", "config"}


def test_bad_inputs_are_one_line_errors(toy, tmp_path):
    import shutil

    (tmp_path / "empty").mkdir()
    line = _error(run("train-deltas", toy / "train", toy / "lang", tmp_path / "empty",
                      tmp_path / "a", ok=False))
    assert "final.npz: model file does not exist" in line
    no_ali = tmp_path / "no_ali"
    no_ali.mkdir()
    for name in ("final.npz", "final.mdl", "feature_pipeline.yaml"):
        shutil.copy(toy / "mono_ali" / name, no_ali / name)
    line = _error(run("train-deltas", *TRI_OPTIONS, toy / "train", toy / "lang", no_ali,
                      tmp_path / "b", ok=False))
    assert "ali.scp: alignments do not exist" in line
    run("prepare-lang", "--position-dependent-phones", toy / "dict", tmp_path / "lang_pos")
    line = _error(run("train-deltas", *TRI_OPTIONS, toy / "train", tmp_path / "lang_pos",
                      toy / "mono_ali", tmp_path / "c", ok=False))
    assert "the model's topology is not" in line
    line = _error(run("train-deltas", "--central-position", "3", toy / "train", toy / "lang",
                      toy / "mono_ali", tmp_path / "d", ok=False))
    assert "central_position 3 must be less than context_width 3" in line
    line = _error(run("train-deltas", "--realign-iters", "10 x", toy / "train", toy / "lang",
                      toy / "mono_ali", tmp_path / "e", ok=False))
    assert "realign_iters must be integers" in line


def test_a_corrupt_tree_in_a_model_file_is_one_line_error(toy, tmp_path):
    import shutil

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shutil.copy(toy / "tri1" / "feature_pipeline.yaml", model_dir)
    data = dict(np.load(toy / "tri1" / "final.npz"))
    data["tree"] = data["tree"][:40]
    np.savez(model_dir / "final.npz", **data)
    line = _error(run("align", toy / "train", toy / "lang", model_dir, tmp_path / "ali",
                      ok=False))
    assert f"{model_dir / 'final.npz'}" in line and "tree" in line
