"""Settings of ``asrkt synth-digits`` (fields declared with :func:`asrkt.utils.config.option`;
the command's click options are generated from them). No numpy imports here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from asrkt.errors import AsrktError
from asrkt.utils.config import option

NOISE_TYPES = ("white", "pink", "babble")


@dataclass
class SynthDigitsConfig:
    """Everything that determines the corpus (``nj`` does not)."""

    seed: int = option(0, ge=0, help="Master seed; same seed, same bytes.")
    num_train_speakers: int = option(16, ge=0, help="Training speakers.")
    num_test_speakers: int = option(6, ge=0, help="Test speakers, voices unseen in training.")
    utts_per_speaker: int = option(60, ge=0, help="Training utterances per speaker.")
    test_utts_per_speaker: int = option(30, ge=0, help="Test utterances per speaker.")
    min_digits: int = option(1, ge=1, help="Shortest digit string.")
    max_digits: int = option(7, ge=1, help="Longest digit string.")
    snrs: List[int] = option(default_factory=lambda: [20, 15, 10, 5, 0], ge=-30, le=100,
                             help="SNRs in dB of the noisy test sets.")
    noise_types: List[str] = option(default_factory=lambda: list(NOISE_TYPES),
                                    help="Noises of the noisy test sets: white,pink,babble "
                                         "('' for none).")
    babble_speakers: int = option(8, ge=0, help="Speakers (not in train or test) whose speech "
                                                "makes the babble.")
    babble_talkers: int = option(6, ge=0, help="Simultaneous talkers in one babble excerpt.")
    sample_rate: int = option(8000, ge=4000, le=22050, help="Output rate in Hz.")
    level_db: float = option(-30.0, lt=0, help="Mean active speech level in dB relative to "
                                               "full scale.")
    level_spread_db: float = option(4.0, ge=0, help="Speaker levels are uniform in level_db "
                                                    "± this.")
    noise_floor_db: float = option(-84.0, lt=0, help="RMS of the Gaussian noise floor in dB "
                                                     "relative to full scale.")
    pad_seconds: List[float] = option(default_factory=lambda: [0.1, 0.4], ge=0, le=5,
                                      help="min,max of the silence before and after the speech.")
    pitch: List[int] = option(default_factory=lambda: [25, 75], ge=0, le=100,
                              help="min,max of eSpeak's base pitch.")
    pitch_range: List[int] = option(default_factory=lambda: [25, 85], ge=0, le=100,
                                    help="min,max of eSpeak's pitch range.")
    rate: List[int] = option(default_factory=lambda: [140, 200], ge=80, le=450,
                             help="min,max speaking rate in words per minute.")
    word_gap: List[int] = option(default_factory=lambda: [0, 6], ge=0, le=100,
                                 help="min,max extra pause between words in units of 10 ms.")

    def validate(self) -> None:
        """One-line error for values that cannot make a corpus (ranges: the fields' metadata)."""
        if self.num_train_speakers + self.num_test_speakers == 0:
            raise AsrktError("the corpus needs at least one training or test speaker")
        if not self.min_digits <= self.max_digits:
            raise AsrktError(f"need 1 <= min_digits <= max_digits, got {self.min_digits}, "
                             f"{self.max_digits}")
        unknown = sorted(set(self.noise_types) - set(NOISE_TYPES))
        if unknown:
            raise AsrktError(f"unknown noise type(s) {', '.join(unknown)} "
                             f"(known: {', '.join(NOISE_TYPES)})")
        if (len(set(self.noise_types)) != len(self.noise_types)
                or len(set(self.snrs)) != len(self.snrs)):
            raise AsrktError("noise_types and snrs must not repeat a value")
        needs_babble = "babble" in self.noise_types and self.snrs
        if needs_babble and not 1 <= self.babble_talkers <= self.babble_speakers:
            raise AsrktError(f"babble needs 1 <= babble_talkers <= babble_speakers, got "
                             f"{self.babble_talkers} and {self.babble_speakers}")
        if not self.noise_floor_db < self.level_db - self.level_spread_db < 0:
            raise AsrktError("need noise_floor_db < level_db - level_spread_db < 0")
        for name in ("pad_seconds", "pitch", "pitch_range", "rate", "word_gap"):
            value = getattr(self, name)
            if len(value) != 2 or value[0] > value[1]:
                raise AsrktError(f"{name} must be [min, max], got {value}")
