"""Kaldi ``Posterior`` tables (what ``ali-to-post``, ``copy-post`` and nnet1's ``--targets``
read and write): per frame a list of (pdf id, weight) pairs, binary or text.

Binary entry (after ``key `` and ``\\0B``): ``\\4 int32 T``, then per frame ``\\4 int32 n`` and
n pairs ``\\4 int32 id \\4 float32 weight``. Text entry: ``key [ 0 0.9 3 0.1 ] [ 2 1 ]`` on one
line. In memory a table entry is a :class:`SparsePosterior` (:mod:`asrkt.io.sparse`).

Reading goes through the one checked reader: ``read_table(spec, "posterior")``,
``read_scp_entry(table, key, scp, "posterior")`` (:mod:`asrkt.io.tables`, checks in
:mod:`asrkt.io.checked`), which parses entries whose frames all hold the same number of pairs
(top-k dumps, ``ali-to-post``) by one numpy view per utterance. (kaldi_native_io's
PosteriorReader/Writer read the same format, but build a Python list of tuples per frame, about
20 us per frame of 20 pairs: minutes per epoch of 100 hours; the tests cross-check against it
when it is installed.) This module writes them and tells Posterior tables from matrix tables.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple, Union

import numpy as np

from asrkt.io.checked import INT_VECTOR, TEXT_POSTERIOR
from asrkt.io.sparse import SparsePosterior, frame_dtype
from asrkt.io.tables import ArkScpWriter, peek_table_type, read_table

PathLike = Union[str, Path]

__all__ = ["SparsePosterior", "read_posteriors", "table_kind", "encode_binary", "encode_text",
           "PosteriorWriter"]


def read_posteriors(spec: PathLike) -> Iterator[Tuple[str, SparsePosterior]]:
    """Iterate (key, :class:`SparsePosterior`) over a Posterior table (scp or ark, binary or
    text): ``read_table(spec, "posterior")``."""
    return read_table(spec, "posterior")


def table_kind(spec: PathLike) -> str:
    """'posterior' or 'matrix': the type of a table's first entry, from the checked reader's
    peek at its head (Kaldi's own detection: binary Posteriors start with an int32 marker,
    matrices with a token such as ``FM``; a text matrix has its ``[`` alone on the key's line).

    Args:
        spec: rspecifier or path of the table (a file).
    """
    return "posterior" if peek_table_type(spec) in (INT_VECTOR, TEXT_POSTERIOR) else "matrix"


def encode_binary(post: SparsePosterior) -> bytes:
    """The binary Posterior bytes of one utterance (after ``key \\0B``)."""
    head = b"\x04" + struct.pack("<i", len(post))
    if post.sizes is None:
        rec = np.empty(len(post), dtype=frame_dtype(post.width))
        rec["s"], rec["n"] = 4, post.width
        rec["p"]["a"], rec["p"]["b"] = 4, 4
        rec["p"]["id"], rec["p"]["w"] = post.ids, post.weights
        return head + rec.tobytes()
    parts = [head]
    for t, n in enumerate(post.sizes.tolist()):
        rec = np.empty(1, dtype=frame_dtype(n))
        rec["s"], rec["n"] = 4, n
        if n:
            rec["p"]["a"], rec["p"]["b"] = 4, 4
            rec["p"]["id"][0], rec["p"]["w"][0] = post.ids[t, :n], post.weights[t, :n]
        parts.append(rec.tobytes())
    return b"".join(parts)


def encode_text(post: SparsePosterior) -> str:
    """The text Posterior of one utterance, as Kaldi writes it (``[ 0 0.9 3 0.1 ] [ 2 1 ]``)."""
    frames = ("[ " + "".join(f"{pdf} {weight:.7g} " for pdf, weight in frame) + "]"
              for frame in post.to_pairs())
    return " ".join(frames) + " "


class PosteriorWriter(ArkScpWriter):
    """Write a Posterior ark (binary, or text with ``text=True``) and its scp atomically.

    Args:
        ark_path: final archive path.
        scp_path: final script path (optional).
        text: Kaldi text format instead of binary.
        before_install: see :class:`ArkScpWriter`.
    """

    def __init__(self, ark_path: PathLike, scp_path: Optional[PathLike] = None,
                 text: bool = False, before_install: Optional[Callable[[], None]] = None):
        super().__init__(ark_path, scp_path, before_install=before_install)
        self.text = text

    def write(self, key: str, post: SparsePosterior) -> None:  # type: ignore[override]
        """Append one utterance's posteriors under ``key``."""
        if self.text:
            self.write_encoded(key, encode_text(post).encode() + b"\n")
        else:
            self.write_encoded(key, b"\0B" + encode_binary(post))
