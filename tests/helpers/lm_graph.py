"""A synthetic word-recognition task with a real trigram LM graph, for decoder tests and the bench.

The toy HMM's phones (tests/helpers/toy_hmm.py) spell ``num_words`` random words; a trigram LM
(Kneser-Ney, kaldingram) is estimated on random sentences drawn from a random bigram chain over
them (so that histories matter), compiled with format-lm, and composed with the toy monophone
GMM into HCLG. The toy test utterances (YES/NO) are decoded against that graph: a search over
a large vocabulary of similar words, which is what makes a decoder's pruning bind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Union

import numpy as np

from tests.helpers import toy_hmm

PathLike = Union[str, Path]


def write_lexicon_and_text(dict_dir: Path, text_path: Path, num_words: int,
                           num_sentences: int, seed: int) -> None:
    """A dict dir with the toy lexicon plus ``num_words`` random words, and LM training text."""
    rng = np.random.default_rng(seed)
    toy_hmm.write_dict_dir(dict_dir)
    words = {}
    while len(words) < num_words:
        pron = " ".join(rng.choice(["A", "B", "C"], size=int(rng.integers(2, 6))))
        words[f"W{len(words):05d}"] = pron
    with open(dict_dir / "lexicon.txt", "a") as out:
        out.writelines(f"{w} {p}\n" for w, p in words.items())
    vocab = list(words) + ["YES", "NO"]
    successors = {w: rng.choice(len(vocab), size=8) for w in vocab}
    with open(text_path, "w") as out:
        for _ in range(num_sentences):
            w = vocab[int(rng.integers(len(vocab)))]
            sentence = [w]
            for _ in range(int(rng.integers(2, 9))):
                w = vocab[int(successors[w][int(rng.integers(8))])]
                sentence.append(w)
            out.write(" ".join(sentence) + "\n")


def make_lm_system(root: PathLike, num_words: int = 300, num_sentences: int = 2000,
                   seed: int = 7, num_test: int = 12) -> Dict[str, Path]:
    """Build the task under ``root``.

    Args:
        root: output directory.
        num_words: random words besides YES and NO.
        num_sentences: LM training sentences.
        seed: seed of the words and the text.
        num_test: test utterances.

    Returns:
        Paths: lang, lang_test, exp (the GMM), graph, test (data dir), arpa.
    """
    from asrkt.decode.graph import make_graph
    from asrkt.hmm.grammar import format_lm
    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.train_mono import TrainMonoConfig, train_mono

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    dict_dir = root / "dict"
    write_lexicon_and_text(dict_dir, root / "lm_text.txt", num_words, num_sentences, seed)
    prepare_lang(dict_dir, root / "lang", oov_word="<SIL>")
    kaldingram = shutil.which("kaldingram") or str(Path(sys.executable).parent / "kaldingram")
    subprocess.run([kaldingram, "train", "--ngram-order", "3", "--text",
                    str(root / "lm_text.txt"), "--lm", str(root / "lm.arpa")],
                   check=True, capture_output=True)
    format_lm(root / "lm.arpa", root / "lang", root / "lang_test")
    train = toy_hmm.write_data_dir(root / "train", 24, seed=1)
    test = toy_hmm.write_data_dir(root / "test", num_test, seed=2)
    train_mono(train, root / "lang", root / "exp",
               TrainMonoConfig(num_iters=6, max_iter_inc=4, totgauss=40, realign_iters="1 2 4"))
    make_graph(root / "lang_test", root / "exp", root / "graph")
    return {"lang": root / "lang", "lang_test": root / "lang_test", "exp": root / "exp",
            "graph": root / "graph", "test": test, "arpa": root / "lm.arpa"}
