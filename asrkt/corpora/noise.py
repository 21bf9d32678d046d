"""Signal levels, noise generators and mixing at a given SNR (Aurora-2 style).

Signals are float64 arrays on the [-1, 1) scale. The speech level is the *active* level: the mean
power over the 20 ms frames whose power is within :data:`ACTIVE_RANGE_DB` of the loudest frame,
a simple stand-in for ITU-T P.56 that ignores the pauses (so an SNR does not depend on how much
silence surrounds the digits). The noise level is the mean power over the whole noise signal.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from asrkt.corpora.config import NOISE_TYPES
from asrkt.errors import AsrktError

FRAME_SECONDS = 0.02
ACTIVE_RANGE_DB = 40.0


def active_power(signal: np.ndarray, sample_rate: int) -> float:
    """Mean power of the speech-active frames of ``signal``.

    Args:
        signal: samples (any scale; the result is in the square of that scale).
        sample_rate: Hz, for the 20 ms frame length.
    """
    signal = np.asarray(signal, dtype=np.float64)
    frame = max(1, int(round(FRAME_SECONDS * sample_rate)))
    usable = len(signal) // frame * frame
    if usable == 0:
        return float(np.mean(signal ** 2)) if len(signal) else 0.0
    powers = np.mean(signal[:usable].reshape(-1, frame) ** 2, axis=1)
    peak = float(powers.max())
    if peak <= 0.0:
        return 0.0
    active = powers[powers >= peak * 10.0 ** (-ACTIVE_RANGE_DB / 10.0)]
    return float(active.mean())


def snr_db(speech: np.ndarray, noise: np.ndarray, sample_rate: int) -> float:
    """SNR as this module defines it: active speech power over mean noise power, in dB.

    Args:
        speech: the clean signal.
        noise: the noise added to it (e.g. noisy minus clean).
        sample_rate: Hz.
    """
    noise_power = float(np.mean(np.asarray(noise, dtype=np.float64) ** 2))
    if noise_power <= 0.0:
        return float("inf")
    return 10.0 * np.log10(active_power(speech, sample_rate) / noise_power)


def white_noise(num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise with unit power.

    Args:
        num_samples: length.
        rng: the random generator (seeded by the caller).
    """
    return rng.standard_normal(num_samples)


def pink_noise(num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a 1/f power spectrum (-3 dB/octave) and unit power.

    White noise is shaped in the frequency domain; the DC bin is removed.

    Args:
        num_samples: length.
        rng: the random generator (seeded by the caller).
    """
    if num_samples < 2:
        return np.zeros(num_samples)
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    spectrum /= np.sqrt(freqs)
    spectrum[0] = 0.0
    pink = np.fft.irfft(spectrum, n=num_samples)
    return pink / np.sqrt(np.mean(pink ** 2))


def babble_noise(num_samples: int, streams: Sequence[np.ndarray], talkers: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Sum of ``talkers`` excerpts of different speakers' speech, with unit power.

    Args:
        num_samples: length.
        streams: long recordings of distinct babble speakers, each already scaled to unit
            active power (excerpts wrap around the end of a stream).
        talkers: how many streams to sum (at most ``len(streams)``).
        rng: chooses the streams and the start offsets.
    """
    if talkers < 1 or talkers > len(streams):
        raise AsrktError(f"babble needs 1..{len(streams)} talkers, got {talkers}")
    chosen = rng.choice(len(streams), size=talkers, replace=False)
    total = np.zeros(num_samples)
    for index in sorted(int(i) for i in chosen):
        stream = streams[index]
        start = int(rng.integers(len(stream)))
        positions = (start + np.arange(num_samples)) % len(stream)
        total += stream[positions]
    power = float(np.mean(total ** 2))
    return total / np.sqrt(power) if power > 0 else total


def make_noise(kind: str, num_samples: int, rng: np.random.Generator,
               babble_streams: Sequence[np.ndarray] = (), babble_talkers: int = 6) -> np.ndarray:
    """Unit-power noise of one of :data:`NOISE_TYPES`.

    Args:
        kind: ``white``, ``pink`` or ``babble``.
        num_samples: length.
        rng: the random generator (seeded by the caller).
        babble_streams: speaker streams for babble (see :func:`babble_noise`).
        babble_talkers: number of simultaneous babble talkers.
    """
    if kind == "white":
        return white_noise(num_samples, rng)
    if kind == "pink":
        return pink_noise(num_samples, rng)
    if kind == "babble":
        return babble_noise(num_samples, babble_streams, babble_talkers, rng)
    raise AsrktError(f"unknown noise type '{kind}' (known: {', '.join(NOISE_TYPES)})")


def add_noise(speech: np.ndarray, noise: np.ndarray, snr: float, sample_rate: int) -> np.ndarray:
    """``speech`` plus ``noise`` scaled so that :func:`snr_db` of the mixture is ``snr``.

    Args:
        speech: clean signal.
        noise: noise of the same length (any power > 0).
        snr: target SNR in dB.
        sample_rate: Hz.
    """
    noise_power = float(np.mean(noise ** 2))
    speech_power = active_power(speech, sample_rate)
    if noise_power <= 0.0 or speech_power <= 0.0:
        raise AsrktError("cannot mix at an SNR: the speech or the noise is silent")
    gain = np.sqrt(speech_power / (noise_power * 10.0 ** (snr / 10.0)))
    return speech + gain * noise
