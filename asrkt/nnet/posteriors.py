"""Soft targets in POST_DIR: ``post.scp``/``post.ark`` and ``posteriors.yaml`` (temperature,
top-k, pdf count, teacher). The table holds either

- Kaldi ``Posterior`` entries (``dump-posteriors --top-k K``; also what ``ali-to-post`` and
  ``copy-post`` write): per frame K (pdf id, weight) pairs, kept sparse in memory as
  :class:`asrkt.io.posterior.SparsePosterior` ([T, K] int32 ids + float32 weights); or
- dense float matrices [T, num_pdfs], one row of teacher posteriors per frame;

detected per table (:func:`asrkt.io.posterior.table_kind`), so old dense dumps stay readable.

Bytes per frame: dense float32 ``4 * num_pdfs`` on disk and in memory, i.e. 360,000 frames per
hour of audio at a 10 ms shift -> ``1.44 MB * num_pdfs`` per hour (144 MB/h for 100 pdfs,
4.3 GB/h for 3,000); top-k Posterior ``5 + 10 K`` on disk and ``8 K`` in memory (K = 20: 74 MB/h
on disk at any pdf count). ``--compress`` stores dense Kaldi compressed matrices (about 1 byte
per value); the quantisation is lossy (row sums move), so rows are renormalised when read.

Every frame must be a probability distribution (:func:`check_distributions`, also applied to a
teacher run on the fly): finite, non-negative weights that sum to 1 within
:data:`SUM_TOLERANCE` (dense rows; :data:`COMPRESSED_SUM_TOLERANCE` for Kaldi-compressed ones,
whose quantisation alone moves a sum), or, for a Posterior, at most 1 + :data:`SUM_TOLERANCE`
and above 0 (a Posterior may keep only some ids of a distribution, e.g. ``--top-k`` or
``lattice-to-post --min-post`` without renormalising); anything else (a row summing to 3.7) is
refused with one line naming the table, utterance and frame. Accepted frames are then
renormalised to sum to 1. Re-tempering (targets dumped at T0, trained at T) is
``w ** (T0 / T)`` renormalised over the frame's kept ids: for a top-k dump this equals the
teacher's softmax(z / T) restricted to the same k ids and renormalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.io.checked import MATRIX_TYPES
from asrkt.io.posterior import SparsePosterior, table_kind
from asrkt.io.tables import load_scp, peek_table_type, read_scp_entry, read_table
from asrkt.utils.config import load_yaml
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
INFO_FILE = "posteriors.yaml"

# How far a frame's weights may sum from 1. Float rows: softmax in float32 and the top-k
# renormalisation of dump-posteriors (and Kaldi's 7-digit text Posteriors) stay within 1e-5.
SUM_TOLERANCE = 1e-3
# Kaldi-compressed rows (dump-posteriors --compress): one byte per value between per-column
# percentiles moves a row's sum by up to 0.28 on softmax rows of 62-10,000 pdfs (measured); the
# rows are renormalised, but a sum outside 1 +- 0.5 is not a distribution that was compressed.
COMPRESSED_SUM_TOLERANCE = 0.5
COMPRESSED_TYPES = tuple(t for t in MATRIX_TYPES if t.startswith("CM"))


def write_info(post_dir: PathLike, temperature: float, top_k: Optional[int], num_pdfs: int,
               teacher: str) -> None:
    """Write ``posteriors.yaml`` describing how the soft targets were made."""
    import yaml

    info = {"temperature": float(temperature), "top_k": top_k, "num_pdfs": int(num_pdfs),
            "teacher": str(teacher)}
    write_text_atomic(Path(post_dir) / INFO_FILE, yaml.safe_dump(info, sort_keys=False))


def read_info(post_dir: PathLike) -> Dict:
    """Read ``posteriors.yaml`` (temperature 1 and unknown pdf count when it is absent)."""
    path = Path(post_dir) / INFO_FILE
    if not path.exists():
        return {"temperature": 1.0, "top_k": None, "num_pdfs": None, "teacher": None}
    info = load_yaml(path)
    try:
        info["temperature"] = float(info.get("temperature", 1.0))
    except (TypeError, ValueError):
        raise AsrktError(f"{path}: temperature must be a number") from None
    return info


def soft_target_table(post_dir: PathLike) -> Path:
    """The soft-target table of POST_DIR (``post.scp``, else ``post.ark``)."""
    post_dir = Path(post_dir)
    if not post_dir.is_dir():
        raise AsrktError(f"posterior directory '{post_dir}' does not exist")
    for name in ("post.scp", "post.ark"):
        if (post_dir / name).exists():
            return post_dir / name
    raise AsrktError(f"{post_dir}: no post.scp (run 'asrkt dump-posteriors' first)")


class SoftTargetTable:
    """Random access to POST_DIR's soft targets, checked, renormalised and re-tempered per
    utterance as it is read (nothing is held in memory but the scp index).

    Args:
        post_dir: POST_DIR written by ``asrkt dump-posteriors`` (or a Kaldi Posterior table).
        num_pdfs: number of pdfs (ids must be below it; dense rows must have this many columns);
            None: from posteriors.yaml, else (dense) from the first matrix.
        ratio: re-tempering ratio T / T0 (1: as dumped).

    The tolerance of the row sums follows the type of the table's first entry (Kaldi-compressed
    or not), as dump-posteriors writes all entries alike.
    """

    def __init__(self, post_dir: PathLike, num_pdfs: Optional[int] = None, ratio: float = 1.0):

        self.table = soft_target_table(post_dir)
        self.kind = table_kind(self.table)
        self.tolerance = (COMPRESSED_SUM_TOLERANCE if peek_table_type(self.table)
                          in COMPRESSED_TYPES else SUM_TOLERANCE)
        self.ratio = ratio
        self.num_pdfs = num_pdfs if num_pdfs is not None else read_info(post_dir).get("num_pdfs")
        if self.table.suffix == ".scp":  # self.kind: 'posterior' or 'matrix', checked reads
            self._values = load_scp(self.table)
        else:  # a bare archive has no index: read it once
            self._values = dict(read_table(self.table, self.kind))
        if self.num_pdfs is None and self.kind == "posterior":
            raise AsrktError(f"{self.table}: Posterior soft targets need the pdf count "
                             f"(num_pdfs in {Path(post_dir) / INFO_FILE})")
        first = next(iter(self.keys()), None)
        if first is not None:  # the table's shape is checked now, not in the middle of training
            value = self[first]
            self.num_pdfs = self.num_pdfs or int(value.shape[1])

    @property
    def sparse(self) -> bool:
        return self.kind == "posterior"

    def keys(self):
        return self._values.keys()

    def __contains__(self, utt: str) -> bool:
        return utt in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, utt: str):
        """The utterance's targets: SparsePosterior or float32 [T, num_pdfs]."""

        value = (self._values[utt] if isinstance(self._values, dict)
                 else read_scp_entry(self._values, utt, self.table, self.kind))
        if self.sparse:
            return soften_sparse(check_sparse(value, self.num_pdfs, self.table, utt), self.ratio)
        return soften(check_dense(value, self.num_pdfs, self.table, utt, self.tolerance),
                      self.ratio)


