"""Grammars: G.fst from an ARPA LM (``format-lm``), a word loop or a one-word grammar
(``make-word-loop [--one-word]``).

kaldilm aborts the whole process on some malformed ARPA files, so :func:`validate_arpa`
checks the file in Python first and reports the first problem as file:line.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from asrkt.errors import AsrktError, where
from asrkt.hmm.kaldi import kaldifst, kaldilm, write_fst
from asrkt.hmm.lang import SPECIAL_WORDS, Lang
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]


def _parse_float(text: str, path: Path, lineno: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AsrktError(f"{where(path, lineno)}: {what} '{text}' is not a number") from None
    if math.isnan(value):
        raise AsrktError(f"{where(path, lineno)}: {what} is NaN")
    return value


def _read_arpa_header(lines: List[str], path: Path) -> Tuple[Dict[int, int], int]:
    """Parse ``\\data\\`` and the ``ngram N=count`` lines; return (counts, next line index)."""
    i = 0
    while i < len(lines) and lines[i].strip() != "\\data\\":
        i += 1
    if i == len(lines):
        raise AsrktError(f"{path}: no '\\data\\' section: not an ARPA file")
    counts: Dict[int, int] = {}
    i += 1
    while i < len(lines) and lines[i].strip():
        line = lines[i].strip()
        if not line.startswith("ngram ") or "=" not in line:
            raise AsrktError(f"{where(path, i + 1)}: expected 'ngram N=count', got '{line}'")
        order, _, count = line[6:].partition("=")
        if not order.strip().isdigit() or not count.strip().isdigit():
            raise AsrktError(f"{where(path, i + 1)}: bad ngram count line '{line}'")
        counts[int(order)] = int(count)
        i += 1
    if not counts or sorted(counts) != list(range(1, max(counts) + 1)):
        raise AsrktError(f"{path}: the \\data\\ section must list ngram 1..N counts")
    return counts, i


def validate_arpa(path: PathLike, vocabulary: Optional[Set[str]] = None) -> Dict[int, int]:
    """Check an ARPA file's syntax and consistency before kaldilm sees it.

    Checks the header, each section's entry count, field counts and numbers, that every
    n-gram's history exists as a lower-order n-gram, words are in ``vocabulary`` and the file
    ends with ``\\end\\``.

    Args:
        path: the ARPA file.
        vocabulary: allowed words (words.txt); <s> and </s> are always allowed.

    Returns:
        ngram order -> count.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: ARPA file does not exist")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise AsrktError(f"{path}: not valid UTF-8") from None
    counts, i = _read_arpa_header(lines, path)
    seen: Set[Tuple[str, ...]] = set()
    oovs: Dict[str, int] = {}
    for order in range(1, max(counts) + 1):
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i == len(lines) or lines[i].strip() != f"\\{order}-grams:":
            raise AsrktError(f"{where(path, min(i + 1, len(lines)))}: expected '\\{order}-grams:'")
        i += 1
        found = 0
        while i < len(lines) and lines[i].strip() and not lines[i].startswith("\\"):
            fields = lines[i].split()
            if len(fields) not in (order + 1, order + 2):
                raise AsrktError(f"{where(path, i + 1)}: a {order}-gram line needs "
                                 f"'logprob w1..w{order} [backoff]', got {len(fields)} fields")
            _parse_float(fields[0], path, i + 1, "log-probability")
            if len(fields) == order + 2:
                _parse_float(fields[-1], path, i + 1, "backoff weight")
            ngram = tuple(fields[1:order + 1])
            if order > 1 and ngram[:-1] not in seen:
                raise AsrktError(f"{where(path, i + 1)}: history '{' '.join(ngram[:-1])}' of this "
                                 f"{order}-gram is not a {order - 1}-gram of the file")
            if vocabulary is not None:
                for w in ngram:
                    if w not in vocabulary and w not in ("<s>", "</s>"):
                        oovs.setdefault(w, i + 1)
            seen.add(ngram)
            found += 1
            i += 1
        if found != counts[order]:
            raise AsrktError(f"{path}: \\{order}-grams: has {found} entries, the header says "
                             f"{counts[order]}")
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or lines[i].strip() != "\\end\\":
        raise AsrktError(f"{where(path, min(i + 1, len(lines)))}: expected '\\end\\'")
    if oovs:
        listed = ", ".join(f"{w} (line {n})" for w, n in list(oovs.items())[:20])
        raise AsrktError(f"{path}: {len(oovs)} word(s) not in the lang dir's words.txt: {listed}")
    return counts


