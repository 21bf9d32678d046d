"""Triphone GMM training on delta features, as Kaldi's steps/train_deltas.sh.

Stages (each resumable: a re-run with the same options continues after the last one finished;
other options start over):

1. tree: acc-tree-stats over ALI_DIR's alignments with this run's features (the monophone
   model gives the transitions only), cluster-phones + extra questions, build-tree
   (:mod:`asrkt.hmm.tree_dir`); EXP_DIR/tree, treeacc.npz, questions.int.
2. init: gmm-init-model (one Gaussian per leaf from the pooled statistics of its events, the
   average of all statistics for a leaf without any), gmm-mixup to ``num_leaves`` Gaussians
   and convert-ali (the same phones and HMM states, transition-ids of the new model);
   EXP_DIR/ali.ark/scp and the checkpoint ``1.npz``.
3. passes 1 .. num_iters - 1 of train_mono's EM (:func:`asrkt.hmm.train_mono.em_passes`),
   realigning on ``realign_iters`` with ``beam`` / ``retry_beam`` and mixing up by
   (totgauss - num_leaves) / max_iter_inc per pass; after pass x the checkpoint ``x+1.npz``
   (and the alignments when the pass realigned) replaces the previous one.

EXP_DIR finally holds final.mdl (Kaldi text), final.npz, tree, feature_pipeline.yaml,
config.yaml, ali.ark/scp, questions.int, num_jobs and log/train-deltas.log.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.feats.pipeline import PipelineConfig
from asrkt.hmm.align import compile_graphs, graph_compiler
from asrkt.hmm.config import TrainDeltasConfig, TreeTrainConfig
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import Gmm, GmmModel
from asrkt.hmm.train_mono import (
    Corpus,
    EmSchedule,
    em_passes,
    prepare_training,
    report_failures,
    split_by_count,
    write_alignments,
)
from asrkt.hmm.tree import Tree, map_rows
from asrkt.hmm.tree_dir import ci_phones, tree_from_stats
from asrkt.hmm.tree_stats import (
    TransitionInfo,
    TreeStats,
    accumulate_tree_stats,
    split_to_phones,
    transition_states,
)
from asrkt.io.tables import read_table
from asrkt.utils.config import load_config, save_config
from asrkt.utils.fileio import remove_stale_temporaries, write_text_atomic
from asrkt.utils.parallel import limit_threads

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.train_deltas")
_CHECKPOINT = re.compile(r"^(\d+)\.npz$")
# what a run writes before its final model: removed when the options change
_STAGE_FILES = ("final.npz", "final.mdl", "ali.ark", "ali.scp", "tree", "treeacc.npz",
                "questions.int", "num_jobs")


def init_from_tree_stats(topo_text: str, phone_sets: Optional[List[List[int]]], tree: Tree,
                         stats: TreeStats, var_floor: float = 0.01
                         ) -> Tuple[GmmModel, np.ndarray]:
    """gmm-init-model: one Gaussian per leaf from the summed statistics of the events it gets.

    A leaf without statistics gets the average over all events (Kaldi warns, as here).

    Args:
        topo_text: Kaldi topology text.
        phone_sets: phone sets (kept with the model).
        tree: the decision tree.
        stats: the tree statistics it was built from.
        var_floor: variance floor (gmm-init-model --var-floor).

    Returns:
        (the model, frame count per pdf: gmm-init-model --write-occs).
    """
    leaf = map_rows(tree.root, stats.events)
    n = tree.num_pdfs
    if leaf.min() < 0 or leaf.max() >= n:
        raise AsrktError("the tree maps a statistics event to no pdf")
    counts = np.bincount(leaf, weights=stats.counts, minlength=n)
    sx = np.zeros((n, stats.dim))
    sx2 = np.zeros((n, stats.dim))
    np.add.at(sx, leaf, stats.sum_x)
    np.add.at(sx2, leaf, stats.sum_x2)
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        logger.warning("tree has %d pdf(s) with no statistics (e.g. pdf %d), initialised from "
                       "the average of all: phones without data that share no root with "
                       "seen ones?", len(empty), int(empty[0]))
        sx[empty], sx2[empty] = sx.sum(axis=0), sx2.sum(axis=0)
    total = np.where(counts > 0, counts, counts.sum())[:, None]
    means = sx / total
    var = np.maximum(sx2 / total - means * means, var_floor)
    gmms = [Gmm(np.ones(1), means[p][None, :].copy(), var[p][None, :].copy()) for p in range(n)]
    return GmmModel(topo_text, phone_sets, gmms, cd_tree=tree), counts


class AlignmentConverter:
    """Kaldi's convert-ali between two models on the same topology: every frame keeps its phone,
    HMM state and transition index; its transition state becomes the new model's for the pdfs
    the new tree gives the phone in its context (phones of the alignment, 0 beyond the ends).

    Args:
        old: the model the alignments were made with.
        new: the model to convert them to.
    """

    def __init__(self, old: GmmModel, new: GmmModel):
        if _topo_tokens(old.topo_text) != _topo_tokens(new.topo_text):
            raise AsrktError("convert-ali: the two models have different topologies")
        self.info = TransitionInfo.from_model(old.tm, old.topo)
        self.old_states = transition_states(str(old.tm))
        self.old_first = np.asarray(old.tm.state2id, dtype=np.int64)
        self.new_index = {t: s + 1 for s, t in enumerate(transition_states(str(new.tm)))}
        self.new_first = np.asarray(new.tm.state2id, dtype=np.int64)
        self.cd = new.tree
        self.width, self.central = new.tree.context_width, new.tree.central_position
        self.topo = old.topo
        self._entries: Dict[int, list] = {}
        self._cache: Dict[Tuple[Tuple[int, ...], int], int] = {}

    def _new_tid(self, window: Tuple[int, ...], tid: int) -> int:
        state = int(self.info.state[tid])
        phone, hmm_state = self.old_states[state - 1][:2]
        if phone not in self._entries:
            self._entries[phone] = self.topo.topology_for_phone(phone)
        entry = self._entries[phone][hmm_state]
        pdfs = []
        for pdf_class in (entry.forward_pdf_class, entry.self_loop_pdf_class):
            ok, pdf = self.cd.compute(list(window), pdf_class)
            if not ok:
                raise AsrktError(f"convert-ali: the new tree has no pdf for phone {phone} in "
                                 f"context {list(window)}, pdf-class {pdf_class}")
            pdfs.append(pdf)
        new_state = self.new_index.get((phone, hmm_state, pdfs[0], pdfs[1]))
        if new_state is None:
            raise AsrktError(f"convert-ali: the new model has no transition state for phone "
                             f"{phone} state {hmm_state}")
        return int(self.new_first[new_state] + tid - self.old_first[state])

    def convert(self, alignment: Sequence[int]) -> Optional[np.ndarray]:
        """The alignment in the new model's transition-ids; None when it does not split into
        phones (Kaldi warns and skips it).

        Args:
            alignment: transition-ids of the old model.
        """
        tids = np.asarray(alignment, dtype=np.int64)
        if len(tids) and (tids.min() < 1 or tids.max() > self.info.num_transition_ids):
            raise AsrktError(f"convert-ali: transition-ids outside 1.."
                             f"{self.info.num_transition_ids} (alignment from another model?)")
        segments = split_to_phones(self.info, tids)
        if segments is None:
            return None
        out = np.empty(len(tids), dtype=np.int32)
        phones = [int(self.info.phone[tids[a]]) for a, _ in segments]
        padded = [0] * self.central + phones + [0] * (self.width - 1 - self.central)
        for k, (a, b) in enumerate(segments):
            window = tuple(padded[k:k + self.width])
            for t in range(a, b):
                key = (window, int(tids[t]))
                new = self._cache.get(key)
                if new is None:
                    new = self._cache[key] = self._new_tid(window, int(tids[t]))
                out[t] = new
        return out


def _topo_tokens(text: str) -> List[str]:
    return text.split()


def read_alignments(path: Path, corpus: Corpus) -> Dict[int, np.ndarray]:
    """ali.scp as utterance index -> transition-ids (utterances not in the corpus left out)."""
    if not path.is_file():
        raise AsrktError(f"{path}: alignments do not exist (run 'asrkt align' or "
                         f"'asrkt train-mono')")
    index = {u: i for i, u in enumerate(corpus.utts)}
    return {index[utt]: np.asarray(ali, dtype=np.int64)
            for utt, ali in read_table(path, "int-vector") if utt in index}


def _checkpoints(exp_dir: Path) -> List[int]:
    return sorted(int(m.group(1)) for p in exp_dir.glob("*.npz")
                  if (m := _CHECKPOINT.match(p.name)))


def continues_earlier_run(exp_dir: PathLike, cfg: TreeTrainConfig) -> bool:
    """Whether a run with ``cfg`` keeps what an earlier run left in EXP_DIR (its config.yaml
    has the same options): the run then continues or finds the work done, and appends to the
    earlier run's log instead of replacing it."""
    saved = Path(exp_dir) / "config.yaml"
    if not saved.is_file():
        return False
    try:
        return load_config(type(cfg), saved) == cfg
    except AsrktError:
        return False


