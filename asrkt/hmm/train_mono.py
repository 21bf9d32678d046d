"""Flat-start monophone GMM training, as Kaldi's steps/train_mono.sh.

gmm-init-mono (global mean/variance from the first 10 utterances) -> align-equal-compiled ->
40 passes of accumulate (vectorised over frames, per pdf) / MLE update with realignment on
Kaldi's schedule and Gaussian splitting (``--mix-up``) up to ``totgauss``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
from tqdm import tqdm

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
from asrkt.hmm.align import align_utterance, compile_graphs, equal_align, graph_compiler
from asrkt.hmm.config import (  # noqa: F401
    KALDI_REALIGN_ITERS,
    AlignOptions,
    GmmEmConfig,
    GmmTrainConfig,
    TrainMonoConfig,
)
from asrkt.hmm.kaldi import khg
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import Gmm, GmmModel, init_mono
from asrkt.io.tables import ArkScpWriter
from asrkt.utils.config import save_config
from asrkt.utils.fileio import write_text_atomic
from asrkt.utils.parallel import limit_threads, run_jobs, split_evenly

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.train_mono")
@dataclass
class Corpus:
    """Training frames in memory: features [N, D] concatenated and per-utterance offsets."""

    utts: List[str]
    feats: np.ndarray
    offsets: np.ndarray

    def utt_feats(self, i: int) -> np.ndarray:
        return self.feats[self.offsets[i]:self.offsets[i + 1]]


def load_corpus(pipeline, data: DataDir, utts: List[str]) -> Corpus:
    """Read every utterance's pipeline features into one array.

    Args:
        pipeline: asrkt.feats.pipeline.FeaturePipeline (fitted).
        data: the data dir.
        utts: utterances to read, in order.
    """
    mats, lengths = [], []
    for _utt, feats in tqdm(pipeline.iter_features(data, utts), total=len(utts), desc="features",
                           unit="utt", leave=False):
        mats.append(feats)
        lengths.append(len(feats))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Corpus(list(utts), np.concatenate(mats) if mats else np.zeros((0, 0), np.float32),
                  offsets)


def gauss_posteriors(model: GmmModel, feats: np.ndarray, frames: np.ndarray, pdfs: np.ndarray
                     ) -> Iterator[Tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Each pdf's frames and the posteriors of its Gaussians on them (vectorised per pdf).

    Args:
        model: the model.
        feats: all frames [N, D].
        frames: rows of ``feats`` to score.
        pdfs: the pdf of each of ``frames``.

    Yields:
        (pdf, positions in ``frames`` of its frames, their features [n, D] float64, Gaussian
        posteriors [n, G], log-likelihood of each frame [n]) for every pdf with frames.
    """
    order = np.argsort(pdfs, kind="stable")
    bounds = np.searchsorted(pdfs[order], np.arange(model.num_pdfs + 1))
    mi, half_inv, gconst, owner, starts = model._constants()
    for p, g in enumerate(model.gmms):
        pos = order[bounds[p]:bounds[p + 1]]
        if len(pos) == 0:
            continue
        cols = slice(starts[p], starts[p] + len(g.weights))
        x = feats[frames[pos]].astype(np.float64)
        ll = gconst[cols] + x @ mi[cols].T + (x * x) @ half_inv[cols].T
        peak = ll.max(axis=1, keepdims=True)
        post = np.exp(ll - peak)
        total = post.sum(axis=1, keepdims=True)
        yield p, pos, x, post / total, (peak + np.log(total))[:, 0]


