"""The in-memory form of a Kaldi ``Posterior`` entry (:class:`SparsePosterior`) and the numpy
record layout of its binary frames, shared by the checked reader (:mod:`asrkt.io.checked`)
and the writer (:mod:`asrkt.io.posterior`).

Binary frame: ``\\4 int32 n`` then n pairs ``\\4 int32 id \\4 float32 weight``. A table entry
is ``ids`` [T, K] int32 and ``weights`` [T, K] float32, frames with fewer than K pairs padded
with (0, 0.0) (``sizes`` keeps the real counts so a ragged entry is written back unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

PAIR_DTYPE = np.dtype([("a", "i1"), ("id", "<i4"), ("b", "i1"), ("w", "<f4")])


def frame_dtype(width: int) -> np.dtype:
    """One binary frame of ``width`` pairs: size marker, size, pairs."""
    return np.dtype([("s", "i1"), ("n", "<i4"), ("p", PAIR_DTYPE, (width,))])


@dataclass
class SparsePosterior:
    """One utterance's posteriors: ``ids``/``weights`` [T, K]; ``sizes`` [T] pairs per frame
    (None: K in every frame)."""

    ids: np.ndarray
    weights: np.ndarray
    sizes: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, frames: slice) -> SparsePosterior:
        return SparsePosterior(self.ids[frames], self.weights[frames],
                               None if self.sizes is None else self.sizes[frames])

    @property
    def width(self) -> int:
        """K: pairs stored per frame."""
        return int(self.ids.shape[1])

    @classmethod
    def from_pairs(cls, frames: Sequence[Sequence[Tuple[int, float]]]) -> SparsePosterior:
        """From per-frame lists of (id, weight) pairs."""
        return cls.from_frames([np.array([p for p, _ in f], dtype=np.int32) for f in frames],
                               [np.array([w for _, w in f], dtype=np.float32) for f in frames])

    @classmethod
    def from_frames(cls, ids: Sequence[np.ndarray], weights: Sequence[np.ndarray]
                    ) -> SparsePosterior:
        """From per-frame id and weight arrays of any lengths (padded to the longest)."""
        sizes = np.array([len(f) for f in ids], dtype=np.int64)
        width = int(sizes.max()) if sizes.size else 0
        mask = np.arange(width)[None, :] < sizes[:, None]
        out_ids = np.zeros((len(ids), width), dtype=np.int32)
        out_weights = np.zeros((len(ids), width), dtype=np.float32)
        if width:
            out_ids[mask] = np.concatenate(ids)
            out_weights[mask] = np.concatenate(weights)
        return cls(out_ids, out_weights, None if np.all(sizes == width) else sizes)

    def to_pairs(self) -> List[List[Tuple[int, float]]]:
        """Per-frame lists of (id, weight) pairs (padding left out)."""
        sizes = self.sizes if self.sizes is not None else [self.width] * len(self)
        return [list(zip(self.ids[t, :n].tolist(), self.weights[t, :n].tolist(), strict=True))
                for t, n in enumerate(sizes)]

    def to_dense(self, num_pdfs: int) -> np.ndarray:
        """[T, num_pdfs] float32 (weights of repeated ids add up, as Kaldi's PosteriorToMatrix)."""
        dense = np.zeros((len(self), num_pdfs), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), self.width)
        np.add.at(dense, (rows, self.ids.reshape(-1)), self.weights.reshape(-1))
        return dense
