"""A tiny corpus in speechocean762's layout (WAVE/, train/, test/, resource/lexicon.txt) with
short noise WAVs: for the data-prep tests and the recipe's path test."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np

LEXICON = ("A\tAH0\nA\tEY1\nCLEAR\tK L IH AH0\nCURE\tK Y UH AH1\nDAY\tD EY1\n"
           "GOOD\tG UH1 D\nWE\tW IY1\n")
SENTENCES = ("WE CLEAR A DAY", "GOOD DAY", "A CURE", "WE CURE A GOOD DAY")
# speaker -> (age, gender, set): strata child/m 2, adult/f 3, teen/m 1 in train; 1 test speaker
SPEAKERS: Dict[str, Tuple[int, str, str]] = {
    "0001": (7, "m", "train"), "0002": (12, "m", "train"),
    "0010": (25, "f", "train"), "0011": (30, "f", "train"), "0012": (18, "f", "train"),
    "0020": (15, "m", "train"), "0030": (22, "f", "test"),
}


def fake_speechocean762(root: Path, utts_per_speaker: int = 2) -> Path:
    """Write the corpus under ``root``; its path."""
    import soundfile

    rng = np.random.default_rng(0)
    (root / "resource").mkdir(parents=True)
    (root / "resource" / "lexicon.txt").write_text(LEXICON)
    for name in ("train", "test"):
        files: Dict[str, list] = {f: [] for f in ("wav.scp", "text", "utt2spk", "spk2utt",
                                                  "spk2age", "spk2gender")}
        for spk, (age, gender, where) in sorted(SPEAKERS.items()):
            if where != name:
                continue
            utts = [f"0{spk}{n:04d}" for n in range(utts_per_speaker)]
            for n, utt in enumerate(utts):
                wav = Path("WAVE") / f"SPEAKER{spk}" / f"{utt}.WAV"
                (root / wav).parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(str(root / wav), rng.normal(0, 0.05, 1600).astype(np.float32),
                                16000, subtype="PCM_16")
                files["wav.scp"].append(f"{utt}\t{wav}")
                files["text"].append(f"{utt}\t{SENTENCES[n % len(SENTENCES)]}")
                files["utt2spk"].append(f"{utt} {spk}")
            files["spk2utt"].append(f"{spk} {' '.join(utts)}")
            files["spk2age"].append(f"{spk}\t{age}")
            files["spk2gender"].append(f"{spk}\t{gender}")
        (root / name).mkdir()
        for f, lines in files.items():
            (root / name / f).write_text("".join(line + "\n" for line in lines))
    return root