def _start_over_if_changed(exp_dir: Path, cfg: TreeTrainConfig,
                           stage_files: Sequence[str] = ()) -> None:
    """Remove an earlier run's stage outputs (``_STAGE_FILES``, ``stage_files``: names or
    glob patterns) when it had other options."""
    if not (exp_dir / "config.yaml").is_file() or continues_earlier_run(exp_dir, cfg):
        return
    stale = [n for n in _STAGE_FILES if (exp_dir / n).exists()]
    stale += [f"{x}.npz" for x in _checkpoints(exp_dir)]
    stale += sorted({p.name for pattern in stage_files for p in exp_dir.glob(pattern)})
    if stale:
        logger.info("%s: other options than the earlier run's, starting over (removing %s)",
                    exp_dir, " ".join(stale))
    for name in stale:
        (exp_dir / name).unlink()


def _tree_stage(exp_dir: Path, lang: Lang, corpus: Corpus, ali_dir: Path, old: GmmModel,
                cfg: TreeTrainConfig) -> Tuple[Tree, TreeStats]:
    """acc-tree-stats + cluster-phones + build-tree, or the earlier run's tree and stats."""
    num_classes = old.topo.get_phone_to_num_pdf_classes()
    if (exp_dir / "tree").is_file() and (exp_dir / "treeacc.npz").is_file():
        logger.info("tree stage done in an earlier run: %s", exp_dir / "tree")
        return Tree.read(exp_dir / "tree", num_classes), TreeStats.load(exp_dir / "treeacc.npz")
    alignments = read_alignments(ali_dir / "ali.scp", corpus)
    if not alignments:
        raise AsrktError(f"{ali_dir / 'ali.scp'}: no alignment of a training utterance")
    if len(alignments) < len(corpus.utts):
        logger.warning("%d training utterance(s) have no alignment in %s: left out of the tree "
                       "statistics", len(corpus.utts) - len(alignments), ali_dir / "ali.scp")
    info = TransitionInfo.from_model(old.tm, old.topo)
    triples = ((corpus.utts[i], alignments[i], corpus.utt_feats(i)) for i in sorted(alignments))
    stats = accumulate_tree_stats(info, triples, ci_phones(lang), cfg.context_width,
                                  cfg.central_position, cfg.var_floor)
    stats.save(exp_dir / "treeacc.npz")
    logger.info("tree statistics: %d events over %.0f frames", stats.num_events,
                stats.counts.sum())
    return tree_from_stats(stats, lang, old.topo, exp_dir, cfg), stats