def accumulate(model: GmmModel, corpus: Corpus, alignments: Dict[int, List[int]]
               ) -> Tuple[List[Tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray, float, int]:
    """gmm-acc-stats-ali, vectorised: per-Gaussian occupancy, sum x, sum x^2 for every pdf.

    Args:
        model: current model (gives the Gaussian posteriors within each pdf).
        corpus: training features.
        alignments: utterance index -> transition-ids.

    Returns:
        (per-pdf (occ [G], x [G, D], x2 [G, D]), transition counts, total log-likelihood, frames)
    """
    idx = sorted(alignments)
    frames = np.concatenate([np.arange(corpus.offsets[i], corpus.offsets[i + 1]) for i in idx])
    tids = np.concatenate([np.asarray(alignments[i], dtype=np.int64) for i in idx])
    trans_stats = np.bincount(tids, minlength=model.tm.num_transition_ids + 1).astype(np.float64)
    pdfs = model.tid2pdf()[tids]
    dim = corpus.feats.shape[1]
    stats = [(np.zeros(len(g.weights)), np.zeros((len(g.weights), dim)),
              np.zeros((len(g.weights), dim))) for g in model.gmms]
    tot_like = 0.0
    for p, _, x, post, like in gauss_posteriors(model, corpus.feats, frames, pdfs):
        tot_like += float(np.sum(like))
        stats[p] = (post.sum(axis=0), post.T @ x, post.T @ (x * x))
    return stats, trans_stats, tot_like, len(tids)


def update_gmm(gmm: Gmm, occ: np.ndarray, sx: np.ndarray, sx2: np.ndarray, cfg: GmmEmConfig,
               min_occ: float) -> Tuple[Gmm, int, int]:
    """MLE update of one pdf's GMM as Kaldi's MleDiagGmmUpdate (floor, low-count removal).

    Args:
        gmm: current parameters.
        occ, sx, sx2: statistics from :func:`accumulate`.
        cfg: limits (min weight, min variance).
        min_occ: minimum occupancy for a Gaussian to be updated (gmm-est: 10; first pass 3).

    Returns:
        (new GMM, number of Gaussians removed, number of variance elements floored)
    """
    num = len(gmm.weights)
    occ_sum = float(occ.sum())
    weights, means, vars_ = gmm.weights.copy(), gmm.means.copy(), gmm.vars.copy()
    remove, floored = [], 0
    for i in range(num):
        prob = occ[i] / occ_sum if occ_sum > 0 else 1.0 / num
        if occ[i] > min_occ and prob > cfg.min_gaussian_weight:
            weights[i] = prob
            means[i] = sx[i] / occ[i]
            var = sx2[i] / occ[i] - means[i] ** 2
            floored += int(np.sum(var < cfg.min_variance))
            vars_[i] = np.maximum(var, cfg.min_variance)
        elif len(remove) < num - 1:
            remove.append(i)
        else:
            weights[i] = max(prob, cfg.min_gaussian_weight)
    keep = [i for i in range(num) if i not in remove]
    weights = weights[keep] / weights[keep].sum()
    return Gmm(weights, means[keep], vars_[keep]), len(remove), floored


def _kaldi_sift_up(heap: list, hole: int, item: tuple, less: Callable) -> None:
    """libstdc++'s __push_heap: ``item`` into the max-heap ``heap`` (order ``less``) from
    position ``hole`` up."""
    parent = (hole - 1) // 2
    while hole > 0 and less(heap[parent], item):
        heap[hole] = heap[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap[hole] = item


def _kaldi_heap_push(heap: list, item: tuple, less: Callable) -> None:
    """libstdc++'s std::push_heap of ``item`` onto the max-heap ``heap``."""
    heap.append(item)
    _kaldi_sift_up(heap, len(heap) - 1, item, less)


def _kaldi_heap_pop(heap: list, less: Callable) -> tuple:
    """libstdc++'s std::pop_heap + pop_back (__adjust_heap, then __push_heap of the last)."""
    top = heap[0]
    value = heap.pop()
    size = len(heap)
    if size == 0:
        return top
    hole, child = 0, 0
    while child < (size - 1) // 2:
        child = 2 * (child + 1)
        if less(heap[child], heap[child - 1]):
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if size % 2 == 0 and child == (size - 2) // 2:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _kaldi_sift_up(heap, hole, value, less)
    return top


def split_targets(occs: np.ndarray, target: int, power: float, min_count: float) -> List[int]:
    """Gaussians per pdf when mixing up to ``target`` (Kaldi's GetSplitTargets).

    Each pdf's share grows with occupancy**power; a pdf stops growing when another Gaussian
    would get fewer than ``min_count`` frames. As Kaldi's: the occupancies and their powers
    are single precision, and the pdfs are taken from a ``std::priority_queue`` (libstdc++'s
    heap, emulated), so pdfs of equal occupancy (Viterbi frame counts often are) get their
    Gaussians in Kaldi's order.

    Args:
        occs: occupancy per pdf.
        target: total Gaussians wanted.
        power: allocation exponent.
        min_count: minimum frames per Gaussian.
    """
    occ32 = np.asarray(occs, dtype=np.float32)
    min_count32 = float(np.float32(min_count))

    def less(a: tuple, b: tuple) -> bool:  # CountStats::operator<
        return a[2] / (a[1] + 1.0e-10) < b[2] / (b[1] + 1.0e-10)

    heap: list = []
    for p, o in enumerate(occ32):
        # (pdf, components, occupancy**power as a float)
        _kaldi_heap_push(heap, (p, 1, float(np.float32(float(o) ** float(np.float32(power))))),
                         less)
    total = len(occ32)
    while total < target:
        p, n, score = heap[0]
        if score == 0:
            break  # no pdf can take another Gaussian (min-count or no counts)
        _kaldi_heap_pop(heap, less)
        if float(np.float32((n + 1) * min_count32)) >= float(occ32[p]):
            _kaldi_heap_push(heap, (p, n, 0.0), less)  # min-count reached: no more splits
        else:
            _kaldi_heap_push(heap, (p, n + 1, score), less)
            total += 1
    counts = [1] * len(occ32)
    for p, n, _ in heap:
        counts[p] = n
    return counts


def split_by_count(model: GmmModel, occs: np.ndarray, target: int, power: float,
                   min_count: float, perturb_factor: float, rng: np.random.Generator) -> None:
    """Kaldi's AmDiagGmm::SplitByCount (gmm-mixup, gmm-est --mix-up): every pdf with fewer
    Gaussians than its :func:`split_targets` share is split up to it, whatever the model's
    total; a pdf with more keeps them (so the total may end above ``target``).

    Args:
        model: updated in place.
        occs: occupancy per pdf (the statistics of the pass).
        target: total Gaussians wanted.
        power, min_count: :func:`split_targets`' options.
        perturb_factor: :func:`split_gmm`'s mean perturbation.
        rng: random generator for the perturbation.
    """
    targets = split_targets(occs, target, power, min_count)
    model.gmms = [split_gmm(g, t, perturb_factor, rng) if t > len(g.weights) else g
                  for g, t in zip(model.gmms, targets)]
    model.invalidate()


def split_gmm(gmm: Gmm, target: int, perturb_factor: float, rng: np.random.Generator) -> Gmm:
    """Split the heaviest Gaussian until there are ``target`` (Kaldi's DiagGmm::Split).

    The copy's mean moves by +perturb_factor standard deviations along a random direction, the
    original's by the opposite amount; both get half the weight.

    Args:
        gmm: the pdf's GMM.
        target: number of Gaussians wanted.
        perturb_factor: size of the mean perturbation in standard deviations.
        rng: random generator (seeded: training is deterministic).
    """
    weights, means, vars_ = list(gmm.weights), list(gmm.means), list(gmm.vars)
    while len(weights) < target:
        k = int(np.argmax(weights))
        shift = perturb_factor * rng.standard_normal(len(means[k])) * np.sqrt(vars_[k])
        weights[k] /= 2.0
        weights.append(weights[k])
        means.append(means[k] + shift)
        means[k] = means[k] - shift
        vars_.append(vars_[k].copy())
    return Gmm(np.array(weights), np.array(means), np.array(vars_))


def estimate(model: GmmModel, stats, trans_stats: np.ndarray, cfg: GmmEmConfig,
             min_occ: float, mixup: int, rng: np.random.Generator) -> Dict[str, float]:
    """gmm-est: transition update, GMM update, then split Gaussians up to ``mixup``.

    Args:
        model: updated in place.
        stats: per-pdf statistics from :func:`accumulate`.
        trans_stats: transition-id counts.
        cfg: training options.
        min_occ: minimum Gaussian occupancy for the update.
        mixup: target total number of Gaussians (0: no splitting).
        rng: random generator for the mean perturbation of split Gaussians.
    """
    tcfg = khg.MleTransitionUpdateConfig(floor=cfg.transition_floor,
                                         mincount=cfg.transition_min_count)
    t_impr, t_count = model.tm.mle_update(trans_stats, tcfg)
    removed = floored = 0
    new = []
    for gmm, (occ, sx, sx2) in zip(model.gmms, stats):
        g, r, f = update_gmm(gmm, occ, sx, sx2, cfg, min_occ)
        new.append(g)
        removed, floored = removed + r, floored + f
    model.gmms = new
    model.invalidate()
    if mixup > 0:  # gmm-est calls SplitByCount whenever --mix-up is given
        occs = np.array([s[0].sum() for s in stats], dtype=np.float64)
        split_by_count(model, occs, mixup, cfg.power, cfg.min_count, cfg.perturb_factor, rng)
    return {"trans_impr": t_impr / max(t_count, 1.0), "removed": removed, "floored": floored}


_ALIGN_JOB: dict = {}


def _align_job(job: int, indices: List[int], tick) -> Dict[int, Optional[List[int]]]:
    ctx = _ALIGN_JOB
    model, corpus, graphs, opts, boost = (ctx["model"], ctx["corpus"], ctx["graphs"],
                                          ctx["opts"], ctx["boost"])
    out = {}
    for i in indices:
        ll = model.pdf_loglikes(corpus.utt_feats(i), corpus.utts[i])
        if boost is not None:
            ll[:, boost[0]] += boost[1]
        out[i], _ = align_utterance(model, graphs[corpus.utts[i]], ll, opts, corpus.utts[i])
        tick(1)
    return out


def realign(model: GmmModel, corpus: Corpus, graphs: Dict[str, object], opts: AlignOptions,
            boost: Optional[Tuple[List[int], float]], nj: int) -> Dict[int, Optional[List[int]]]:
    """Align every utterance with a graph (``nj`` forked jobs); None marks a failure.

    Args:
        model: current model.
        corpus: training features.
        graphs: utterance -> training graph.
        opts: alignment beams and scales.
        boost: (silence pdf ids, log boost) or None.
        nj: parallel jobs.
    """
    indices = [i for i, u in enumerate(corpus.utts) if u in graphs]
    _ALIGN_JOB.update(model=model, corpus=corpus, graphs=graphs, opts=opts, boost=boost)
    try:
        parts = run_jobs(_align_job, split_evenly(indices, nj), len(indices), "align")
    finally:
        _ALIGN_JOB.clear()
    merged: Dict[int, Optional[List[int]]] = {}
    for part in parts:
        merged.update(part)
    return merged


@dataclass
class EmSchedule:
    """Which passes an EM run makes and with what: passes ``first`` .. num_iters - 1.

    Attributes:
        first: the first pass to run (1, or the pass a resumed run continues from).
        base_gauss: the Gaussian target of pass 1 (``--mix-up`` of gmm-est).
        inc_gauss: Gaussians added to the target after each pass up to max_iter_inc.
        beams: pass -> (beam, retry beam) of its realignment.
    """

    first: int
    base_gauss: int
    inc_gauss: int
    beams: Callable[[int], Tuple[float, float]]

    def num_gauss(self, x: int, max_iter_inc: int) -> int:
        """The Gaussian target of pass ``x`` (the scripts' numgauss += incgauss)."""
        return self.base_gauss + self.inc_gauss * min(x - 1, max_iter_inc)


def em_passes(model: GmmModel, corpus: Corpus, graphs: Dict[str, object],
              alignments: Dict[int, List[int]], cfg: GmmEmConfig, silence_phone: int,
              nj: int, schedule: EmSchedule, rng: Callable[[int], np.random.Generator],
              checkpoint: Optional[Callable[[int, Dict[int, List[int]], bool], None]] = None,
              before_update: Optional[Callable[[int, GmmModel, Dict[int, List[int]]], None]]
              = None) -> Dict[int, List[int]]:
    """The training passes of train_mono.sh / train_deltas.sh: realign (gmm-align-compiled with
    gmm-boost-silence) on ``cfg.realign_iters``, accumulate (gmm-acc-stats-ali) and estimate
    (gmm-est --mix-up) on every pass.

    Args:
        model: updated in place.
        corpus: training features.
        graphs: utterance -> training graph.
        alignments: utterance index -> transition-ids for the first pass.
        cfg: EM options.
        silence_phone: the optional-silence phone (boosted by ``cfg.boost_silence``).
        nj: parallel alignment jobs.
        schedule: passes, Gaussian targets and beams.
        rng: pass -> random generator for the mean perturbation of split Gaussians.
        checkpoint: called after each pass with (pass, alignments, realigned in this pass).
        before_update: called on each pass after the realignment, before the statistics, with
            (pass, model, alignments): e.g. train-lda-mllt's MLLT update, which changes the
            model's means and the corpus' features.

    Returns:
        The alignments of the last realignment.
    """
    silence = sorted(set(khg.get_pdfs_for_phones(model.tm, [silence_phone])[1]))
    boost = (silence, float(np.log(cfg.boost_silence))) if cfg.boost_silence != 1.0 else None
    realign_at = cfg.realign_passes()
    for x in range(schedule.first, cfg.num_iters):
        if x in realign_at:
            beam, retry = schedule.beams(x)
            opts = cfg.align_options(beam=beam, retry_beam=retry)
            result = realign(model, corpus, graphs, opts, boost, nj)
            bad = [corpus.utts[i] for i, a in result.items() if a is None]
            report_failures(bad, len(result), f"alignment in pass {x}")
            alignments = {i: a for i, a in result.items() if a is not None}
        if before_update is not None:
            before_update(x, model, alignments)
        stats, trans, like, frames = accumulate(model, corpus, alignments)
        info = estimate(model, stats, trans, cfg, cfg.min_gaussian_occupancy,
                        schedule.num_gauss(x, cfg.max_iter_inc), rng(x))
        logger.info("pass %d%s: avg log-like per frame %.4f over %d frames; %d Gaussians%s", x,
                    " (realigned)" if x in realign_at else "", like / frames, frames,
                    model.num_gauss, f", {info['removed']} removed" if info["removed"] else "")
        if checkpoint is not None:
            checkpoint(x, alignments, x in realign_at)
    return alignments


def prepare_training(data_dir: PathLike, lang_dir: PathLike, exp_dir: Path,
                     cfg: GmmEmConfig, features: Optional[PipelineConfig] = None
                     ) -> Tuple[Lang, Dict[str, List[int]], Corpus]:
    """Lang dir, transcripts as word ids and the features in memory through a new pipeline
    (``features``, default ``cfg.cmvn`` and deltas to ``cfg.delta_order``), saved as
    EXP_DIR/feature_pipeline.yaml.

    Args:
        data_dir: training data dir (features and text).
        lang_dir: lang dir.
        exp_dir: output dir.
        cfg: training options.
        features: the pipeline settings (default: from ``cfg``, a :class:`GmmTrainConfig`).
    """
    data, lang = DataDir(data_dir), Lang(lang_dir)
    utts = data.utterances
    if not utts:
        raise AsrktError(f"{data.path}: no utterances to train on")
    transcripts = lang.map_transcripts({u: data.text.get(u, []) for u in utts}, data.file("text"))
    missing = [u for u in utts if u not in data.text]
    if missing:
        raise AsrktError(f"{data.file('text')}: no transcript for {len(missing)} utterance(s), "
                         f"e.g. {missing[0]}")
    pipeline = FeaturePipeline(features or PipelineConfig(cmvn=cfg.cmvn,
                                                          delta_order=cfg.delta_order))
    pipeline.fit(data, utts)
    pipeline.save(exp_dir / "feature_pipeline.yaml")
    corpus = load_corpus(pipeline, data, utts)
    return lang, transcripts, corpus


def utt_seed(utt: str, seed: int) -> int:
    """Per-utterance random seed as align-equal-compiled (Kaldi's StringHasher of the key,
    truncated to int32), offset by ``seed``."""
    value = 0
    for byte in utt.encode("utf-8"):
        value = (value * 7853 + (byte - 256 if byte > 127 else byte)) % (1 << 64)
    value = (value + seed) % (1 << 32)
    return value - (1 << 32) if value >= (1 << 31) else value


def report_failures(failed: List[str], total: int, what: str, action: str = "left out") -> None:
    """Warn naming the utterances where ``what`` failed; an error when all failed.

    Args:
        failed: utterance ids.
        total: number of utterances tried.
        what: the step, for the message.
        action: what happens to them.
    """
    if not failed:
        return
    if len(failed) == total:
        raise AsrktError(f"{what} failed for all {total} utterances (e.g. {failed[0]}); check "
                         f"transcripts, lexicon and features")
    logger.warning("%s failed for %d utterance(s), %s: %s%s", what, len(failed), action,
                   " ".join(failed[:20]), " ..." if len(failed) > 20 else "")


def train_mono(data_dir: PathLike, lang_dir: PathLike, exp_dir: PathLike,
               cfg: Optional[TrainMonoConfig] = None, nj: int = 1) -> GmmModel:
    """Train a monophone GMM-HMM from a flat start (steps/train_mono.sh).

    Writes EXP_DIR/final.{mdl,npz}, tree, feature_pipeline.yaml, config.yaml, ali.ark/scp
    (last alignments) and per-pass likelihoods in the log.

    Args:
        data_dir: training data dir with feats.scp (and cmvn.scp for speaker CMN) and text.
        lang_dir: lang dir from prepare-lang.
        exp_dir: output experiment dir.
        cfg: training options (Kaldi defaults when None).
        nj: parallel alignment jobs.
    """
    limit_threads(1)
    cfg = cfg or TrainMonoConfig()
    exp_dir = Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, exp_dir / "config.yaml")
    lang, transcripts, corpus = prepare_training(data_dir, lang_dir, exp_dir, cfg)
    model = init_mono(lang.topo_text, lang.phone_sets,
                      [corpus.utt_feats(i) for i in range(min(cfg.init_utts, len(corpus.utts)))],
                      cfg.min_variance)
    rng = np.random.default_rng(cfg.seed)
    num_gauss = model.num_gauss
    inc_gauss = (cfg.totgauss - num_gauss) // max(cfg.max_iter_inc, 1)
    logger.info("%d utterances, %d frames, dim %d, %d pdfs; totgauss %d", len(corpus.utts),
                len(corpus.feats), model.dim, model.num_pdfs, cfg.totgauss)
    graphs, failed = compile_graphs(graph_compiler(model, lang), transcripts)
    report_failures(failed, len(corpus.utts), "graph compilation")
    alignments: Dict[int, List[int]] = {}
    for i, utt in enumerate(corpus.utts):
        if utt in graphs:
            ali = equal_align(graphs[utt], int(corpus.offsets[i + 1] - corpus.offsets[i]),
                              utt_seed(utt, cfg.seed))
            if ali is None:
                failed.append(utt)
            else:
                alignments[i] = ali
    report_failures(failed, len(corpus.utts), "equal alignment (utterance too short?)",
                     "left out of pass 0, realigned later")
    stats, trans, like, frames = accumulate(model, corpus, alignments)
    estimate(model, stats, trans, cfg, 3.0, num_gauss, rng)
    logger.info("pass 0 (equal alignment): avg log-like per frame %.4f over %d frames",
                like / frames, frames)

    def beams(x: int) -> Tuple[float, float]:
        return ((cfg.beam, cfg.retry_beam) if x == 1 else
                (cfg.realign_beam, cfg.realign_retry_beam))

    alignments = em_passes(model, corpus, graphs, alignments, cfg, lang.optional_silence, nj,
                           EmSchedule(1, num_gauss, inc_gauss, beams), lambda x: rng)
    model.save(exp_dir, "final")
    write_alignments(exp_dir, corpus, alignments)
    write_text_atomic(exp_dir / "num_jobs", f"{nj}\n")
    logger.info("final model: %d pdfs, %d Gaussians -> %s", model.num_pdfs, model.num_gauss,
                exp_dir / "final.mdl")
    return model


def write_alignments(exp_dir: Path, corpus: Corpus, alignments: Dict[int, List[int]]) -> None:
    """EXP_DIR/ali.ark + ali.scp in the byte order of the utterance ids.

    Args:
        exp_dir: output dir.
        corpus: gives the utterance ids.
        alignments: utterance index -> transition-ids.
    """
    with ArkScpWriter(exp_dir / "ali.ark", exp_dir / "ali.scp") as writer:
        for i in sorted(alignments, key=lambda k: corpus.utts[k].encode("utf-8")):
            writer.write(corpus.utts[i], np.asarray(alignments[i], dtype=np.int32))