def check_distributions(weights: np.ndarray, table: PathLike, utt: str,
                        tolerance: float = SUM_TOLERANCE, partial: bool = False) -> np.ndarray:
    """Check that each row of ``weights`` [T, K] is a probability distribution; its sums [T, 1].

    Args:
        weights: a frame's weights per row (dense pdfs, or a Posterior's pairs padded with 0).
        table, utt: for the message (one line naming the table, utterance and frame).
        tolerance: how far a sum may be from 1.
        partial: the row may hold only some ids of a distribution (a Posterior): a sum in
            (0, 1 + tolerance] is accepted.
    """
    where = f"{table} ({utt})"
    bad = ~np.isfinite(weights).all(axis=1)
    if bad.any():
        raise AsrktError(f"{where}: frame {int(np.argmax(bad))}: soft targets contain NaN/inf")
    negative = (weights < 0).any(axis=1)
    if negative.any():
        t = int(np.argmax(negative))
        raise AsrktError(f"{where}: frame {t}: negative weight {float(weights[t].min()):g}; "
                         f"soft targets must be probability distributions")
    mass = weights.sum(axis=1, keepdims=True, dtype=np.float64)
    empty = mass[:, 0] <= 0
    if empty.any():
        raise AsrktError(f"{where}: frame {int(np.argmax(empty))}: a frame has no probability "
                         f"mass")
    off = (mass[:, 0] > 1 + tolerance) | (~partial & (mass[:, 0] < 1 - tolerance))
    if off.any():
        t = int(np.argmax(off))
        bound = "at most 1" if partial else "1"
        raise AsrktError(f"{where}: frame {t}: soft targets sum to {float(mass[t, 0]):.6g}, not "
                         f"{bound} (tolerance {tolerance:g}); soft targets must be probability "
                         f"distributions")
    return mass


