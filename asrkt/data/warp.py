"""VTLN warp factors of a data directory: ``spk2warp`` or ``utt2warp`` (as Kaldi's
steps/make_mfcc.sh reads them), written by :func:`asrkt.data.perturb.perturb_vtln` and applied by
``asrkt make-feats``; the valid range of a factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError, where

if TYPE_CHECKING:  # a type only: the options of make-feats import this module, keep it light
    from asrkt.data.datadir import DataDir

# The range of a VTLN warp factor make-feats and perturb-data-dir accept.
MIN_WARP, MAX_WARP = 0.5, 2.0


def warp_factors(data_dir: DataDir) -> Optional[Dict[str, float]]:
    """Per-utterance VTLN warp factors from ``spk2warp`` or else ``utt2warp`` (as
    steps/make_mfcc.sh); None when the data directory has neither.

    Args:
        data_dir: the data directory.
    """
    if data_dir.has("spk2warp"):
        path, by_speaker = data_dir.file("spk2warp"), True
    elif data_dir.has("utt2warp"):
        path, by_speaker = data_dir.file("utt2warp"), False
    else:
        return None
    table: Dict[str, float] = {}
    for lineno, (key, value) in enumerate(read_map(path).items(), 1):
        try:
            table[key] = float(value)
        except ValueError:
            table[key] = float("nan")
        if not MIN_WARP <= table[key] <= MAX_WARP:
            raise AsrktError(f"{where(path, lineno, key)}: warp factor '{value}' is not a number "
                             f"in [{MIN_WARP:g}, {MAX_WARP:g}]")
    factors = {}
    for utt, spk in data_dir.utt2spk.items():
        key = spk if by_speaker else utt
        if key not in table:
            raise AsrktError(f"{path}: no warp factor for "
                             f"{'speaker' if by_speaker else 'utterance'} '{key}' "
                             f"(utterance '{utt}')")
        factors[utt] = table[key]
    return factors