def _init_stage(exp_dir: Path, lang: Lang, corpus: Corpus, ali_dir: Path, old: GmmModel,
                cfg: TreeTrainConfig) -> GmmModel:
    """gmm-init-model, gmm-mixup to num_leaves, convert-ali; writes ali.ark/scp, then 1.npz."""
    tree, stats = _tree_stage(exp_dir, lang, corpus, ali_dir, old, cfg)
    if stats.dim != corpus.feats.shape[1]:
        raise AsrktError(f"{exp_dir / 'treeacc.npz'}: statistics of dimension {stats.dim}, the "
                         f"features have {corpus.feats.shape[1]}")
    model, occs = init_from_tree_stats(lang.topo_text, lang.phone_sets, tree, stats,
                                       cfg.init_var_floor)
    if cfg.num_leaves > 0:  # gmm-mixup --mix-up=<num-leaves>
        split_by_count(model, occs, cfg.num_leaves, cfg.mixup_power, cfg.min_count,
                       cfg.perturb_factor, np.random.default_rng([cfg.seed, 0]))
    logger.info("gmm-init-model: %d pdfs from %d events; mixed up to %d Gaussians",
                model.num_pdfs, stats.num_events, model.num_gauss)
    converter = AlignmentConverter(old, model)
    converted, bad = {}, []
    for i, ali in read_alignments(ali_dir / "ali.scp", corpus).items():
        new = converter.convert(ali)
        if new is None or len(new) != len(corpus.utt_feats(i)):
            bad.append(corpus.utts[i])
        else:
            converted[i] = new.tolist()
    report_failures(bad, len(bad) + len(converted), "convert-ali",
                    "left out until the first realignment")
    logger.info("convert-ali: %d alignments converted to the new tree", len(converted))
    write_alignments(exp_dir, corpus, converted)
    model.save(exp_dir, "1", kaldi=False)
    with contextlib.suppress(FileNotFoundError):
        (exp_dir / "treeacc.npz").unlink()  # as train_deltas.sh: not needed after 1.mdl
    return model