def check_dense(post: np.ndarray, num_pdfs: Optional[int], table: PathLike, utt: str,
                tolerance: float = SUM_TOLERANCE) -> np.ndarray:
    """Dense soft targets checked (shape, distributions: :func:`check_distributions`) and
    renormalised per row."""
    post = np.asarray(post, dtype=np.float32)
    if post.ndim != 2:
        raise AsrktError(f"{table} ({utt}): expected a matrix of posteriors")
    if num_pdfs is not None and post.shape[1] != num_pdfs:
        raise AsrktError(f"{table} ({utt}): soft targets have {post.shape[1]} columns, "
                         f"expected {num_pdfs} pdfs")
    mass = check_distributions(post, table, utt, tolerance)
    return (post / mass).astype(np.float32)


def check_sparse(post, num_pdfs: int, table: PathLike, utt: str):
    """Sparse soft targets checked (ids in range, each frame some of a distribution:
    :func:`check_distributions`) and renormalised per frame over its kept ids."""

    ids, weights = post.ids, post.weights
    if ids.size and (ids.min() < 0 or ids.max() >= num_pdfs):
        bad = int(ids.max()) if ids.max() >= num_pdfs else int(ids.min())
        raise AsrktError(f"{table} ({utt}): pdf id {bad} outside 0..{num_pdfs - 1}")
    mass = check_distributions(weights, table, utt, partial=True)
    return SparsePosterior(ids.astype(np.int32), (weights / mass).astype(np.float32), post.sizes)


def load_soft_targets(post_dir: PathLike, num_pdfs: Optional[int] = None) -> Dict:
    """All soft targets as {utt: float32 [T, num_pdfs] or SparsePosterior}, checked.

    Args:
        post_dir: POST_DIR written by ``asrkt dump-posteriors``.
        num_pdfs: expected number of pdfs (checked per utterance when given).
    """
    table = SoftTargetTable(post_dir, num_pdfs)
    return {utt: table[utt] for utt in table.keys()}


def soft_target_counts(table: SoftTargetTable) -> np.ndarray:
    """Soft pdf counts (sum of the posteriors over all frames), one utterance at a time."""
    counts = np.zeros(table.num_pdfs, dtype=np.float64)
    for utt in table.keys():
        post = table[utt]
        if table.sparse:
            counts += np.bincount(post.ids.reshape(-1), post.weights.reshape(-1),
                                  minlength=table.num_pdfs)
        else:
            counts += post.sum(axis=0)
    return counts


def soften_sparse(post, ratio: float):
    """Re-temper sparse posteriors: ``w ** (1/ratio)`` renormalised over each frame's kept ids
    (padding, weight 0, stays 0); see :func:`soften`."""

    if ratio == 1.0:
        return post
    return SparsePosterior(post.ids, soften(post.weights, ratio), post.sizes)


def soften(post: np.ndarray, ratio: float) -> np.ndarray:
    """Re-temper posteriors: ``q ** (1/ratio)`` renormalised per row.

    For q = softmax(z / T0) this equals softmax(z / (T0 * ratio)), so posteriors dumped at T0
    become those at temperature ``T0 * ratio`` without the teacher's logits.
    """
    if ratio == 1.0:
        return post
    with np.errstate(divide="ignore"):
        logq = np.log(np.maximum(post, 0.0)) / ratio
    logq -= logq.max(axis=1, keepdims=True)
    out = np.exp(logq)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)
