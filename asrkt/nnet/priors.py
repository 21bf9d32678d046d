"""pdf priors for hybrid decoding: log-likelihood = log-posterior - prior_scale * log-prior."""

from __future__ import annotations

import math

import numpy as np

from asrkt.errors import AsrktError

# Kaldi nnet1 PdfPrior: pdfs whose prior is below the floor get prior sqrt(FLT_MAX), so their
# scaled likelihood is tiny and they never win in decoding.
FLOORED_PRIOR = math.sqrt(np.finfo(np.float32).max)


def log_priors_from_counts(counts: np.ndarray, floor: float = 1e-10) -> np.ndarray:
    """Log priors from pdf frame counts, as Kaldi nnet1's PdfPrior.

    Args:
        counts: frame counts per pdf.
        floor: priors below it (e.g. unseen pdfs) are replaced by sqrt(FLT_MAX).

    Returns:
        float32 [num_pdfs] log priors.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if counts.ndim != 1 or total <= 0 or np.any(counts < 0):
        raise AsrktError("pdf counts must be a non-negative vector with a positive sum")
    prior = counts / total
    prior = np.where(prior < floor, FLOORED_PRIOR, prior)
    return np.log(prior).astype(np.float32)
