"""The toy GMM systems that the triphone trainers' tests start from, and a kill in their EM."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def toy_mono_dirs(root: Path) -> Path:
    """Write the toy corpus under ``root`` (train, test, dict) and run prepare-lang (lang),
    format-lm (lang_test), train-mono (mono) and align (mono_ali) on it; returns ``root``."""
    from tests.cli.test_cli_hmm import ARPA, run
    from tests.helpers import toy_hmm as toy_corpus

    root = toy_corpus.write_corpus(root)
    (root / "task.arpa").write_text(ARPA)
    data, lang = root / "train", root / "lang"
    for args in (["prepare-lang", "--oov-word", "<SIL>", root / "dict", lang],
                 ["format-lm", root / "task.arpa", lang, root / "lang_test"],
                 ["train-mono", "--totgauss", "60", "--num-iters", "12", "--max-iter-inc", "8",
                  data, lang, root / "mono"],
                 ["align", data, lang, root / "mono", root / "mono_ali"]):
        run(*args)
    return root


def toy_tri_dirs(root: Path, trainer: Sequence, out: str) -> Path:
    """:func:`toy_mono_dirs`, then ``asrkt TRAINER train lang mono_ali OUT`` (a triphone
    trainer and its options); returns ``root``."""
    from tests.cli.test_cli_hmm import run

    root = toy_mono_dirs(root)
    run(*trainer, root / "train", root / "lang", root / "mono_ali", root / out)
    return root


def run_killed_after_pass(monkeypatch, args: Sequence, last_pass: int) -> None:
    """Run ``asrkt ARGS`` (train-deltas, train-lda-mllt) with its EM raising
    RuntimeError('killed') once the checkpoint of ``last_pass`` is written, as a kill would leave
    the run; ``em_passes`` is restored afterwards."""
    from asrkt.hmm import train_deltas as td
    from tests.cli.test_cli_hmm import run

    real = td.em_passes

    def em_passes(*a, checkpoint, **kwargs):
        def save_then_die(x, alignments, realigned):
            checkpoint(x, alignments, realigned)
            if x == last_pass:
                raise RuntimeError("killed")

        return real(*a, checkpoint=save_then_die, **kwargs)

    monkeypatch.setattr(td, "em_passes", em_passes)
    assert "killed" in repr(run(*args, ok=False).exception)
    monkeypatch.setattr(td, "em_passes", real)


def logged_passes(log: str) -> list:
    """The EM pass numbers of a training log's ``pass X...: avg log-like per frame`` lines, in
    order (what scripts/kaldi_interop_compare.py em-likes reads)."""
    import re

    return [int(x) for x in re.findall(r"pass (\d+)[^:\n]*: avg log-like per frame", log)]
