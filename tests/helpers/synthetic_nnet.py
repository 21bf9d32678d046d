"""A tiny synthetic corpus for tests and smoke runs of the neural commands: a data directory
with ``feats.scp`` (pdf-dependent Gaussian frames), ``utt2spk``, ``spk2utt``, ``text``,
``utt2num_frames`` and an ALI_DIR with ``pdf.scp``, ``pdf_counts`` and ``num_pdfs``."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple, Union

import numpy as np

from asrkt.io.tables import ArkScpWriter
from asrkt.nnet.targets import write_kaldi_text_vector
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]


def make_synthetic_corpus(root: PathLike, num_utts: int = 12, dim: int = 13, num_pdfs: int = 6,
                          min_len: int = 20, max_len: int = 50, seed: int = 0
                          ) -> Tuple[Path, Path]:
    """Write ``root/data`` and ``root/ali``; returns (data_dir, ali_dir).

    Each utterance is a random sequence of pdf segments (3-8 frames each); a frame is its pdf's
    mean vector plus unit Gaussian noise, so the pdfs are learnable from a few frames.

    Args:
        root: output folder.
        num_utts: utterances (spread over two speakers).
        dim: feature dimension.
        num_pdfs: number of pdfs.
        min_len / max_len: utterance length range in frames.
        seed: random seed.
    """
    rng = np.random.default_rng(seed)
    data, ali = Path(root) / "data", Path(root) / "ali"
    data.mkdir(parents=True, exist_ok=True)
    ali.mkdir(parents=True, exist_ok=True)
    means = rng.normal(0, 3, size=(num_pdfs, dim))
    utts = sorted(f"spk{u % 2}_utt{u:03d}" for u in range(num_utts))
    counts = np.zeros(num_pdfs)
    lengths = {}
    with ArkScpWriter(data / "feats.ark", data / "feats.scp") as feats, \
            ArkScpWriter(ali / "pdf.ark", ali / "pdf.scp") as pdfs:
        for utt in utts:
            length = int(rng.integers(min_len, max_len + 1))
            segments = rng.integers(0, num_pdfs, size=length)
            durations = rng.integers(3, 9, size=length)
            labels = np.repeat(segments, durations)[:length].astype(np.int32)
            frames = means[labels] + rng.normal(0, 1, size=(length, dim))
            feats.write(utt, frames.astype(np.float32))
            pdfs.write(utt, labels)
            counts += np.bincount(labels, minlength=num_pdfs)
            lengths[utt] = length
    write_text_atomic(data / "utt2spk", "".join(f"{u} {u.split('_')[0]}\n" for u in utts))
    write_text_atomic(data / "spk2utt", "".join(
        f"spk{s} {' '.join(u for u in utts if u.startswith(f'spk{s}_'))}\n" for s in (0, 1)))
    write_text_atomic(data / "text", "".join(f"{u} w{len(u) % 3}\n" for u in utts))
    write_text_atomic(data / "utt2num_frames", "".join(f"{u} {lengths[u]}\n" for u in utts))
    write_kaldi_text_vector(ali / "pdf_counts", counts)
    write_text_atomic(ali / "num_pdfs", f"{num_pdfs}\n")
    return data, ali
