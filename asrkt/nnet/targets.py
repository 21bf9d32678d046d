"""Frame targets from ALI_DIR: pdf-id alignments (``pdf.scp``), pdf counts and the pdf count.

ALI_DIR layout (written by the HMM side):

- ``pdf.scp`` (or ``pdf.ark``): Kaldi int-vector table, one pdf id per frame per utterance;
- ``pdf_counts``: a Kaldi text vector ``[ c0 c1 ... ]`` of frame counts per pdf (priors);
- ``num_pdfs`` (optional): one integer; defaults to the length of ``pdf_counts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.io.tables import (  # noqa: F401 (re-exported)
    load_scp,
    read_kaldi_text_vector,
    read_scp_entry,
    read_table,
    write_kaldi_text_vector,
)

PathLike = Union[str, Path]


class PdfAlignments:
    """pdf-id alignments of an ALI_DIR.

    Args:
        ali_dir: directory with ``pdf.scp`` (or ``pdf.ark``), ``pdf_counts``, optional ``num_pdfs``.
    """

    def __init__(self, ali_dir: PathLike):
        self.ali_dir = Path(ali_dir)
        if not self.ali_dir.is_dir():
            raise AsrktError(f"alignment directory '{self.ali_dir}' does not exist")
        table = self.ali_dir / "pdf.scp"
        if not table.exists() and (self.ali_dir / "pdf.ark").exists():
            table = self.ali_dir / "pdf.ark"
        if not table.exists():
            raise AsrktError(f"{self.ali_dir}: no pdf.scp (pdf-id alignments); "
                             f"convert the transition-id alignments first")
        self.table = table
        self.counts = read_kaldi_text_vector(self.ali_dir / "pdf_counts")
        self.num_pdfs = self._read_num_pdfs()

    def _read_num_pdfs(self) -> int:
        path = self.ali_dir / "num_pdfs"
        if not path.exists():
            return int(self.counts.size)
        text = path.read_text(encoding="utf-8").strip()
        if not text.isdigit() or int(text) < 1:
            raise AsrktError(f"{path}: expected a positive integer, got '{text}'")
        num = int(text)
        if num != self.counts.size:
            raise AsrktError(f"{path}: says {num} pdfs but {self.ali_dir / 'pdf_counts'} "
                             f"has {self.counts.size} counts")
        return num

    def load(self) -> Dict[str, np.ndarray]:
        """All alignments as {utt: int64 [T]}; a pdf id out of range is an error naming the utt."""

        return {utt: self.check(utt, ali) for utt, ali in read_table(self.table, "int-vector")}

    def check(self, utt: str, ali) -> np.ndarray:
        """One utterance's alignment as int64 [T], checked (integer vector, ids in range)."""
        ali = np.asarray(ali)
        if ali.ndim != 1 or not np.issubdtype(ali.dtype, np.integer):
            raise AsrktError(f"{self.table} ({utt}): expected an integer vector of pdf ids")
        bad = ali[(ali < 0) | (ali >= self.num_pdfs)]
        if bad.size:
            raise AsrktError(f"{self.table} ({utt}): pdf id {int(bad[0])} outside "
                             f"0..{self.num_pdfs - 1} (num_pdfs from {self.ali_dir})")
        return ali.astype(np.int64)

    def lazy(self):
        """The alignments as a mapping that reads (and checks) an utterance when it is looked
        up: only the scp index in memory (a bare pdf.ark is read whole, as :meth:`load`)."""
        if self.table.suffix != ".scp":
            return self.load()
        return LazyAlignments(self)


class LazyAlignments:
    """{utt: int64 [T]} over a pdf.scp, read per lookup (see :meth:`PdfAlignments.lazy`)."""

    def __init__(self, alignments: PdfAlignments):

        self.alignments = alignments
        self._scp = load_scp(alignments.table)

    def __contains__(self, utt: str) -> bool:
        return utt in self._scp

    def __getitem__(self, utt: str) -> np.ndarray:

        table = self.alignments.table
        return self.alignments.check(utt, read_scp_entry(self._scp, utt, table, "int-vector"))

    def keys(self):
        return self._scp.keys()


def count_pdfs(alignments: Dict[str, np.ndarray], num_pdfs: int,
               utterances: Optional[list] = None) -> np.ndarray:
    """Frame counts per pdf over ``utterances`` (all by default), as ``analyze-counts``."""
    counts = np.zeros(num_pdfs, dtype=np.float64)
    for utt in utterances if utterances is not None else alignments:
        if utt in alignments:
            counts += np.bincount(alignments[utt], minlength=num_pdfs)
    return counts
