"""Soft targets in POST_DIR: ``post.scp``/``post.ark`` (dense float matrices [T, num_pdfs], one
row of teacher posteriors per frame) and ``posteriors.yaml`` (temperature, top-k, pdf count,
teacher).

Disk: dense float32 rows take ``4 * num_pdfs`` bytes per frame, i.e. 360,000 frames per hour of
audio at a 10 ms shift -> ``1.44 MB * num_pdfs`` per hour (144 MB/h for 100 pdfs, 2.9 GB/h for
2,000). ``--top-k`` zeroes all but the k largest posteriors of each frame and renormalises; the
rows stay dense (same readers) but the kept mass is what the student sees. ``--compress``
stores Kaldi compressed matrices (about 1 byte per value: 360 MB/h per 1,000 pdfs); the
quantisation is lossy, so rows are clipped at 0 and renormalised when read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.io.tables import read_table
from asrkt.utils.config import load_yaml
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
INFO_FILE = "posteriors.yaml"


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


def load_soft_targets(post_dir: PathLike, num_pdfs: Optional[int] = None
                      ) -> Dict[str, np.ndarray]:
    """All soft targets as {utt: float32 [T, num_pdfs]}.

    Args:
        post_dir: POST_DIR written by ``asrkt dump-posteriors``.
        num_pdfs: expected number of columns (checked per utterance when given).
    """
    table = soft_target_table(post_dir)
    out: Dict[str, np.ndarray] = {}
    for utt, post in read_table(table, "matrix"):
        post = np.asarray(post, dtype=np.float32)
        if post.ndim != 2:
            raise AsrktError(f"{table} ({utt}): expected a matrix of posteriors")
        if num_pdfs is not None and post.shape[1] != num_pdfs:
            raise AsrktError(f"{table} ({utt}): soft targets have {post.shape[1]} columns, "
                             f"expected {num_pdfs} pdfs")
        if not np.all(np.isfinite(post)):
            raise AsrktError(f"{table} ({utt}): soft targets contain NaN/inf")
        post = np.maximum(post, 0.0)
        mass = post.sum(axis=1, keepdims=True)
        if np.any(mass <= 0):
            raise AsrktError(f"{table} ({utt}): a frame has no probability mass")
        out[utt] = post / mass
    return out


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
