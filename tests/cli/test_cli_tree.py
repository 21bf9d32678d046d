"""``asrkt build-tree`` on the toy corpus after train-mono: Kaldi's binary tree file that covers
every phone context, statistics of every aligned frame, one-line errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.cli.test_cli_hmm import run


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    from tests.helpers import toy_hmm as toy_corpus

    root = tmp_path_factory.mktemp("tree")
    toy_corpus.write_dict_dir(root / "dict")
    toy_corpus.write_data_dir(root / "train", 30, seed=1)
    run("prepare-lang", "--oov-word", "<SIL>", root / "dict", root / "lang")
    run("train-mono", "--totgauss", "40", "--num-iters", "6", "--max-iter-inc", "4",
        "--realign-iters", "1 2 4", root / "train", root / "lang", root / "mono")
    return root


def test_build_tree_writes_a_kaldi_tree_covering_every_context(toy):
    from asrkt.hmm.kaldi import khg
    from asrkt.hmm.lang import Lang
    from asrkt.hmm.tree import Tree
    from asrkt.hmm.tree_stats import TreeStats
    from asrkt.io.tables import read_table

    out = toy / "tri"
    result = run("build-tree", "--num-leaves", "25", "--thresh", "5", toy / "train",
                 toy / "lang", toy / "mono", out)
    data = (out / "tree").read_bytes()
    assert data.startswith(b"\x00BContextDependency ")
    tree = Tree.read(out / "tree")
    assert f"{out}/tree: {tree.num_pdfs} leaves" in result.output
    assert 14 < tree.num_pdfs <= 25  # more than the monophone's 14 pdfs, at most --num-leaves
    lang = Lang(toy / "lang")
    topo = khg.HmmTopology()
    topo.read(lang.topo_text)
    ncls = topo.get_phone_to_num_pdf_classes()
    cd = tree.context_dependency()
    phones = sorted(lang.id2phone)[1:5]
    for left, c, r in itertools.product([0] + phones, phones, [0] + phones):
        for k in range(ncls[c]):
            assert cd.compute([left, c, r], k) == (True, tree.compute([left, c, r], k))
    sil = lang.phones["SIL"]
    assert len({tree.compute([a, sil, b], 0) for a in [0] + phones for b in [0] + phones}) == 1
    assert khg.TransitionModel(cd, topo).num_pdfs == tree.num_pdfs
    stats = TreeStats.load(out / "treeacc.npz")
    frames = sum(len(a) for _, a in read_table(toy / "mono" / "ali.scp", "int-vector"))
    assert stats.counts.sum() == frames
    assert np.all(stats.events[stats.events[:, 2] == sil][:, [1, 3]] == -1)
    assert yaml.safe_load((out / "config.yaml").read_text())["num_leaves"] == 25
    assert (out / "questions.int").read_text().splitlines()[0].split()
    assert "build-tree:" in (out / "log" / "build-tree.log").read_text()


def test_same_inputs_same_tree(toy, tmp_path):
    run("build-tree", "--num-leaves", "20", toy / "train", toy / "lang", toy / "mono",
        tmp_path / "a")
    run("build-tree", "--num-leaves", "20", toy / "train", toy / "lang", toy / "mono",
        tmp_path / "b")
    assert (tmp_path / "a" / "tree").read_bytes() == (tmp_path / "b" / "tree").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--num-leaves", "0", "--thresh", "0"], "num_leaves and thresh cannot both be 0"),
    (["--central-position", "3"], "central_position 3 must be less than context_width 3"),
    (["--pdf-class-list", "1:x"], "pdf_class_list must be"),
])
def test_bad_options_are_one_line_errors(toy, tmp_path, args, message):
    result = run("build-tree", *args, toy / "train", toy / "lang", toy / "mono", tmp_path / "t",
                 ok=False)
    assert result.exit_code == 1 and message in result.output
    assert result.output.count("\n") == 1


def test_missing_alignments_and_bad_roots_are_one_line_errors(toy, tmp_path):
    import shutil

    (tmp_path / "empty").mkdir()
    result = run("build-tree", toy / "train", toy / "lang", tmp_path / "empty", tmp_path / "t1",
                 ok=False)
    assert result.exit_code == 1 and "model file does not exist" in result.output
    lang = tmp_path / "lang"
    shutil.copytree(toy / "lang", lang)
    (lang / "phones" / "roots.int").write_text("shared split 1 2\nshared\n")
    result = run("build-tree", toy / "train", lang, toy / "mono", tmp_path / "t2", ok=False)
    assert result.exit_code == 1 and "roots.int:2: expected" in result.output
    assert result.output.count("\n") == 1


def test_every_temporary_name_of_build_tree_is_one_a_rerun_removes(toy, tmp_path, monkeypatch):
    from tests.helpers.temporaries import check_rerun_removes_temporaries

    out = tmp_path / "out"
    left = check_rerun_removes_temporaries(
        monkeypatch, ["build-tree", "--num-leaves", "20", toy / "train", toy / "lang",
                      toy / "mono", out], [out])
    assert {p.name.split(".")[1] for p in left} >= {"tree", "treeacc", "questions", "config"}