@dataclass
class TreeTraining:
    """What a tree-based trainer adds to :func:`train_tree_model` (train-lda-mllt's LDA and
    MLLT; nothing for train-deltas).

    Attributes:
        features: the feature pipeline settings of the training corpus.
        stage_files: extra outputs (names, glob patterns) removed when the options change.
        prepare: called with (EXP_DIR, corpus, ALI_DIR's model, lang, first pass) before the
            tree stage: may change the corpus' features (e.g. to the transform of that pass).
        before_update: :func:`em_passes`' hook.
        finish: called with EXP_DIR once the final model is written.
    """

    features: PipelineConfig
    stage_files: Sequence[str] = ()
    prepare: Optional[Callable[[Path, Corpus, GmmModel, Lang, int], None]] = None
    before_update: Optional[Callable[[int, GmmModel, Dict[int, List[int]]], None]] = None
    finish: Optional[Callable[[Path], None]] = None


def train_tree_model(data_dir: PathLike, lang_dir: PathLike, ali_dir: PathLike,
                     exp_dir: PathLike, cfg: TreeTrainConfig, nj: int,
                     how: TreeTraining, old: Optional[GmmModel] = None) -> GmmModel:
    """The stages train_deltas.sh and train_lda_mllt.sh share: the tree from ALI_DIR's
    alignments on this run's features, gmm-init-model + gmm-mixup + convert-ali, EM passes;
    resumable (see the module docstring).

    Args:
        data_dir: training data dir (features, cmvn.scp for speaker CMN, text).
        lang_dir: lang dir (phones/roots.int, sets.int, extra_questions.int, context_indep.int).
        ali_dir: alignments of DATA_DIR and the model that made them (align or train-mono
            output: ali.scp, final.npz).
        exp_dir: output experiment dir.
        cfg: options.
        nj: parallel alignment jobs.
        how: the trainer's features and hooks.
        old: ALI_DIR's model when the caller has loaded it already (None: loaded here).
    """
    limit_threads(1)
    cfg.validate()
    exp_dir, ali_dir = Path(exp_dir), Path(ali_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(exp_dir)
    old = GmmModel.load(ali_dir) if old is None else old
    lang = Lang(lang_dir)
    if _topo_tokens(old.topo_text) != _topo_tokens(lang.topo_text):
        raise AsrktError(f"{ali_dir / 'final.npz'}: the model's topology is not "
                         f"{lang.path / 'topo'} (aligned with another lang dir?)")
    _start_over_if_changed(exp_dir, cfg, how.stage_files)
    save_config(cfg, exp_dir / "config.yaml")
    done = _checkpoints(exp_dir)
    if not done and (exp_dir / "final.npz").is_file():
        logger.info("%s: trained by an earlier run with these options", exp_dir / "final.mdl")
        return GmmModel.load(exp_dir)
    lang, transcripts, corpus = prepare_training(data_dir, lang_dir, exp_dir, cfg, how.features)
    first = done[-1] if done else 1
    if how.prepare is not None:
        how.prepare(exp_dir, corpus, old, lang, first)
    if done:
        model = GmmModel.load(exp_dir / f"{first}.npz")
        logger.info("continuing an earlier run at pass %d", first)
    else:
        model = _init_stage(exp_dir, lang, corpus, ali_dir, old, cfg)
    alignments = {i: a.tolist() for i, a in read_alignments(exp_dir / "ali.scp",
                                                               corpus).items()}
    if model.dim != corpus.feats.shape[1]:
        raise AsrktError(f"{exp_dir}: checkpoint of dimension {model.dim}, the features have "
                         f"{corpus.feats.shape[1]}")
    logger.info("%d utterances, %d frames, dim %d, %d pdfs; totgauss %d", len(corpus.utts),
                len(corpus.feats), model.dim, model.num_pdfs, cfg.totgauss)
    graphs, failed = compile_graphs(graph_compiler(model, lang), transcripts)
    report_failures(failed, len(corpus.utts), "graph compilation")
    base = cfg.num_leaves if cfg.num_leaves > 0 else model.num_pdfs
    schedule = EmSchedule(first, base, (cfg.totgauss - base) // max(cfg.max_iter_inc, 1),
                          lambda x: (cfg.beam, cfg.retry_beam))

    def checkpoint(x: int, current: Dict[int, List[int]], realigned: bool) -> None:
        if realigned:
            write_alignments(exp_dir, corpus, current)
        model.save(exp_dir, str(x + 1), kaldi=False)
        (exp_dir / f"{x}.npz").unlink(missing_ok=True)

    em_passes(model, corpus, graphs, alignments, cfg, lang.optional_silence, nj, schedule,
              lambda x: np.random.default_rng([cfg.seed, x]), checkpoint=checkpoint,
              before_update=how.before_update)
    if how.finish is not None:
        how.finish(exp_dir)
    model.save(exp_dir, "final")
    write_text_atomic(exp_dir / "num_jobs", f"{nj}\n")
    for x in _checkpoints(exp_dir):
        (exp_dir / f"{x}.npz").unlink()
    logger.info("final model: %d pdfs, %d Gaussians -> %s", model.num_pdfs, model.num_gauss,
                exp_dir / "final.mdl")
    return model


def train_deltas(data_dir: PathLike, lang_dir: PathLike, ali_dir: PathLike, exp_dir: PathLike,
                 cfg: Optional[TrainDeltasConfig] = None, nj: int = 1) -> GmmModel:
    """Train a triphone GMM-HMM from a monophone alignment (steps/train_deltas.sh).

    Args:
        data_dir: training data dir (features, cmvn.scp for speaker CMN, text).
        lang_dir: lang dir (phones/roots.int, sets.int, extra_questions.int, context_indep.int).
        ali_dir: alignments of DATA_DIR and the model that made them (align or train-mono
            output: ali.scp, final.npz); only the alignments and the transition model are
            used (this run's features are delta features, as train_deltas.sh's).
        exp_dir: output experiment dir.
        cfg: options (Kaldi defaults when None).
        nj: parallel alignment jobs.
    """
    cfg = cfg or TrainDeltasConfig()
    features = PipelineConfig(cmvn=cfg.cmvn, delta_order=cfg.delta_order)
    return train_tree_model(data_dir, lang_dir, ali_dir, exp_dir, cfg, nj,
                            TreeTraining(features))
