"""LDA+MLLT triphone training, as Kaldi's steps/train_lda_mllt.sh.

Features: CMVN (ALI_DIR's model's setting unless ``cmvn`` is given), splice-feats with
``splice`` frames each side, then the transform. Stages (resumable as train-deltas'):

1. lda: acc-lda over ALI_DIR's alignments (pdf-ids of its model as classes; frames of silence
   phones weighted by ``silence_weight``, weight-silence-post) on the spliced features, est-lda
   to ``dim`` (:func:`estimate_lda`); EXP_DIR/0.mat.
2. tree, init and the EM passes of :func:`asrkt.hmm.train_deltas.train_tree_model` on the LDA
   features; on each pass of ``mllt_iters`` (after its realignment, before the statistics):
   gmm-acc-mllt (:func:`accumulate_mllt`), est-mllt (:func:`estimate_mllt`),
   gmm-transform-means and compose-transforms of the MLLT with the current transform into
   EXP_DIR/<pass>.mat; the corpus is re-read through the new transform.

EXP_DIR finally holds final.mat (the last transform; Kaldi binary matrix, [dim, spliced dim]),
feature_pipeline.yaml naming it, splice_opts, cmvn_opts (speaker CMN) and train-deltas' files.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.feats.pipeline import (
    FeaturePipeline,
    PipelineConfig,
    apply_transform,
    read_matrix,
    write_matrix,
)
from asrkt.hmm.config import TrainLdaMlltConfig
from asrkt.hmm.kaldi_model import model_pipeline
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import GmmModel
from asrkt.hmm.train_deltas import TreeTraining, read_alignments, train_tree_model
from asrkt.hmm.train_mono import Corpus, gauss_posteriors
from asrkt.utils.fileio import atomic_output, write_text_atomic

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.train_lda_mllt")
MLLT_ITERATIONS = 200  # est-mllt's passes over the rows


def weighted_frames(model: GmmModel, corpus: Corpus, alignments: Dict[int, np.ndarray],
                    silence: List[int], silence_weight: float
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ali-to-post | weight-silence-post: the aligned frames with their pdf and weight (frames
    of ``silence`` phones get ``silence_weight``; weight 0 leaves them out).

    Args:
        model: the model of the alignments.
        corpus: the features (frame offsets).
        alignments: utterance index -> transition-ids.
        silence: silence phone ids (lang/phones/silence.int).
        silence_weight: their weight.

    Returns:
        (rows of corpus.feats, pdf of each, weight of each).
    """
    idx = sorted(alignments)
    if not idx:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    frames = np.concatenate([np.arange(corpus.offsets[i], corpus.offsets[i + 1]) for i in idx])
    tids = np.concatenate([np.asarray(alignments[i], dtype=np.int64) for i in idx])
    weights = np.where(np.isin(model.tid2phone()[tids], silence), silence_weight, 1.0)
    keep = weights != 0.0
    return frames[keep], model.tid2pdf()[tids][keep], weights[keep]


