"""The tree stage of Kaldi's steps/train_deltas.sh on asrkt directories.

acc-tree-stats over ALI_DIR's alignments and the features its model sees (context-independent
phones from lang/phones/context_indep.int), cluster-phones on phones/sets.int plus
phones/extra_questions.int, compile-questions, build-tree with phones/roots.int and the
topology. EXP_DIR gets ``treeacc.npz`` (the statistics), ``questions.int``, ``tree`` (Kaldi's
binary tree file) and ``config.yaml``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.hmm.config import TreeConfig
from asrkt.hmm.kaldi_model import model_pipeline
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import GmmModel
from asrkt.hmm.tree import (
    Root,
    Tree,
    build_tree,
    cluster_phones,
    compile_questions,
    read_int_sets,
    read_roots,
)
from asrkt.hmm.tree_stats import TransitionInfo, TreeStats, accumulate_tree_stats
from asrkt.io.tables import read_table
from asrkt.utils.config import save_config
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.tree")


def accumulate_from_dirs(data_dir: PathLike, lang_dir: PathLike, ali_dir: PathLike,
                         config: TreeConfig, model: Optional[GmmModel] = None) -> TreeStats:
    """acc-tree-stats over ALI_DIR/ali.scp with DATA_DIR's features through ALI_DIR's model.

    Args:
        data_dir: data dir with features.
        lang_dir: lang dir (phones/context_indep.int gives the ci-phones).
        ali_dir: an align (or train-mono) output dir: ali.scp, final.npz, feature_pipeline.yaml.
        config: context window and variance floor.
        model: ALI_DIR's model when already loaded.
    """
    data, lang, ali_dir = DataDir(data_dir), Lang(lang_dir), Path(ali_dir)
    model = model or GmmModel.load(ali_dir)
    pipeline = model_pipeline(ali_dir, model)
    alignments = {utt: np.asarray(a, dtype=np.int64)
                  for utt, a in read_table(ali_dir / "ali.scp", "int-vector")}
    utts = [u for u in data.utterances if u in alignments]
    if not utts:
        raise AsrktError(f"{ali_dir / 'ali.scp'}: no alignment of an utterance of {data.path}")
    if len(utts) < len(data.utterances):
        logger.warning("%d utterance(s) of %s have no alignment and are left out",
                       len(data.utterances) - len(utts), data.path)
    info = TransitionInfo.from_model(model.tm, model.topo)
    triples = ((utt, alignments[utt], feats) for utt, feats in pipeline.iter_features(data, utts))
    return accumulate_tree_stats(info, triples, ci_phones(lang), config.context_width,
                                 config.central_position, config.var_floor)


def ci_phones(lang: Lang) -> List[int]:
    """The context-independent phones (acc-tree-stats --ci-phones): phones/context_indep.int."""
    path = lang.path / "phones" / "context_indep.int"
    return [p for s in read_int_sets(path, "context-independent phones") for p in s]


def lang_roots(lang: Lang):
    """phones/roots.int, or one 'shared split' root per line of phones/sets.int (what
    prepare-lang writes) for a lang dir made before roots were written."""
    path = lang.path / "phones" / "roots.int"
    if path.is_file():
        return read_roots(path)
    logger.warning("%s does not exist: one shared, split root per line of phones/sets.int",
                   path)
    return [Root(tuple(sorted(s))) for s in lang.phone_sets]


def make_tree_dir(data_dir: PathLike, lang_dir: PathLike, ali_dir: PathLike,
                  exp_dir: PathLike, config: TreeConfig) -> Tree:
    """Statistics, questions and tree, as the tree stage of steps/train_deltas.sh.

    Args:
        data_dir: training data dir.
        lang_dir: its lang dir.
        ali_dir: alignments and the model that made them (align or train-mono output).
        exp_dir: output directory.
        config: tree options.
    """
    config.validate()
    lang, exp_dir = Lang(lang_dir), Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    model = GmmModel.load(ali_dir)
    stats = accumulate_from_dirs(data_dir, lang_dir, ali_dir, config, model)
    stats.save(exp_dir / "treeacc.npz")
    logger.info("tree statistics: %d events over %.0f frames", stats.num_events,
                stats.counts.sum())
    tree = tree_from_stats(stats, lang, model.topo, exp_dir, config)
    save_config(config, exp_dir / "config.yaml")
    return tree


def tree_from_stats(stats: TreeStats, lang: Lang, topo, exp_dir: Path, config: TreeConfig) -> Tree:
    """cluster-phones on phones/sets.int plus phones/extra_questions.int, compile-questions and
    build-tree with the lang dir's roots; writes EXP_DIR/questions.int and EXP_DIR/tree.

    Args:
        stats: tree statistics.
        lang: the lang dir.
        topo: its khg.HmmTopology.
        exp_dir: output directory.
        config: tree options.
    """
    questions = cluster_phones(stats, lang.phone_sets, config.pdf_classes(),
                               config.kmeans_tries, config.seed)
    extra_path = lang.path / "phones" / "extra_questions.int"
    if extra_path.is_file():
        questions += read_int_sets(extra_path, "extra questions")
    write_text_atomic(exp_dir / "questions.int",
                      "".join(" ".join(map(str, q)) + "\n" for q in questions))
    num_classes = topo.get_phone_to_num_pdf_classes()
    compiled = compile_questions(questions, max(num_classes), str(exp_dir / "questions.int"),
                                 list(topo.phones))
    tree = build_tree(stats, compiled, lang_roots(lang), num_classes, config)
    tree.write(exp_dir / "tree")
    return tree