def copy_lang(lang_dir: PathLike, out_dir: PathLike) -> None:
    """Copy a lang dir (as format_lm.sh does) file by file, each copy atomic.

    Args:
        lang_dir: source lang dir.
        out_dir: destination (created); G.fst is not copied.
    """
    src, dst = Path(lang_dir), Path(out_dir)
    if src.resolve() == dst.resolve():
        return
    for path in sorted(src.rglob("*")):
        if path.is_dir() or path.name == "G.fst":
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(target) as tmp:
            shutil.copyfile(path, tmp)


def format_lm(arpa: PathLike, lang_dir: PathLike, out_dir: PathLike) -> Path:
    """G.fst from an ARPA LM via kaldilm, in a copy of the lang dir (utils/format_lm.sh).

    Args:
        arpa: the ARPA file (validated first).
        lang_dir: lang dir made by prepare-lang.
        out_dir: output lang dir (e.g. data/lang_test).

    Returns:
        Path of the written G.fst.
    """
    lang = Lang(lang_dir)
    vocabulary = set(lang.words) - set(SPECIAL_WORDS)
    validate_arpa(arpa, vocabulary)
    text = kaldilm.arpa2fst(input_arpa=str(arpa), disambig_symbol="#0",
                            read_symbol_table=str(lang.path / "words.txt"),
                            max_arpa_warnings=0)
    if not text.strip():
        raise AsrktError(f"{arpa}: kaldilm produced an empty grammar")
    return _write_grammar(text, lang_dir, out_dir)


def _write_grammar(text: str, lang_dir: PathLike, out_dir: PathLike) -> Path:
    """Compile an OpenFst text acceptor, sort its arcs on input labels, and write it as
    OUT_DIR/G.fst beside a copy of ``lang_dir``; returns the G.fst path.

    Args:
        text: the grammar in OpenFst text format (word ids).
        lang_dir: lang dir made by prepare-lang.
        out_dir: output lang dir.
    """
    fst = kaldifst.compile(text)
    kaldifst.arcsort(fst, sort_type="ilabel")
    copy_lang(lang_dir, out_dir)
    path = Path(out_dir) / "G.fst"
    write_fst(fst, path)
    return path


def word_loop_words(lang: Lang, exclude: Sequence[str] = ()) -> List[str]:
    """Words of a word-loop grammar: all lexicon words except silence-only words, the OOV word
    and ``exclude``.

    Args:
        lang: the lang dir.
        exclude: further words to leave out.
    """
    silence = {lang.id2phone[i] for i in lang.silence_phones}
    skip = set(exclude) | ({lang.oov} if lang.oov else set())
    words = []
    for entry in lang.lexicon:
        if entry.word in skip or all(p in silence for p in entry.phones) or entry.word in words:
            continue
        words.append(entry.word)
    if not words:
        raise AsrktError(f"{lang.path}: no words left for a word loop")
    return words


def make_word_loop(lang_dir: PathLike, out_dir: PathLike, exclude: Sequence[str] = (),
                   one_word: bool = False) -> Path:
    """A G.fst over the lexicon's words with uniform probabilities: a one-state loop accepting
    any word sequence, or (``one_word``) an arc start -(word)-> final per word, accepting
    exactly one word (isolated-word tasks; the optional silence around it comes from L.fst).

    Args:
        lang_dir: lang dir made by prepare-lang.
        out_dir: output lang dir (a copy of ``lang_dir`` plus G.fst).
        exclude: words to leave out besides silence-only words and the OOV word.
        one_word: exactly one word instead of any sequence.

    Returns:
        Path of the written G.fst.
    """
    lang = Lang(lang_dir)
    words = word_loop_words(lang, exclude)
    ids = sorted(lang.words[w] for w in words)
    if one_word:
        cost = math.log(len(words))
        text = "".join(f"0 1 {i} {i} {cost}\n" for i in ids) + "1\n"
    else:
        cost = math.log(len(words) + 1)  # +1: the final (end-of-sentence) "arc"
        text = "".join(f"0 0 {i} {i} {cost}\n" for i in ids) + f"0 {cost}\n"
    return _write_grammar(text, lang_dir, out_dir)
