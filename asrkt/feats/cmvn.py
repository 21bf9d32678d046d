"""CMVN statistics in Kaldi's format (compute-cmvn-stats) and their application (apply-cmvn).

Stats of a speaker are a 2 x (dim+1) double matrix: row 0 holds the feature sums and, in the
last column, the frame count; row 1 holds the sums of squares (last column 0).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter, load_scp, read_scp_entry

logger = logging.getLogger("asrkt.feats")


def accumulate_stats(feats: np.ndarray, stats: Optional[np.ndarray] = None) -> np.ndarray:
    """Add one utterance's features to Kaldi CMVN stats (created when ``stats`` is None)."""
    feats = np.asarray(feats, dtype=np.float64)
    if stats is None:
        stats = np.zeros((2, feats.shape[1] + 1), dtype=np.float64)
    elif stats.shape[1] != feats.shape[1] + 1:
        raise AsrktError(f"feature dimension {feats.shape[1]} differs from earlier "
                         f"utterances ({stats.shape[1] - 1})")
    stats[0, :-1] += feats.sum(axis=0)
    stats[0, -1] += feats.shape[0]
    stats[1, :-1] += np.square(feats).sum(axis=0)
    return stats


def apply_cmvn(feats: np.ndarray, stats: np.ndarray, norm_vars: bool = False) -> np.ndarray:
    """Normalise features with Kaldi CMVN stats (as apply-cmvn; variance floor 1e-20)."""
    count = stats[0, -1]
    if count < 1:
        raise AsrktError("CMVN stats with zero frames")
    mean = stats[0, :-1] / count
    out = feats - mean
    if norm_vars:
        var = np.maximum(stats[1, :-1] / count - mean ** 2, 1e-20)
        out = out / np.sqrt(var)
    return out.astype(np.float32)


def compute_cmvn(data_dir: DataDir, cmvn_dir: Optional[Path] = None) -> int:
    """Per-speaker CMVN stats of ``data_dir``'s features (``asrkt compute-cmvn``).

    Writes ``<cmvn_dir>/cmvn_<data>.ark`` and ``data_dir/cmvn.scp`` (cmvn_dir defaults to the
    data directory).

    Args:
        data_dir: data directory with feats.scp and spk2utt/utt2spk.
        cmvn_dir: where the archive goes.

    Returns:
        Number of speakers.
    """
    if not data_dir.has("feats.scp"):
        raise AsrktError(f"{data_dir.file('feats.scp')} does not exist; "
                         f"run 'asrkt make-feats' first")
    feats = load_scp(data_dir.file("feats.scp"))
    cmvn_dir = Path(cmvn_dir or data_dir.path).resolve()
    cmvn_dir.mkdir(parents=True, exist_ok=True)
    spk2utt = data_dir.spk2utt
    ark = cmvn_dir / f"cmvn_{data_dir.name}.ark"
    with ArkScpWriter(ark, data_dir.file("cmvn.scp")) as writer:
        for spk, utts in tqdm(spk2utt.items(), desc="cmvn", unit="spk", leave=False):
            stats = None
            for utt in utts:
                mat = read_scp_entry(feats, utt, data_dir.file("feats.scp"), "matrix")
                try:
                    stats = accumulate_stats(mat, stats)
                except AsrktError as exc:
                    raise AsrktError(f"{data_dir.file('feats.scp')} ({utt}): {exc}") from None
            writer.write(spk, stats)
    logger.info("compute-cmvn: stats for %d speakers -> %s", len(spk2utt), ark)
    return len(spk2utt)
