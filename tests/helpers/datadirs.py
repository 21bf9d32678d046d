"""Build small Kaldi data directories for tests (from FSDD or generated audio)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np
import soundfile

WORDS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]


def fsdd_data_dir(fsdd: Path, out: Path, indices: Iterable[int],
                  speakers: Optional[Iterable[str]] = None,
                  digits: Iterable[int] = range(10)) -> Path:
    """Data dir over FSDD recordings ``{digit}_{speaker}_{index}.wav`` (utt ``spk_digit_index``)."""
    from asrkt.data.datadir import write_data_dir

    speakers = list(speakers or ["george", "jackson", "lucas", "nicolas", "theo"])
    wav, text, utt2spk = {}, {}, {}
    for spk in speakers:
        for digit in digits:
            for index in indices:
                path = fsdd / "recordings" / f"{digit}_{spk}_{index}.wav"
                utt = f"{spk}_{digit}_{index}"
                wav[utt], text[utt], utt2spk[utt] = str(path), WORDS[digit], spk
    write_data_dir(out, wav_scp=wav, text=text, utt2spk=utt2spk)
    return out


def synthetic_wav(path: Path, seconds: float, rate: int, seed: int = 0,
                  subtype: str = "PCM_16") -> Path:
    """A chirp plus noise, written with soundfile."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.3 * np.sin(2 * np.pi * (200 + 800 * t) * t) + 0.01 * rng.standard_normal(t.size)
    soundfile.write(path, signal.astype(np.float32), rate, subtype=subtype)
    return path


def generated_data_dir(out: Path, rate: int, count: int = 4, seconds: float = 0.8,
                       speakers: int = 2) -> Path:
    """Data dir of generated signals at ``rate`` Hz."""
    from asrkt.data.datadir import write_data_dir

    (out / "wav").mkdir(parents=True, exist_ok=True)
    wav: Dict[str, str] = {}
    text, utt2spk = {}, {}
    for i in range(count):
        spk = f"spk{i % speakers}"
        utt = f"{spk}-utt{i}"
        wav[utt] = str(synthetic_wav(out / "wav" / f"{utt}.wav", seconds + 0.1 * i, rate, seed=i))
        text[utt], utt2spk[utt] = "ONE TWO", spk
    write_data_dir(out, wav_scp=wav, text=text, utt2spk=utt2spk)
    return out


def fake_speech_commands(root: Path, speakers: Iterable[str]) -> None:
    """A Speech Commands layout of empty files: every command word's folder, two clips of 'yes'
    and one of 'marvin' (_unknown_) per speaker, one _silence_ clip."""
    from asrkt.corpora.speech_commands import COMMAND_WORDS

    for w in COMMAND_WORDS:
        (root / w).mkdir(parents=True)
    (root / "_unknown_").mkdir()
    (root / "_silence_").mkdir()
    for s in speakers:
        (root / "yes" / f"{s}_nohash_0.flac").write_bytes(b"")
        (root / "yes" / f"{s}_nohash_1.flac").write_bytes(b"")
        (root / "_unknown_" / f"marvin_{s}_nohash_0.flac").write_bytes(b"")
    (root / "_silence_" / "7.flac").write_bytes(b"")
