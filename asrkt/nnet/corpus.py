"""Features and frame targets of a data directory, held in memory as single tensors.

A :class:`Corpus` concatenates the pipeline's output of all kept utterances into one
``[frames, dim]`` float32 tensor (plus per-utterance start/length and per-frame utterance bounds
for splicing), and the targets into ``[frames]`` (pdf ids) / ``[frames, num_pdfs]`` (soft) tensors,
so batches are built by tensor indexing, never by per-frame Python. Sparse soft targets (Kaldi
Posterior) stay sparse: ``soft_ids`` / ``soft_weights`` [frames, K].

A :class:`BlockReader` yields a data directory as such corpora, one block of utterances at a
time (bounded memory; the in-memory path is one block holding everything).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from asrkt.errors import AsrktError
from asrkt.io.tables import load_scp, read_scp_entry
from asrkt.io.text import iter_lines

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

    def to(self, device: torch.device) -> Corpus:
        """Move all tensors to ``device`` (in place; returns self; to CUDA without blocking the
        host: the copies are ordered before any use on the device's stream)."""
        self.feats = self.feats.to(device, non_blocking=True)
        self.frame_lo = self.frame_lo.to(device, non_blocking=True)
        self.frame_hi = self.frame_hi.to(device, non_blocking=True)
        self.targets = {k: v.to(device, non_blocking=True) for k, v in self.targets.items()}
        return self


@dataclass
class TargetSource:
    """Per-utterance targets: ``values`` {utt: array [T] or [T, P], or SparsePosterior} read from
    ``origin`` (a dict, or a lazy mapping such as :class:`asrkt.nnet.posteriors.SoftTargetTable`
    that reads an utterance when it is looked up)."""

    values: Any
    origin: str


def check_target_values(utt: str, num_frames: int, sources: Dict[str, TargetSource],
                        values: Dict[str, Any], tolerance: int) -> Tuple[Optional[int], str]:
    """(usable length or None, reason for skipping) of one utterance.

    Args:
        utt: the utterance.
        num_frames: its feature frames.
        sources: the target tables (named in the reasons).
        values: name -> the utterance's targets, already read (so a lazy table is read once);
            names without targets left out.
        tolerance: allowed |target frames - feature frames|.
    """
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
    utt_list = list(utterances) if utterances is not None else data_dir.utterances
    kept, feats, targets, skipped = read_utterances(pipeline, data_dir, utt_list, sources,
                                                    tolerance, name)
    report_skipped(skipped, len(utt_list), max_skip_fraction, name, data_dir)
    return _assemble(kept, feats, targets)


def read_utterances(pipeline, data_dir, utt_list: List[str],
                    sources: Optional[Dict[str, TargetSource]], tolerance: int, name: str):
    """(kept utterances, their features, their targets by name, skipped (utt, reason)) of
    :func:`load_corpus`, before the skip check."""
    sources = sources or {}
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
    return kept, feats, targets, skipped


def report_skipped(skipped: List[Tuple[str, str]], total: int, max_fraction: float,
                    name: str, data_dir) -> None:
    """Log the skipped utterances; an error when more than ``max_fraction`` of ``total``
    (or all) were skipped."""
    log_skipped(skipped, total, name)
    check_skipped(skipped, total, max_fraction, name, data_dir)


def log_skipped(skipped: List[Tuple[str, str]], total: int, name: str) -> None:
    if not skipped:
        return
    logger.warning("%s set: skipped %d of %d utterances:", name, len(skipped), total)
    for utt, reason in skipped:
        logger.warning("  skipped %s: %s", utt, reason)


def check_skipped(skipped: List[Tuple[str, str]], total: int, max_fraction: float,
                  name: str, data_dir) -> None:
    if skipped and (len(skipped) > max_fraction * total or len(skipped) == total):
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


# ---------------------------------------------------------------------------------------------
# Reading a corpus in blocks of utterances (bounded memory)

# extra numpy entropy word of a block's shuffling (block 0 uses the epoch's generator itself)
BLOCK_KEY = 0xB10C


def feature_frames(data_dir, utterances: Sequence[str]) -> np.ndarray:
    """Frames per utterance, without reading the features: ``utt2num_frames`` when it lists
    every utterance, else the matrix headers in the archives of ``feats.scp`` (entries that
    are not plain binary matrices are read whole).

    Args:
        data_dir: the :class:`asrkt.data.datadir.DataDir`.
        utterances: utterance ids.
    """
    if data_dir.has("utt2num_frames"):
        known = data_dir.utt2num_frames
        if all(u in known for u in utterances):
            return np.array([known[u] for u in utterances], dtype=np.int64)

    scp = data_dir.file("feats.scp")
    where = {key: value for _, key, value in iter_lines(scp)}
    lazy, out = None, []
    for utt in utterances:
        rows = _header_rows(where.get(utt, ""))
        if rows is None:
            lazy = lazy or load_scp(scp)
            rows = int(read_scp_entry(lazy, utt, scp).shape[0])
        out.append(rows)
    return np.array(out, dtype=np.int64)


def _header_rows(location: str) -> Optional[int]:
    """Rows of the binary Kaldi matrix at ``ark:offset`` from its header (None: unknown)."""
    import struct

    ark, sep, offset = location.rpartition(":")
    if not sep or not offset.isdigit():
        return None
    try:
        with open(ark, "rb") as handle:
            handle.seek(int(offset))
            head = handle.read(32)
    except OSError:
        return None
    if head[:2] != b"\0B":
        return None
    if head[2:5] in (b"FM ", b"DM ") and len(head) >= 10 and head[5] == 4:
        return struct.unpack("<i", head[6:10])[0]
    token = head[2:].split(b" ", 1)[0]
    if token in (b"CM", b"CM2", b"CM3"):  # GlobalHeader: float min, float range, int32 rows
        start = 2 + len(token) + 1 + 8
        return struct.unpack("<i", head[start:start + 4])[0] if len(head) >= start + 4 else None
    return None


def choose_buffer_frames(buffer_frames: int, max_memory_mb: int, frames: int,
                         bytes_per_frame: int) -> int:
    """The block size a reader gets: ``buffer_frames`` when set; else 0 (everything in memory)
    when ``frames`` x ``bytes_per_frame`` fits ``max_memory_mb``, else half the budget (two
    blocks are in memory at once: the one in use and the one being read).

    Args:
        buffer_frames: the option (0: automatic).
        max_memory_mb: the automatic mode's budget (MiB).
        frames: frames of the data.
        bytes_per_frame: memory per loaded frame.
    """
    budget = max_memory_mb * 2 ** 20
    if buffer_frames == 0 and frames * bytes_per_frame > budget:
        return max(1, budget // (2 * bytes_per_frame))
    return buffer_frames


class BlockReader:
    """A data directory's utterances with their targets, as :class:`Corpus` blocks.

    Each epoch the utterances are shuffled by (seed, epoch) (rank ``rank`` of ``world_size``
    takes every world_size-th of that order) and cut into blocks of at most ``buffer_frames``
    frames (an utterance longer than that is a block alone); inside a block utterances keep
    the data directory's order. With ``buffer_frames`` 0 there is one block holding everything,
    read once and kept (the in-memory path); otherwise blocks are read again every epoch, the
    next one in a background thread while the caller trains on the current one, so at most two
    blocks are in memory.

    Args:
        pipeline: the fitted feature pipeline.
        data_dir: the :class:`asrkt.data.datadir.DataDir`.
        utterances: the utterances (in data-directory order).
        lengths: their frame counts (:func:`feature_frames`; plans the blocks).
        sources: target tables by name (lazy mappings keep memory bounded).
        buffer_frames: frames per block; 0: everything in one block, kept in memory.
        shuffle: shuffle utterances over blocks each epoch (CV: False).
        seed: shuffling seed.
        options: ``tolerance``, ``max_skip_fraction``, ``name`` as for :func:`load_corpus`;
            the skip fraction counts the epoch's skipped utterances so far against the share.
        rank / world_size: this process's share (data-parallel training).
    """

    def __init__(self, pipeline, data_dir, utterances: Sequence[str], lengths: np.ndarray,
                 sources: Optional[Dict[str, TargetSource]], buffer_frames: int = 0,
                 shuffle: bool = True, seed: int = 777, options: Optional[Dict[str, Any]] = None,
                 rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise AsrktError(f"rank must be in 0..{world_size - 1}, got {rank}")
        self.pipeline, self.data_dir, self.utts = pipeline, data_dir, list(utterances)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.sources, self.buffer_frames = sources or {}, buffer_frames
        self.shuffle, self.seed, self.options = shuffle, seed, dict(options or {})
        self.rank, self.world_size = rank, world_size
        self._kept: Optional[Corpus] = None

    @property
    def in_memory(self) -> bool:
        return self.buffer_frames <= 0

    @property
    def num_frames(self) -> int:
        """Feature frames of this rank's share (before skipping)."""
        return int(self.lengths[self._share(np.arange(len(self.utts)))].sum())

    def _share(self, order: np.ndarray) -> np.ndarray:
        return order[self.rank::self.world_size]

    def plan(self, epoch: int) -> List[np.ndarray]:
        """Utterance indices of each block of ``epoch`` (each in data-directory order)."""
        count = len(self.utts)
        order = (np.random.default_rng([self.seed, epoch, BLOCK_KEY]).permutation(count)
                 if self.shuffle and not self.in_memory else np.arange(count))
        order = self._share(order)
        if self.in_memory:
            return [np.sort(order)]
        blocks, current, frames = [], [], 0
        for index in order.tolist():
            if current and frames + self.lengths[index] > self.buffer_frames:
                blocks.append(np.sort(np.array(current, dtype=np.int64)))
                current, frames = [], 0
            current.append(index)
            frames += int(self.lengths[index])
        if current:
            blocks.append(np.sort(np.array(current, dtype=np.int64)))
        return blocks

    def read(self, indices: np.ndarray) -> Tuple[Optional[Corpus], List[Tuple[str, str]]]:
        """(the block of utterances ``indices`` or None when all were skipped, the skipped
        utterances with reasons): features through the pipeline, targets."""
        name = self.options.get("name", "train")
        kept, feats, targets, skipped = read_utterances(
            self.pipeline, self.data_dir, [self.utts[i] for i in indices], self.sources,
            self.options.get("tolerance", 5), name)
        log_skipped(skipped, len(indices), name)
        return (_assemble(kept, feats, targets) if kept else None), skipped

    def blocks(self, epoch: int) -> Iterator[Corpus]:
        """The blocks of ``epoch`` in order (the next one read in a background thread)."""
        if self.in_memory and self._kept is not None:
            yield self._kept
            return
        plan, skipped = self.plan(epoch), []
        total = sum(len(block) for block in plan)
        with ThreadPoolExecutor(1, thread_name_prefix="asrkt-blocks") as pool:
            pending = pool.submit(self.read, plan[0])
            for following in plan[1:] + [None]:
                block, dropped = pending.result()
                pending = pool.submit(self.read, following) if following is not None else None
                skipped += dropped
                check_skipped(skipped, total, self.options.get("max_skip_fraction", 0.1),
                              self.options.get("name", "train"), self.data_dir)
                if block is None:
                    continue
                if self.in_memory:
                    self._kept = block
                yield block
                del block