def accumulate_lda(feats: np.ndarray, classes: np.ndarray, weights: np.ndarray,
                   num_classes: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """acc-lda: per-class weighted counts [C] and sums [C, D], total weighted sum of x x^T.

    Args:
        feats: frames [N, D].
        classes: class (pdf) of each frame.
        weights: weight of each frame.
        num_classes: number of classes (the model's pdfs).
    """
    x = feats.astype(np.float64)
    counts = np.bincount(classes, weights=weights, minlength=num_classes)
    sums = np.zeros((num_classes, x.shape[1]))
    np.add.at(sums, classes, x * weights[:, None])
    return counts, sums, (x * weights[:, None]).T @ x


def estimate_lda(counts: np.ndarray, sums: np.ndarray, second: np.ndarray, dim: int,
                 allow_large_dim: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """est-lda: the rows that whiten the within-class covariance W and diagonalise the
    between-class covariance B, largest B first (M W M^T = I, M B M^T = diag).

    W's Cholesky factor L turns it into the eigenproblem of L^-1 B L^-T; a W that is not
    positive definite gets 0.001 times its mean diagonal added (as est-lda).

    Args:
        counts, sums, second: statistics of :func:`accumulate_lda`.
        dim: output dimension.
        allow_large_dim: allow ``dim`` >= the number of classes.

    Returns:
        (the [dim, D] matrix, the between-class eigenvalues in the whitened space, all D).
    """
    num_classes, feat_dim = sums.shape
    if dim > feat_dim:
        raise AsrktError(f"LDA dim {dim} is more than the spliced feature dimension {feat_dim}")
    if dim >= num_classes and not allow_large_dim:
        raise AsrktError(f"LDA dim {dim} is not below the number of classes {num_classes} "
                         f"(pdfs of ALI_DIR's model): lower dim or set allow_large_dim")
    total = counts.sum()
    if total <= 0:
        raise AsrktError("no frames for the LDA statistics (all silence?)")
    mean = sums.sum(axis=0) / total
    total_cov = second / total - np.outer(mean, mean)
    seen = counts > 0
    class_means = sums[seen] / counts[seen, None]
    between = (class_means * (counts[seen] / total)[:, None]).T @ class_means
    between -= np.outer(mean, mean)
    within = total_cov - between
    try:
        chol = np.linalg.cholesky(within)
    except np.linalg.LinAlgError:
        smooth = 1.0e-3 * np.trace(within) / feat_dim
        logger.info("est-lda: within-class covariance not positive definite, adding %g to "
                    "its diagonal", smooth)
        try:
            chol = np.linalg.cholesky(within + smooth * np.eye(feat_dim))
        except np.linalg.LinAlgError:
            raise AsrktError("LDA: the within-class covariance is singular (constant "
                             "feature dimensions?)") from None
    inv_chol = np.linalg.inv(chol)
    whitened = inv_chol @ between @ inv_chol.T
    values, vectors = np.linalg.eigh((whitened + whitened.T) / 2)
    order = np.argsort(-values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    return (vectors.T @ inv_chol)[:dim], values


def accumulate_mllt(model: GmmModel, feats: np.ndarray, frames: np.ndarray, pdfs: np.ndarray,
                    weights: np.ndarray) -> Tuple[np.ndarray, float, float]:
    """gmm-acc-mllt (without --rand-prune): G_d = sum over frames and Gaussians of posterior /
    var_d (x - mu)(x - mu)^T, one D x D matrix per dimension d.

    Args:
        model: the current model.
        feats: all frames [N, D] (the current transform's).
        frames, pdfs, weights: from :func:`weighted_frames`.

    Returns:
        (G [D, D, D], beta: the weighted frame count, the weighted log-likelihood sum).
    """
    dim = feats.shape[1]
    centred, inv_vars = [], []
    like = 0.0
    for p, pos, x, post, ll in gauss_posteriors(model, feats, frames, pdfs):
        post = post * weights[pos, None]
        like += float(ll @ weights[pos])
        gmm = model.gmms[p]
        for m in range(len(gmm.weights)):
            occ = post[:, m].sum()
            if occ == 0.0:
                continue
            first = post[:, m] @ x
            mu = gmm.means[m]
            second = (x * post[:, m:m + 1]).T @ x
            centred.append(second - np.outer(first, mu) - np.outer(mu, first)
                           + occ * np.outer(mu, mu))
            inv_vars.append(1.0 / gmm.vars[m])
    if not centred:
        return np.zeros((dim, dim, dim)), 0.0, 0.0
    stats = np.einsum("md,mij->dij", np.array(inv_vars), np.array(centred))
    return stats, float(weights.sum()), like


def estimate_mllt(stats: np.ndarray, beta: float,
                  iterations: int = MLLT_ITERATIONS) -> Tuple[np.ndarray, float]:
    """est-mllt: the square transform A maximising beta log|det A| - 1/2 sum_i a_i G_i a_i^T,
    one row a_i at a time (Gales' semi-tied covariance update), from the unit matrix.

    Args:
        stats: G from :func:`accumulate_mllt`.
        beta: the frame count.
        iterations: passes over the rows (est-mllt: 200).

    Returns:
        (A [D, D], the objective's improvement, in total: divide by beta for per frame).
    """
    dim = stats.shape[0]
    if beta < 10 * dim:
        logger.warning("MLLT: %s count %g for dimension %d", "very small" if beta > 2 * dim
                       else "insufficient", beta, dim)
    transform = np.eye(dim)
    try:
        inverses = np.linalg.inv(stats)
    except np.linalg.LinAlgError:
        raise AsrktError(f"MLLT: singular statistics over {beta:g} frames (too little "
                         f"data for dimension {dim}?)") from None

    def objective(row, cofactor, g):
        return beta * np.log(abs(row @ cofactor)) - 0.5 * row @ g @ row

    improvement = 0.0
    for _ in range(iterations):
        for i in range(dim):
            cofactor = np.linalg.inv(transform).T[i]
            before = objective(transform[i], cofactor, stats[i])
            direction = inverses[i] @ cofactor
            transform[i] = np.sqrt(beta / (cofactor @ direction)) * direction
            after = objective(transform[i], cofactor, stats[i])
            if after < before - abs(before) * 1e-5:
                raise AsrktError("MLLT: the objective decreased (statistics not positive "
                                 "definite?)")
            improvement += after - before
    return transform, float(improvement)


def _mats(exp_dir: Path) -> List[int]:
    """The passes of EXP_DIR/<pass>.mat (0: the LDA's)."""
    return sorted(int(p.stem) for p in exp_dir.glob("*.mat") if p.stem.isdigit())


class _LdaMllt:
    """The transform of a train-lda-mllt run: its stages' hooks for train_tree_model."""

    def __init__(self, cfg: TrainLdaMlltConfig, ali_dir: Path, features: PipelineConfig):
        self.cfg, self.ali_dir, self.features = cfg, ali_dir, features
        self.corpus: Optional[Corpus] = None
        self.spliced = np.zeros((0, 0), np.float32)
        self.matrix = np.zeros((0, 0), np.float32)
        self.silence: List[int] = []
        self.exp_dir = Path()

    def prepare(self, exp_dir: Path, corpus: Corpus, old: GmmModel, lang: Lang,
                first: int) -> None:
        """The transform in use before pass ``first`` (est-lda's on a new run), applied."""
        self.exp_dir, self.corpus, self.spliced = exp_dir, corpus, corpus.feats
        self.silence = lang.silence_phones
        if not (exp_dir / "0.mat").is_file():
            self._lda(corpus, old)
        current = max(x for x in _mats(exp_dir) if x < first)
        self._use(read_matrix(exp_dir / f"{current}.mat", f"the transform before pass {first}"))
        logger.info("features: %d spliced dims -> %d (%s)", self.spliced.shape[1],
                    self.matrix.shape[0], exp_dir / f"{current}.mat")

    def _use(self, matrix: np.ndarray) -> None:
        self.matrix = matrix
        self.corpus.feats = apply_transform(self.spliced, matrix)

    def _lda(self, corpus: Corpus, old: GmmModel) -> None:
        alignments = read_alignments(self.ali_dir / "ali.scp", corpus)
        frames, pdfs, weights = weighted_frames(old, corpus, alignments, self.silence,
                                                self.cfg.silence_weight)
        counts, sums, second = accumulate_lda(corpus.feats[frames], pdfs, weights,
                                              old.num_pdfs)
        matrix, values = estimate_lda(counts, sums, second, self.cfg.dim,
                                      self.cfg.allow_large_dim)
        logger.info("est-lda: %.0f frames, %d classes (%d seen); %d -> %d dims; between-class "
                    "eigenvalues sum %.4g, the kept ones %.4g", counts.sum(), old.num_pdfs,
                    int(np.sum(counts > 0)), matrix.shape[1], matrix.shape[0], values.sum(),
                    values[:matrix.shape[0]].sum())
        write_matrix(self.exp_dir / "0.mat", matrix)

    def before_update(self, x: int, model: GmmModel, alignments: Dict[int, List[int]]) -> None:
        """On an MLLT pass: gmm-acc-mllt, est-mllt, gmm-transform-means, compose-transforms."""
        if x not in self.cfg.mllt_passes():
            return
        corpus = self.corpus
        ali = {i: np.asarray(a, dtype=np.int64) for i, a in alignments.items()}
        frames, pdfs, weights = weighted_frames(model, corpus, ali, self.silence,
                                                self.cfg.silence_weight)
        stats, beta, like = accumulate_mllt(model, corpus.feats, frames, pdfs, weights)
        if beta <= 0:
            raise AsrktError(f"MLLT in pass {x}: no frames for the statistics (all silence?)")
        mllt, improvement = estimate_mllt(stats, beta)
        for gmm in model.gmms:
            gmm.means = gmm.means @ mllt.T
        model.invalidate()
        self._use((mllt @ self.matrix.astype(np.float64)).astype(np.float32))
        write_matrix(self.exp_dir / f"{x}.mat", self.matrix)
        _, logdet = np.linalg.slogdet(mllt)
        after = sum(float(ll @ weights[pos]) for _, pos, _, _, ll in
                    gauss_posteriors(model, corpus.feats, frames, pdfs)) + logdet * beta
        logger.info("pass %d: MLLT objective improvement %.4f per frame over %.0f frames, "
                    "log-det %.4f; avg log-like per frame (Gaussians only) %.4f -> %.4f", x,
                    improvement / beta, beta, logdet, like / beta, after / beta)

    def finish(self, exp_dir: Path) -> None:
        """final.mat, the pipeline naming it, splice_opts and cmvn_opts."""
        last = max(_mats(exp_dir))
        with atomic_output(exp_dir / "final.mat") as tmp:
            shutil.copyfile(exp_dir / f"{last}.mat", tmp)
        pipeline = FeaturePipeline.load(exp_dir / "feature_pipeline.yaml")
        pipeline.config.transform = "final.mat"
        pipeline.save(exp_dir / "feature_pipeline.yaml")
        splice = self.features.splice
        write_text_atomic(exp_dir / "splice_opts",
                          f"--left-context={splice} --right-context={splice}\n")
        if self.features.cmvn == "speaker":
            norm = "true" if self.features.norm_vars else "false"
            write_text_atomic(exp_dir / "cmvn_opts", f"--norm-vars={norm}\n")


def train_lda_mllt(data_dir: PathLike, lang_dir: PathLike, ali_dir: PathLike,
                   exp_dir: PathLike, cfg: Optional[TrainLdaMlltConfig] = None,
                   nj: int = 1) -> GmmModel:
    """Train a triphone GMM-HMM on LDA+MLLT features (steps/train_lda_mllt.sh).

    Args:
        data_dir: training data dir (features, cmvn.scp for speaker CMN, text).
        lang_dir: lang dir (phones/silence.int, roots.int, sets.int, extra_questions.int,
            context_indep.int).
        ali_dir: alignments of DATA_DIR and the model that made them (align output of any GMM
            model): its alignments, transition model and CMVN setting are used.
        exp_dir: output experiment dir.
        cfg: options (Kaldi defaults when None).
        nj: parallel alignment jobs.
    """
    cfg = cfg or TrainLdaMlltConfig()
    cfg.validate()
    ali_dir = Path(ali_dir)
    old = GmmModel.load(ali_dir)
    source = model_pipeline(ali_dir, old).config  # asrkt or Kaldi ALI_DIR
    features = PipelineConfig(cmvn=cfg.cmvn or source.cmvn, norm_vars=source.norm_vars,
                              splice=cfg.splice)
    run = _LdaMllt(cfg, ali_dir, features)
    how = TreeTraining(features, ("*.mat", "splice_opts", "cmvn_opts"), run.prepare,
                       run.before_update, run.finish)
    return train_tree_model(data_dir, lang_dir, ali_dir, exp_dir, cfg, nj, how, old)
