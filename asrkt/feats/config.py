"""Feature extraction options of ``asrkt make-feats`` (Kaldi's compute-{fbank,mfcc}-feats
names and defaults), declared with :func:`asrkt.utils.config.option` so the command's flags
(``--dither``, ``--num-mel-bins``, ...), YAML keys and range checks come from one place. No
numpy/torch imports here, so the CLI builds its options without loading them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from asrkt.data.warp import MAX_WARP, MIN_WARP  # noqa: F401 (re-exported)
from asrkt.errors import AsrktError
from asrkt.utils.config import option


@dataclass
class FeatConfig:
    """Feature extraction options (names and defaults as Kaldi's compute-{fbank,mfcc}-feats)."""

    type: Literal["fbank", "mfcc"] = option("fbank", help="Feature type.")
    sample_frequency: Optional[float] = option(
        None, gt=0, help="Resample all audio to this rate in Hz (default: each file's own rate).")
    frame_length: float = option(25.0, gt=0, help="Frame length in ms.")
    frame_shift: float = option(10.0, gt=0, help="Frame shift in ms.")
    dither: float = option(1.0, ge=0, help="Dithering constant (0: none; seeded per utterance).")
    preemphasis_coefficient: float = option(0.97, ge=0, le=1, help="Pre-emphasis coefficient.")
    remove_dc_offset: bool = option(True, help="Subtract the mean of each frame.")
    window_type: Literal["povey", "hamming", "hanning", "rectangular", "blackman"] = option(
        "povey", help="Window function.")
    round_to_power_of_two: bool = option(True, help="Round the FFT size up to a power of two.")
    snip_edges: bool = option(True, help="Only frames that fit entirely in the signal (Kaldi "
                                         "--snip-edges).")
    num_mel_bins: int = option(23, ge=3, help="Number of mel bins.")
    low_freq: float = option(20.0, ge=0, help="Low cutoff of the mel bins in Hz.")
    high_freq: float = option(0.0, help="High cutoff of the mel bins in Hz (<= 0: offset from "
                                        "the Nyquist frequency).")
    use_energy: Optional[bool] = option(
        None, help="Add (fbank) or use as C0 (mfcc) the log energy (default: mfcc yes, "
                   "fbank no).")
    energy_floor: float = option(0.0, ge=0, help="Floor of the energy (absolute, not log).")
    raw_energy: bool = option(True, help="Energy before pre-emphasis and windowing.")
    use_log_fbank: bool = option(True, help="Log mel energies (fbank).")
    num_ceps: int = option(13, ge=1, help="Cepstra in the MFCC (mfcc; at most num-mel-bins).")
    cepstral_lifter: float = option(22.0, ge=0, help="Cepstral liftering coefficient (mfcc).")
    vtln_warp: float = option(1.0, ge=MIN_WARP, le=MAX_WARP,
                              help="VTLN warp factor (per speaker/utterance: spk2warp/utt2warp).")
    vtln_low: float = option(100.0, ge=0, help="VTLN lower cutoff in Hz.")
    vtln_high: float = option(-500.0, help="VTLN upper cutoff in Hz (<= 0: offset from the "
                                           "Nyquist frequency).")

    def validate(self) -> None:
        if self.type == "mfcc" and self.num_ceps > self.num_mel_bins:
            raise AsrktError(f"num_ceps must be in 1..num_mel_bins ({self.num_mel_bins}), "
                             f"got {self.num_ceps}")
