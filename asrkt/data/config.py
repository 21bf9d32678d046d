"""Options of the data-directory commands, kept free of heavy imports (the CLI builds its
flags from them)."""

from __future__ import annotations

from dataclasses import dataclass

from asrkt.errors import AsrktError
from asrkt.utils.config import option


@dataclass
class NoiseConfig:
    """How ``perturb-data-dir --noise-dir`` draws each utterance's noise (as Kaldi's
    steps/data/augment_data_dir.py: a clip, an offset in it and an SNR, uniformly)."""

    snr_min: float = option(0.0, help="Lowest SNR in dB.")
    snr_max: float = option(20.0, help="Highest SNR in dB.")
    seed: int = option(1, ge=0, help="Seed of the noise draws.")
    copy: int = option(1, ge=1, help="Copy number N: the id prefix noise<N>-; also seeds the "
                                     "draws, so copies with one seed get different noise.")

    def validate(self) -> None:
        if self.snr_min > self.snr_max:
            raise AsrktError(f"snr_min must be <= snr_max, got {self.snr_min:g} > "
                             f"{self.snr_max:g} dB")
