"""A toy corpus with known structure, for fast tests and demos of the HMM side.

Features are drawn from one Gaussian per HMM state of each phone (3 states, silence 5), with
random durations, so a monophone system learns it in a few passes. Two words: ``YES`` (phones
A B) and ``NO`` (phone C); ``<SIL>`` is silence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np

PathLike = Union[str, Path]
LEXICON = {"<SIL>": ["SIL"], "YES": ["A", "B"], "NO": ["C"]}
STATES = {"SIL": 5, "A": 3, "B": 3, "C": 3}


def write_dict_dir(path: PathLike) -> Path:
    """Kaldi dict dir of the toy lexicon.

    Args:
        path: output directory.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "lexicon.txt").write_text("".join(f"{w} {' '.join(p)}\n" for w, p in LEXICON.items()))
    (path / "silence_phones.txt").write_text("SIL\n")
    (path / "optional_silence.txt").write_text("SIL\n")
    (path / "nonsilence_phones.txt").write_text("A\nB\nC\n")
    return path


def _utterance(rng, means: Dict[str, np.ndarray], words: List[str], dim: int) -> np.ndarray:
    frames = []
    phones = ["SIL"]
    for w in words:
        phones += LEXICON[w] + (["SIL"] if rng.random() < 0.3 else [])
    phones.append("SIL")
    for phone in phones:
        for s in range(STATES[phone]):
            n = int(rng.integers(2, 6))
            frames.append(means[phone][s] + 0.6 * rng.standard_normal((n, dim)))
    return np.concatenate(frames).astype(np.float32)


def write_data_dir(path: PathLike, num_utts: int, seed: int, dim: int = 13,
                   speakers: int = 2) -> Path:
    """A data dir with text, utt2spk, spk2utt, feats.scp and cmvn.scp (no audio).

    Args:
        path: output directory.
        num_utts: number of utterances.
        seed: random seed for transcripts and features (state means are fixed).
        dim: feature dimension.
        speakers: number of speakers.
    """
    from asrkt.data.datadir import DataDir
    from asrkt.data.kaldi_files import invert_utt2spk, write_lists, write_map
    from asrkt.feats.cmvn import compute_cmvn
    from asrkt.io.tables import ArkScpWriter

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    fixed = np.random.default_rng(1234)
    means = {p: fixed.normal(0.0, 3.0, size=(n, dim)) for p, n in STATES.items()}
    rng = np.random.default_rng(seed)
    text: Dict[str, str] = {}
    utt2spk: Dict[str, str] = {}
    with ArkScpWriter(path / "feats.ark", path / "feats.scp") as writer:
        items: List[Tuple[str, np.ndarray]] = []
        for i in range(num_utts):
            spk = f"spk{i % speakers}"
            utt = f"{spk}-u{i:03d}"
            words = [str(rng.choice(["YES", "NO"])) for _ in range(int(rng.integers(1, 5)))]
            text[utt], utt2spk[utt] = " ".join(words), spk
            items.append((utt, _utterance(rng, means, words, dim)))
        for utt, feats in sorted(items, key=lambda x: x[0].encode()):
            writer.write(utt, feats)
    write_map(path / "text", text)
    write_map(path / "utt2spk", utt2spk)
    write_lists(path / "spk2utt", invert_utt2spk(utt2spk))
    compute_cmvn(DataDir(path))
    return path


def write_corpus(root: PathLike, num_train: int = 40, num_test: int = 20) -> Path:
    """ROOT/dict, ROOT/train (seed 1) and ROOT/test (seed 2).

    Args:
        root: output directory.
        num_train: training utterances.
        num_test: test utterances.
    """
    root = Path(root)
    write_dict_dir(root / "dict")
    write_data_dir(root / "train", num_train, seed=1)
    write_data_dir(root / "test", num_test, seed=2)
    return root
