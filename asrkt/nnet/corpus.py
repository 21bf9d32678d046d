"""Features and frame targets of a data directory, held in memory as single tensors.

A :class:`Corpus` concatenates the pipeline's output of all kept utterances into one
``[frames, dim]`` float32 tensor (plus per-utterance start/length and per-frame utterance bounds
for splicing), and the targets into ``[frames]`` (pdf ids) / ``[frames, num_pdfs]`` (soft) tensors,
so batches are built by tensor indexing, never by per-frame Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from asrkt.errors import AsrktError

logger = logging.getLogger("asrkt.nnet")


@dataclass
class Corpus:
    """Utterances' features and targets as contiguous tensors.

    feats: [N, D] float32. starts/lengths: per utterance (numpy int64). frame_lo/frame_hi: [N]
    first/last frame index of each frame's utterance. targets: name -> [N] or [N, P] tensor;
    sparse soft targets as 'soft_ids' [N, K] int32 + 'soft_weights' [N, K] float32.
    """

    utts: List[str]
    feats: torch.Tensor
    starts: np.ndarray
    lengths: np.ndarray
    frame_lo: torch.Tensor
    frame_hi: torch.Tensor
    targets: Dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.feats.shape[0])

    @property
    def dim(self) -> int:
        return int(self.feats.shape[1])

    def to(self, device: torch.device) -> "Corpus":
        """Move all tensors to ``device`` (in place; returns self)."""
        self.feats = self.feats.to(device)
        self.frame_lo = self.frame_lo.to(device)
        self.frame_hi = self.frame_hi.to(device)
        self.targets = {k: v.to(device) for k, v in self.targets.items()}
        return self


@dataclass
class TargetSource:
    """Per-utterance targets: ``values`` {utt: array [T] or [T, P], or SparsePosterior} read from
    ``origin`` (a dict, or a lazy mapping such as :class:`asrkt.nnet.posteriors.SoftTargetTable`
    that reads an utterance when it is looked up)."""

    values: Any
    origin: str


def check_targets(utt: str, num_frames: int, sources: Dict[str, TargetSource],
                   tolerance: int) -> Tuple[Optional[int], str]:
    """(usable length or None, reason for skipping)."""
    values = {k: s.values[utt] for k, s in sources.items() if utt in s.values}
    return check_target_values(utt, num_frames, sources, values, tolerance)


def check_target_values(utt: str, num_frames: int, sources: Dict[str, TargetSource],
                        values: Dict[str, Any], tolerance: int) -> Tuple[Optional[int], str]:
    """:func:`check_targets` on targets already read (``values``: name -> the utterance's
    targets, names without targets left out), so lazy tables are read once."""
    length = num_frames
    for key, source in sources.items():
        if key not in values:
            return None, f"no targets in {source.origin}"
        tlen = len(values[key])
        if abs(tlen - num_frames) > tolerance:
            return None, (f"{tlen} target frames in {source.origin} vs {num_frames} "
                          f"feature frames (tolerance {tolerance})")
        length = min(length, tlen)
    return length, ""


def load_corpus(pipeline, data_dir, utterances: Optional[Sequence[str]] = None,
                sources: Optional[Dict[str, TargetSource]] = None, tolerance: int = 5,
                max_skip_fraction: float = 0.1, name: str = "train") -> Corpus:
    """Run the feature pipeline over ``data_dir`` and pair frames with targets.

    Utterances without targets or whose target length differs from the feature length by more
    than ``tolerance`` frames are skipped (named in the log); within the tolerance both are cut to
    the shorter length. More than ``max_skip_fraction`` skipped is an error.

    Args:
        pipeline: a fitted :class:`asrkt.feats.pipeline.FeaturePipeline`.
        data_dir: the :class:`asrkt.data.datadir.DataDir`.
        utterances: subset to load (all by default).
        sources: target tables by name ('pdf', 'soft'); none for unsupervised use.
        tolerance: allowed |target frames - feature frames|.
        max_skip_fraction: fail when more than this fraction of utterances is skipped.
        name: label for logs ('train', 'cv').
    """
    sources = sources or {}
    utt_list = list(utterances) if utterances is not None else data_dir.utterances
    if not utt_list:
        raise AsrktError(f"{data_dir.path}: no utterances for the {name} set")
    feats, kept, skipped = [], [], []
    targets: Dict[str, List[np.ndarray]] = {k: [] for k in sources}
    for utt, mat in tqdm(pipeline.iter_features(data_dir, utt_list), total=len(utt_list),
                         desc=f"loading {name}", unit="utt", leave=False, disable=None):
        if not np.all(np.isfinite(mat)):
            raise AsrktError(f"{data_dir.file('feats.scp')} ({utt}): features contain NaN/inf "
                             f"after the feature pipeline")
        values = {k: s.values[utt] for k, s in sources.items() if utt in s.values}
        length, reason = check_target_values(utt, mat.shape[0], sources, values, tolerance)
        if length is None or length == 0:
            skipped.append((utt, reason or "no frames"))
            continue
        kept.append(utt)
        feats.append(mat[:length])
        for key, value in values.items():
            targets[key].append(value[:length])
    report_skipped(skipped, len(utt_list), max_skip_fraction, name, data_dir)
    return _assemble(kept, feats, targets)


def report_skipped(skipped: List[Tuple[str, str]], total: int, max_fraction: float,
                    name: str, data_dir) -> None:
    if not skipped:
        return
    logger.warning("%s set: skipped %d of %d utterances:", name, len(skipped), total)
    for utt, reason in skipped:
        logger.warning("  skipped %s: %s", utt, reason)
    if len(skipped) > max_fraction * total or len(skipped) == total:
        first = skipped[0]
        raise AsrktError(f"{data_dir.path}: {len(skipped)} of {total} {name} utterances have no "
                         f"usable targets (more than max_skip_fraction={max_fraction}); first: "
                         f"{first[0]}: {first[1]}")


def _assemble(utts: List[str], feats: List[np.ndarray],
              targets: Dict[str, List[np.ndarray]]) -> Corpus:
    lengths = np.array([f.shape[0] for f in feats], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    lo = np.repeat(starts, lengths)
    hi = np.repeat(starts + lengths - 1, lengths)
    tensors = {}
    for key, parts in targets.items():
        if parts and hasattr(parts[0], "ids"):  # sparse soft targets: ids + weights
            tensors.update(_assemble_sparse(key, parts))
            continue
        array = np.concatenate(parts)
        tensors[key] = torch.from_numpy(array.astype(np.int64 if key == "pdf" else np.float32))
    return Corpus(utts=utts, feats=torch.from_numpy(np.concatenate(feats).astype(np.float32)),
                  starts=starts, lengths=lengths, frame_lo=torch.from_numpy(lo),
                  frame_hi=torch.from_numpy(hi), targets=tensors)


def _assemble_sparse(key: str, parts: List) -> Dict[str, torch.Tensor]:
    """``KEY_ids`` [N, K] int32 and ``KEY_weights`` [N, K] float32 from SparsePosteriors,
    narrower ones padded with (id 0, weight 0) to the widest K."""
    width = max(p.width for p in parts)
    ids = np.zeros((sum(len(p) for p in parts), width), dtype=np.int32)
    weights = np.zeros(ids.shape, dtype=np.float32)
    row = 0
    for part in parts:
        ids[row:row + len(part), :part.width] = part.ids
        weights[row:row + len(part), :part.width] = part.weights
        row += len(part)
    return {f"{key}_ids": torch.from_numpy(ids), f"{key}_weights": torch.from_numpy(weights)}


def split_holdout(utterances: Sequence[str], fraction: float, seed: int,
                  groups: Optional[Dict[str, str]] = None) -> Tuple[List[str], List[str]]:
    """(train, cv) split by utterance: a seeded random ``fraction`` (at least one) for CV.

    Args:
        utterances: all utterance ids.
        fraction: share held out for cross-validation (0 < fraction < 1).
        seed: random seed.
        groups: utterance -> original utterance (a data dir's ``utt2uniq``): the fraction is
            drawn over originals and every copy of a chosen one is held out with it, so no
            perturbed copy of a CV utterance is trained on.
    """
    utts = list(utterances)
    key_of = {u: u if groups is None else groups.get(u, u) for u in utts}
    keys = list(dict.fromkeys(key_of.values()))
    if len(keys) < 2:
        raise AsrktError(f"need at least 2 utterances to hold out a CV set, have {len(keys)}"
                         + ("" if groups is None else " (counting perturbed copies once)"))
    if not 0 < fraction < 1:
        raise AsrktError(f"cv_fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    num_cv = min(max(1, int(round(fraction * len(keys)))), len(keys) - 1)
    chosen = {keys[i] for i in rng.choice(len(keys), size=num_cv, replace=False).tolist()}
    train = [u for u in utts if key_of[u] not in chosen]
    cv = [u for u in utts if key_of[u] in chosen]
    return train, cv
