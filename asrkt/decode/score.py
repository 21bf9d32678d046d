"""WER scoring as Kaldi's local/score.sh / steps/scoring/score_kaldi_wer.sh, with kaldialign.

For each DECODE_DIR/scoring/<LMWT>.txt: DECODE_DIR/wer_<LMWT> with the
``%WER x.xx [ e / n, i ins, d del, s sub ]`` and ``%SER`` lines; DECODE_DIR/scoring_kaldi/
best_wer; and for the best LM weight the per-utterance (``wer_details/per_utt``: ref/hyp/op/#csid
lines) and per-speaker (``wer_details/per_spk``) details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.score")
EPS = "<eps>"


@dataclass
class Counts:
    """Edit counts over a set of utterances."""

    words: int = 0
    corr: int = 0
    ins: int = 0
    dels: int = 0
    subs: int = 0
    sents: int = 0
    sent_err: int = 0

    @property
    def errors(self) -> int:
        return self.ins + self.dels + self.subs

    def add(self, other: Counts) -> None:
        for name in ("words", "corr", "ins", "dels", "subs", "sents", "sent_err"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def wer(self) -> float:
        return 100.0 * self.errors / self.words if self.words else (100.0 if self.errors else 0.0)

    def wer_line(self) -> str:
        return (f"%WER {self.wer():.2f} [ {self.errors} / {self.words}, {self.ins} ins, "
                f"{self.dels} del, {self.subs} sub ]")

    def ser_line(self) -> str:
        ser = 100.0 * self.sent_err / self.sents if self.sents else 0.0
        return f"%SER {ser:.2f} [ {self.sent_err} / {self.sents} ]"


def align_words(ref: List[str], hyp: List[str]) -> Tuple[List[Tuple[str, str]], Counts]:
    """Minimum-edit alignment of one utterance and its counts.

    Args:
        ref: reference words.
        hyp: hypothesis words.
    """
    import kaldialign

    pairs = kaldialign.align(ref, hyp, EPS) if (ref or hyp) else []
    c = Counts(words=len(ref), sents=1)
    for r, h in pairs:
        if r == EPS:
            c.ins += 1
        elif h == EPS:
            c.dels += 1
        elif r != h:
            c.subs += 1
        else:
            c.corr += 1
    c.sent_err = int(c.errors > 0)
    return pairs, c


def score_hyps(refs: Dict[str, List[str]], hyps: Dict[str, List[str]], source: str
               ) -> Tuple[Counts, Dict[str, Tuple[List[Tuple[str, str]], Counts]]]:
    """Score hypotheses against references; a missing hypothesis counts as empty.

    Args:
        refs: utterance -> reference words.
        hyps: utterance -> hypothesis words.
        source: hypothesis file name for messages.
    """
    extra = sorted(set(hyps) - set(refs))
    if extra:
        raise AsrktError(f"{source}: {len(extra)} hypothesis utterance(s) not in the reference "
                         f"text, e.g. '{extra[0]}'")
    total, per_utt = Counts(), {}
    for utt, ref in refs.items():
        pairs, c = align_words(ref, hyps.get(utt, []))
        per_utt[utt] = (pairs, c)
        total.add(c)
    return total, per_utt


def _per_utt_text(per_utt) -> str:
    lines = []
    for utt, (pairs, c) in per_utt.items():
        width = [max(len(r), len(h)) for r, h in pairs]
        ops = ["C" if r == h else "I" if r == EPS else "D" if h == EPS else "S" for r, h in pairs]
        lines.append(f"{utt} ref  " + "  ".join(r.ljust(w) for (r, _), w in zip(pairs, width)))
        lines.append(f"{utt} hyp  " + "  ".join(h.ljust(w) for (_, h), w in zip(pairs, width)))
        lines.append(f"{utt} op   " + "  ".join(o.ljust(w) for o, w in zip(ops, width)))
        lines.append(f"{utt} #csid {c.corr} {c.subs} {c.ins} {c.dels}")
    return "\n".join(lines) + "\n"


def _per_spk_text(per_utt, utt2spk: Dict[str, str]) -> str:
    spk: Dict[str, Counts] = {}
    total = Counts()
    for utt, (_, c) in per_utt.items():
        spk.setdefault(utt2spk.get(utt, utt), Counts()).add(c)
        total.add(c)
    head = (f"{'SPEAKER':<15} {'id':<4} {'#SENT':>6} {'#WORD':>6} {'Corr':>6} {'Sub':>6} "
            f"{'Ins':>6} {'Del':>6} {'Err':>6} {'S.Err':>6}")
    lines = [head]
    for name, c in list(sorted(spk.items())) + [("SUM", total)]:
        n = max(c.words, 1)
        lines.append(f"{name:<15} {'raw':<4} {c.sents:>6} {c.words:>6} {c.corr:>6} {c.subs:>6} "
                     f"{c.ins:>6} {c.dels:>6} {c.errors:>6} {c.sent_err:>6}")
        lines.append(f"{name:<15} {'sys':<4} {100:>6} {100:>6} {100 * c.corr / n:>6.2f} "
                     f"{100 * c.subs / n:>6.2f} {100 * c.ins / n:>6.2f} {100 * c.dels / n:>6.2f} "
                     f"{c.wer():>6.2f} {100 * c.sent_err / max(c.sents, 1):>6.2f}")
    return "\n".join(lines) + "\n"


def score_decode_dir(data_dir: PathLike, decode_dir: PathLike) -> Tuple[str, str]:
    """Score every DECODE_DIR/scoring/<LMWT>.txt against DATA_DIR/text (score_kaldi_wer.sh).

    Args:
        data_dir: data dir with the reference ``text`` (and utt2spk for per-speaker details).
        decode_dir: a directory written by ``asrkt decode``/``decode-nnet``.

    Returns:
        (best LM weight, its %WER line).
    """
    data, decode_dir = DataDir(data_dir), Path(decode_dir)
    refs = data.text
    if not refs:
        raise AsrktError(f"{data.file('text')}: no reference transcripts (empty test set)")
    files = sorted((decode_dir / "scoring").glob("*.txt"), key=lambda p: (len(p.stem), p.stem))
    files = [p for p in files if p.stem.isdigit()]
    if not files:
        raise AsrktError(f"{decode_dir / 'scoring'}: no <LMWT>.txt hypotheses (run 'asrkt decode')")
    best: Optional[Tuple[float, str, str, dict]] = None
    for path in files:
        hyps = {u: v.split() for u, v in read_map(path, allow_empty_value=True).items()}
        total, per_utt = score_hyps(refs, hyps, str(path))
        write_text_atomic(decode_dir / f"wer_{path.stem}",
                          f"{total.wer_line()}\n{total.ser_line()}\n")
        logger.info("LMWT %s: %s", path.stem, total.wer_line())
        if best is None or total.wer() < best[0]:
            best = (total.wer(), path.stem, total.wer_line(), per_utt)
    _, lmwt, line, per_utt = best
    details = decode_dir / "scoring_kaldi" / "wer_details"
    details.mkdir(parents=True, exist_ok=True)
    write_text_atomic(decode_dir / "scoring_kaldi" / "best_wer",
                      f"{line} {decode_dir / f'wer_{lmwt}'}\n")
    write_text_atomic(details / "per_utt", _per_utt_text(per_utt))
    write_text_atomic(details / "per_spk", _per_spk_text(per_utt, data.utt2spk))
    write_text_atomic(details / "lmwt", f"{lmwt}\n")
    return lmwt, line
