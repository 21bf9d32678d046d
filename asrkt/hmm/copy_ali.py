"""Alignments of perturbed copies from their originals' (Kaldi's steps/copy_ali_dir.sh with
``utt2uniq``): ``asrkt copy-ali``.

Additive noise keeps the frame count, so the clean utterance's alignment is the noisy copy's
target (Kaldi's practice for noise- and reverberation-augmented nnet training). The output is an
alignment directory as ``asrkt align`` + ``ali-to-pdf`` write it: ``ali.ark/.scp``
(transition-ids), ``pdf.ark/.scp`` (pdf-ids, what the trainers read), ``pdf_counts`` over the
copied alignments (priors), and the source's model files (so it serves as a model dir too).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError
from asrkt.hmm.align import MODEL_FILES, pdf_counts, read_pdf_counts
from asrkt.hmm.model import GmmModel
from asrkt.io.tables import (
    ArkScpWriter,
    read_table,
    write_kaldi_text_vector,
)
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]

# Alignment tables of an ALI_DIR: transition-ids (align) and pdf-ids (ali-to-pdf).
TABLES = ("ali", "pdf")
# Files copied as they are: the model (an ALI_DIR serves as a model dir), the pdf count, the
# alignment options.
COPIED = (*MODEL_FILES, "num_pdfs", "config.yaml")


def _source_table(ali_dir: Path, name: str) -> Optional[Path]:
    """``<name>.scp`` of ``ali_dir``, else ``<name>.ark``, else None."""
    for suffix in (".scp", ".ark"):
        if (ali_dir / f"{name}{suffix}").is_file():
            return ali_dir / f"{name}{suffix}"
    return None


def _select(table: Path, alignments: Dict[str, np.ndarray], data: DataDir,
            originals: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Each utterance of ``data``: the alignment of its original; an error naming the first
    utterance without one, or whose frame count (utt2num_frames) differs from it."""
    frames = data.utt2num_frames if data.has("utt2num_frames") else {}
    out = {}
    for utt in data.utterances:
        original = originals.get(utt, utt)
        if original not in alignments:
            raise AsrktError(f"{table}: no alignment of '{original}' for utterance '{utt}' of "
                             f"{data.path} (failed to align? leave it out with subset-data-dir)")
        ali = alignments[original]
        if utt in frames and frames[utt] != len(ali):
            raise AsrktError(f"{data.file('utt2num_frames')} ({utt}): {frames[utt]} frames, but "
                             f"the alignment of '{original}' in {table} has {len(ali)}")
        out[utt] = ali
    return out


def _counts(src: Path, tables: Dict[str, Dict[str, np.ndarray]]) -> np.ndarray:
    """Frames per pdf over the copied alignments: from the pdf-ids (as many pdfs as the
    source's pdf_counts has), else from the transition-ids through the source's model."""
    if "pdf" in tables:
        size = read_pdf_counts(src / "pdf_counts").size
        counts = np.zeros(size, dtype=np.float64)
        for utt, ali in tables["pdf"].items():
            ali = np.asarray(ali, dtype=np.int64)
            if ali.size and (ali.min() < 0 or ali.max() >= size):
                raise AsrktError(f"{src} ({utt}): pdf ids outside 0..{size - 1} "
                                 f"({src / 'pdf_counts'} has {size} counts)")
            counts += np.bincount(ali, minlength=size)
        return counts

    model = GmmModel.load(src)
    for utt, ali in tables["ali"].items():
        ali = np.asarray(ali, dtype=np.int64)
        if ali.size and (ali.min() < 1 or ali.max() > model.tm.num_transition_ids):
            raise AsrktError(f"{src} ({utt}): not transition-ids of {src}'s model "
                             f"(1..{model.tm.num_transition_ids})")
    return pdf_counts(model, tables["ali"].values())


def copy_ali_dir(data_dir: PathLike, src_ali_dir: PathLike, dst_ali_dir: PathLike) -> int:
    """Alignments for every utterance of ``data_dir`` from ``src_ali_dir``'s alignment of its
    original (``utt2uniq``; the utterance itself without it), into ``dst_ali_dir``.

    Args:
        data_dir: the data directory (e.g. originals combined with their noise copies).
        src_ali_dir: alignment directory of the originals (``asrkt align`` [+ ``ali-to-pdf``]).
        dst_ali_dir: output alignment directory (created; not ``src_ali_dir``).

    Returns:
        The number of utterances written.
    """
    data, src, dst = DataDir(data_dir), Path(src_ali_dir), Path(dst_ali_dir)
    if not src.is_dir():
        raise AsrktError(f"alignment directory '{src}' does not exist")
    if dst.resolve() == src.resolve():
        raise AsrktError(f"{dst}: the copied alignments must go to a new directory")
    sources = {name: _source_table(src, name) for name in TABLES}
    sources = {name: path for name, path in sources.items() if path is not None}
    if not sources:
        raise AsrktError(f"{src}: no ali.scp or pdf.scp (run 'asrkt align' and 'ali-to-pdf')")
    if not data.utterances:
        raise AsrktError(f"{data.file('utt2spk')}: no utterances")
    originals = read_map(data.file("utt2uniq")) if data.has("utt2uniq") else {}
    tables = {name: _select(path, dict(read_table(path, "int-vector")), data, originals)
              for name, path in sources.items()}
    counts = _counts(src, tables)
    dst.mkdir(parents=True, exist_ok=True)
    for name in TABLES:  # a table of an earlier copy that the source does not have
        if name not in tables:
            for suffix in (".scp", ".ark"):
                (dst / f"{name}{suffix}").unlink(missing_ok=True)
    for name, alignments in tables.items():
        with ArkScpWriter(dst / f"{name}.ark", dst / f"{name}.scp") as writer:
            for utt, ali in alignments.items():
                writer.write(utt, np.asarray(ali, dtype=np.int32))
    write_kaldi_text_vector(dst / "pdf_counts", counts)
    _copy_files(src, dst, [name for name in COPIED if (src / name).is_file()])
    return len(data.utterances)


def _copy_files(src: Path, dst: Path, names: List[str]) -> None:
    """Copy ``names`` from ``src`` to ``dst``, each under a temporary name first."""
    for name in names:
        with atomic_output(dst / name) as tmp:
            shutil.copyfile(src / name, tmp)
