"""Kaldi lang directories: ``prepare-lang`` (as utils/prepare_lang.sh) and a reader.

A dict dir holds ``lexicon.txt`` (or ``lexiconp.txt``), ``silence_phones.txt``,
``nonsilence_phones.txt`` and ``optional_silence.txt``. The lang dir gets ``phones.txt``,
``words.txt``, ``topo`` (3-state phones, 5-state silence), ``L.fst``, ``L_disambig.fst``
(lexicon disambiguation symbols #1..#k and the #0 self-loops), ``oov.txt/int`` and ``phones/``
(silence/nonsilence/optional_silence/disambig/sets/context_indep/word_boundary as
txt/int/csl, and as utils/prepare_lang.sh does for tree building: ``roots.txt/int``, one
``shared split <phones>`` root per line of sets.txt, and ``extra_questions.txt/int``, the dict
dir's optional ``extra_questions.txt`` plus, with word-position phones, one question per
position). It also keeps the lexicon with probabilities (``lexiconp.txt``) for alignment
checks and the word-loop grammar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from asrkt.errors import AsrktError, where
from asrkt.hmm.kaldi import kaldifst, write_fst
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
POSITIONS = ("_B", "_E", "_I", "_S")
SPECIAL_WORDS = ("<eps>", "#0", "<s>", "</s>")


@dataclass
class LexEntry:
    """One pronunciation: ``word`` -> ``phones`` with probability ``prob``."""

    word: str
    prob: float
    phones: List[str]


@dataclass
class DictDir:
    """The contents of a Kaldi dict dir, validated."""

    lexicon: List[LexEntry]
    silence_sets: List[List[str]]
    nonsilence_sets: List[List[str]]
    optional_silence: str
    extra_questions: List[List[str]] = field(default_factory=list)


def _read_phone_sets(path: Path) -> List[List[str]]:
    if not path.is_file():
        raise AsrktError(f"{path}: file does not exist (required in a dict dir)")
    sets = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        phones = line.split()
        if not phones:
            raise AsrktError(f"{where(path, lineno)}: empty line")
        for phone in phones:
            if phone.startswith("#") or phone == "<eps>":
                raise AsrktError(f"{where(path, lineno)}: reserved phone name '{phone}'")
        sets.append(phones)
    return sets


def _read_lexicon(path: Path, with_probs: bool, known: set) -> List[LexEntry]:
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            raise AsrktError(f"{where(path, lineno)}: empty line")
        word, rest, prob = fields[0], fields[1:], 1.0
        if with_probs:
            try:
                prob = float(rest[0])
            except (IndexError, ValueError):
                raise AsrktError(f"{where(path, lineno, word)}: "
                                 f"expected 'word prob phone...'") from None
            if not 0.0 < prob <= 1.0:
                raise AsrktError(f"{where(path, lineno, word)}: pronunciation probability {prob} "
                                 f"not in (0, 1]")
            rest = rest[1:]
        if word in SPECIAL_WORDS or word.startswith("#"):
            raise AsrktError(f"{where(path, lineno, word)}: reserved word '{word}'")
        if not rest:
            raise AsrktError(f"{where(path, lineno, word)}: empty pronunciation")
        missing = [p for p in rest if p not in known]
        if missing:
            raise AsrktError(f"{where(path, lineno, word)}: phone(s) "
                             f"{' '.join(sorted(set(missing)))} "
                             f"not in silence_phones.txt or nonsilence_phones.txt")
        entries.append(LexEntry(word, prob, rest))
    if not entries:
        raise AsrktError(f"{path}: empty lexicon")
    return entries


def read_dict_dir(path: PathLike) -> DictDir:
    """Read and check a dict dir (phones declared once, lexicon phones declared, ...).

    Args:
        path: the dict dir.
    """
    path = Path(path)
    if not path.is_dir():
        raise AsrktError(f"dict dir '{path}' does not exist")
    silence = _read_phone_sets(path / "silence_phones.txt")
    nonsilence = _read_phone_sets(path / "nonsilence_phones.txt")
    seen: Dict[str, str] = {}
    for name, sets in (("silence_phones.txt", silence), ("nonsilence_phones.txt", nonsilence)):
        for phone in (p for s in sets for p in s):
            if phone in seen:
                raise AsrktError(f"{path / name}: phone '{phone}' also listed in {seen[phone]}")
            seen[phone] = name
    opt_path = path / "optional_silence.txt"
    if not opt_path.is_file():
        raise AsrktError(f"{opt_path}: file does not exist (required in a dict dir)")
    opt = opt_path.read_text(encoding="utf-8").split()
    if len(opt) != 1 or seen.get(opt[0]) != "silence_phones.txt":
        raise AsrktError(f"{opt_path}: must hold exactly one phone from silence_phones.txt")
    if (path / "lexiconp.txt").is_file():
        lexicon = _read_lexicon(path / "lexiconp.txt", True, set(seen))
    elif (path / "lexicon.txt").is_file():
        lexicon = _read_lexicon(path / "lexicon.txt", False, set(seen))
    else:
        raise AsrktError(f"{path}: no lexicon.txt or lexiconp.txt")
    extra = []
    extra_path = path / "extra_questions.txt"
    if extra_path.is_file():  # optional, as in Kaldi
        for lineno, line in enumerate(extra_path.read_text(encoding="utf-8").splitlines(), 1):
            phones = line.split()
            missing = [p for p in phones if p not in seen]
            if missing:
                raise AsrktError(f"{where(extra_path, lineno)}: phone(s) {' '.join(missing)} not "
                                 f"in silence_phones.txt or nonsilence_phones.txt")
            if phones:
                extra.append(phones)
    return DictDir(lexicon, silence, nonsilence, opt[0], extra)


def _position_phones(phones: Sequence[str]) -> List[str]:
    if len(phones) == 1:
        return [phones[0] + "_S"]
    return [phones[0] + "_B"] + [p + "_I" for p in phones[1:-1]] + [phones[-1] + "_E"]


def _lexicon_disambig(lexicon: List[LexEntry]) -> Tuple[List[List[str]], int]:
    """Disambiguation symbols as add_lex_disambig.pl: for duplicate prons and prefixes."""
    counts: Dict[Tuple[str, ...], int] = {}
    prefixes = set()
    for entry in lexicon:
        key = tuple(entry.phones)
        counts[key] = counts.get(key, 0) + 1
        for i in range(1, len(key)):
            prefixes.add(key[:i])
    last: Dict[Tuple[str, ...], int] = {}
    out, max_disambig = [], 0
    for entry in lexicon:
        key = tuple(entry.phones)
        if counts[key] > 1 or key in prefixes:
            last[key] = last.get(key, 0) + 1
            max_disambig = max(max_disambig, last[key])
            out.append(list(entry.phones) + [f"#{last[key]}"])
        else:
            out.append(list(entry.phones))
    return out, max_disambig


def make_topo(nonsil_ids: List[int], sil_ids: List[int]) -> str:
    """Kaldi's default topology: 3-state left-to-right phones, 5-state silence (utils/gen_topo.pl).

    Args:
        nonsil_ids: integer ids of non-silence phones.
        sil_ids: integer ids of silence phones.
    """
    lines = ["<Topology>"]
    if nonsil_ids:
        lines += ["<TopologyEntry>", "<ForPhones>", " ".join(map(str, nonsil_ids)), "</ForPhones>"]
        for s in range(3):
            lines.append(f"<State> {s} <PdfClass> {s} <Transition> {s} 0.75 "
                         f"<Transition> {s + 1} 0.25 </State>")
        lines += ["<State> 3 </State>", "</TopologyEntry>"]
    if sil_ids:
        lines += ["<TopologyEntry>", "<ForPhones>", " ".join(map(str, sil_ids)), "</ForPhones>"]
        lines.append("<State> 0 <PdfClass> 0 " + " ".join(
            f"<Transition> {d} 0.25" for d in range(4)) + " </State>")
        for s in (1, 2, 3):
            lines.append(f"<State> {s} <PdfClass> {s} " + " ".join(
                f"<Transition> {d} 0.25" for d in range(1, 5)) + " </State>")
        lines += ["<State> 4 <PdfClass> 4 <Transition> 4 0.75 <Transition> 5 0.25 </State>",
                  "<State> 5 </State>", "</TopologyEntry>"]
    lines.append("</Topology>")
    return "\n".join(lines) + "\n"


def lexicon_fst_text(prons: List[Tuple[int, float, List[int]]], sil_prob: float,
                     sil_phone: int) -> str:
    """OpenFst text of the lexicon transducer (phones in, words out), as make_lexicon_fst.py.

    Args:
        prons: (word id, pronunciation probability, phone ids) per entry.
        sil_prob: probability of optional silence after each word (and at the start).
        sil_phone: id of the optional-silence phone.
    """
    arcs: List[str] = []
    if sil_prob > 0.0:
        start, loop, sil, nxt = 0, 1, 2, 3
        sil_cost, nosil_cost = -math.log(sil_prob), -math.log(1.0 - sil_prob)
        arcs += [f"{start} {loop} 0 0 {nosil_cost}", f"{start} {sil} 0 0 {sil_cost}",
                 f"{sil} {loop} {sil_phone} 0 0"]
    else:
        start = loop = 0
        nxt, nosil_cost = 1, 0.0
    for word, prob, phones in prons:
        cur, cost = loop, -math.log(prob)
        for i, phone in enumerate(phones[:-1]):
            arcs.append(f"{cur} {nxt} {phone} {word if i == 0 else 0} {cost if i == 0 else 0}")
            cur, nxt = nxt, nxt + 1
        out, last_cost = (word, cost) if len(phones) == 1 else (0, 0.0)
        arcs.append(f"{cur} {loop} {phones[-1]} {out} {last_cost + nosil_cost}")
        if sil_prob > 0.0:
            arcs.append(f"{cur} {sil} {phones[-1]} {out} {last_cost + sil_cost}")
    arcs.append(f"{loop} 0")
    return "\n".join(arcs) + "\n"


def _write_symbols(path: Path, names: List[str]) -> None:
    write_text_atomic(path, "".join(f"{n} {i}\n" for i, n in enumerate(names)))


def _write_phone_list(phones_dir: Path, name: str, phones: List[str], ids: Dict[str, int]) -> None:
    write_text_atomic(phones_dir / f"{name}.txt", "".join(f"{p}\n" for p in phones))
    write_text_atomic(phones_dir / f"{name}.int", "".join(f"{ids[p]}\n" for p in phones))
    write_text_atomic(phones_dir / f"{name}.csl", ":".join(str(ids[p]) for p in phones) + "\n")


def _compile_lexicon(path: Path, text: str) -> None:
    fst = kaldifst.compile(text)
    kaldifst.arcsort(fst, sort_type="olabel")
    write_fst(fst, path)


def prepare_lang(dict_dir: PathLike, lang_dir: PathLike, sil_prob: float = 0.5,
                 position_dependent: bool = False, oov_word: Optional[str] = None) -> Lang:
    """Build a lang dir from a dict dir, as Kaldi's utils/prepare_lang.sh.

    Args:
        dict_dir: Kaldi dict dir (lexicon, silence/nonsilence/optional silence phones).
        lang_dir: output directory (created).
        sil_prob: probability of optional silence between words (0 disables it).
        position_dependent: word-position dependent phones (_B/_E/_I/_S), as Kaldi's default.
        oov_word: word that unknown words map to (must be in the lexicon), e.g. '<UNK>'.
    """
    if not 0.0 <= sil_prob < 1.0:
        raise AsrktError(f"--sil-prob must be in [0, 1), got {sil_prob}")
    d = read_dict_dir(dict_dir)
    lexicon = d.lexicon
    if position_dependent:
        lexicon = [LexEntry(e.word, e.prob, _position_phones(e.phones)) for e in lexicon]

        def expand(sets, sil):
            return [([*s] if sil else []) + [p + q for p in s for q in POSITIONS] for s in sets]

        silence_sets, nonsil_sets = expand(d.silence_sets, True), expand(d.nonsilence_sets, False)
        variants = {p: ([p] if p in {x for s in d.silence_sets for x in s} else [])
                    + [p + q for q in POSITIONS] for s in d.silence_sets + d.nonsilence_sets
                    for p in s}
        extra_questions = [[v for p in q for v in variants[p]] for q in d.extra_questions]
        plain_nonsil = [p for s in d.nonsilence_sets for p in s]
        plain_sil = [p for s in d.silence_sets for p in s]
        extra_questions += [[p + q for p in plain_nonsil] for q in POSITIONS]
        extra_questions += [[p + q for p in plain_sil] for q in ("",) + POSITIONS]
    else:
        silence_sets, nonsil_sets = d.silence_sets, d.nonsilence_sets
        extra_questions = [list(q) for q in d.extra_questions]
    words = sorted({e.word for e in lexicon}, key=lambda w: w.encode("utf-8"))
    if oov_word is not None and oov_word not in words:
        raise AsrktError(f"--oov-word '{oov_word}' is not in {Path(dict_dir) / 'lexicon.txt'}")
    disambig_prons, max_disambig = _lexicon_disambig(lexicon)
    disambig = [f"#{k}" for k in range(max_disambig + 2)]
    silence = [p for s in silence_sets for p in s]
    nonsilence = [p for s in nonsil_sets for p in s]
    phone_names = ["<eps>"] + silence + nonsilence + disambig
    pid = {p: i for i, p in enumerate(phone_names)}
    word_names = ["<eps>"] + words + ["#0", "<s>", "</s>"]
    wid = {w: i for i, w in enumerate(word_names)}

    lang_dir = Path(lang_dir)
    phones_dir = lang_dir / "phones"
    phones_dir.mkdir(parents=True, exist_ok=True)
    _write_symbols(lang_dir / "phones.txt", phone_names)
    _write_symbols(lang_dir / "words.txt", word_names)
    write_text_atomic(lang_dir / "topo", make_topo([pid[p] for p in nonsilence],
                                                   [pid[p] for p in silence]))
    opt = d.optional_silence
    _write_phone_list(phones_dir, "silence", silence, pid)
    _write_phone_list(phones_dir, "nonsilence", nonsilence, pid)
    _write_phone_list(phones_dir, "optional_silence", [opt], pid)
    _write_phone_list(phones_dir, "disambig", disambig, pid)
    _write_phone_list(phones_dir, "context_indep", silence, pid)
    write_text_atomic(phones_dir / "sets.txt",
                      "".join(" ".join(s) + "\n" for s in silence_sets + nonsil_sets))
    write_text_atomic(phones_dir / "sets.int", "".join(" ".join(str(pid[p]) for p in s) + "\n"
                                                       for s in silence_sets + nonsil_sets))
    # Tree roots as prepare_lang.sh (share_silence_phones=false): one 'shared split' root per
    # line of sets.txt; silence phones have separate roots and no context (context_indep).
    write_text_atomic(phones_dir / "roots.txt", "".join(
        "shared split " + " ".join(s) + "\n" for s in silence_sets + nonsil_sets))
    write_text_atomic(phones_dir / "roots.int", "".join(
        "shared split " + " ".join(str(pid[p]) for p in s) + "\n"
        for s in silence_sets + nonsil_sets))
    write_text_atomic(phones_dir / "extra_questions.txt",
                      "".join(" ".join(q) + "\n" for q in extra_questions))
    write_text_atomic(phones_dir / "extra_questions.int",
                      "".join(" ".join(str(pid[p]) for p in q) + "\n" for q in extra_questions))
    write_text_atomic(phones_dir / "wdisambig.txt", "#0\n")
    write_text_atomic(phones_dir / "wdisambig_phones.int", f"{pid['#0']}\n")
    write_text_atomic(phones_dir / "wdisambig_words.int", f"{wid['#0']}\n")
    if position_dependent:
        kinds = {"_B": "begin", "_E": "end", "_I": "internal", "_S": "singleton"}
        bare = {p for s in d.silence_sets for p in s}
        lines = [f"{p} {'nonword' if p in bare else kinds[p[-2:]]}" for p in silence + nonsilence]
        write_text_atomic(phones_dir / "word_boundary.txt", "".join(f"{line}\n" for line in lines))
        write_text_atomic(phones_dir / "word_boundary.int", "".join(
            f"{pid[line.split()[0]]} {line.split()[1]}\n" for line in lines))
    if oov_word is not None:
        write_text_atomic(lang_dir / "oov.txt", f"{oov_word}\n")
        write_text_atomic(lang_dir / "oov.int", f"{wid[oov_word]}\n")
    write_text_atomic(lang_dir / "lexiconp.txt", "".join(
        f"{e.word} {e.prob:g} {' '.join(e.phones)}\n" for e in lexicon))
    write_text_atomic(lang_dir / "lexiconp_disambig.txt", "".join(
        f"{e.word} {e.prob:g} {' '.join(p)}\n" for e, p in zip(lexicon, disambig_prons)))
    plain = [(wid[e.word], e.prob, [pid[p] for p in e.phones]) for e in lexicon]
    _compile_lexicon(lang_dir / "L.fst", lexicon_fst_text(plain, sil_prob, pid[opt]))
    with_disambig = [(wid[e.word], e.prob, [pid[p] for p in p_list])
                     for e, p_list in zip(lexicon, disambig_prons)]
    _compile_lexicon_disambig(lang_dir / "L_disambig.fst",
                              lexicon_fst_text(with_disambig, sil_prob, pid[opt]),
                              pid["#0"], wid["#0"])
    return Lang(lang_dir)


def _compile_lexicon_disambig(path: Path, text: str, phone0: int, word0: int) -> None:
    fst = kaldifst.compile(text)
    kaldifst.add_self_loops(fst, isyms=[phone0], osyms=[word0])
    kaldifst.arcsort(fst, sort_type="olabel")
    write_fst(fst, path)


def read_symbol_table(path: Path) -> Dict[str, int]:
    """Read ``name id`` lines (phones.txt, words.txt) with one-line errors."""
    if not path.is_file():
        raise AsrktError(f"{path}: file does not exist")
    table: Dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit():
            raise AsrktError(f"{where(path, lineno)}: expected '<symbol> <integer id>'")
        if fields[0] in table:
            raise AsrktError(f"{where(path, lineno, fields[0])}: duplicate symbol")
        table[fields[0]] = int(fields[1])
    return table


def _read_int_list(path: Path) -> List[int]:
    if not path.is_file():
        raise AsrktError(f"{path}: file does not exist (is this a lang dir made by prepare-lang?)")
    try:
        return [int(x) for x in path.read_text().split()]
    except ValueError:
        raise AsrktError(f"{path}: expected integers") from None


class Lang:
    """A lang dir as written by :func:`prepare_lang` (or Kaldi's prepare_lang.sh).

    Args:
        path: the lang dir.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise AsrktError(f"lang dir '{self.path}' does not exist")

    @cached_property
    def phones(self) -> Dict[str, int]:
        return read_symbol_table(self.path / "phones.txt")

    @cached_property
    def words(self) -> Dict[str, int]:
        return read_symbol_table(self.path / "words.txt")

    @cached_property
    def id2word(self) -> Dict[int, str]:
        return {i: w for w, i in self.words.items()}

    @cached_property
    def id2phone(self) -> Dict[int, str]:
        return {i: p for p, i in self.phones.items()}

    @cached_property
    def topo_text(self) -> str:
        path = self.path / "topo"
        if not path.is_file():
            raise AsrktError(f"{path}: file does not exist")
        return path.read_text()

    @cached_property
    def disambig_phones(self) -> List[int]:
        return _read_int_list(self.path / "phones" / "disambig.int")

    @cached_property
    def silence_phones(self) -> List[int]:
        return _read_int_list(self.path / "phones" / "silence.int")

    @cached_property
    def optional_silence(self) -> int:
        return _read_int_list(self.path / "phones" / "optional_silence.int")[0]

    @cached_property
    def phone_sets(self) -> List[List[int]]:
        path = self.path / "phones" / "sets.int"
        _read_int_list(path)
        return [[int(x) for x in line.split()] for line in path.read_text().splitlines()
                if line.strip()]

    @cached_property
    def oov(self) -> Optional[str]:
        path = self.path / "oov.txt"
        return path.read_text().split()[0] if path.is_file() else None

    @cached_property
    def lexicon(self) -> List[LexEntry]:
        """Pronunciations from ``lexiconp.txt`` (written by prepare-lang)."""
        path = self.path / "lexiconp.txt"
        if not path.is_file():
            raise AsrktError(f"{path}: file does not exist "
                             f"(make the lang dir with 'asrkt prepare-lang')")
        return _read_lexicon(path, True, set(self.phones))

    def base_phone(self, phone_id: int) -> str:
        """Phone name without a word-position suffix (_B/_E/_I/_S)."""
        name = self.id2phone[phone_id]
        if (self.path / "phones" / "word_boundary.int").is_file() and name[-2:] in POSITIONS:
            return name[:-2]
        return name

    def words_to_ids(self, words: List[str], source: str) -> List[int]:
        """Map a transcript to word ids; OOVs map to oov.txt's word, or are an error listing them.

        Args:
            words: the transcript.
            source: where it came from (e.g. 'data/train/text (utt1)') for the message.
        """
        table = self.words
        missing = [w for w in words if w not in table or w in SPECIAL_WORDS]
        if missing and self.oov is None:
            raise AsrktError(f"{source}: word(s) not in {self.path / 'words.txt'}: "
                             f"{' '.join(sorted(set(missing)))} (no oov.txt in the lang dir; "
                             f"use prepare-lang --oov-word)")
        return [table[w] if w in table and w not in SPECIAL_WORDS else table[self.oov]
                for w in words]

    def map_transcripts(self, text: Dict[str, List[str]], source: PathLike) -> Dict[str, List[int]]:
        """Word ids of every transcript; all OOV words are listed in one error (no oov.txt).

        Args:
            text: utterance -> words.
            source: the text file, for messages.
        """
        table = self.words
        oovs: Dict[str, str] = {}
        for utt, words in text.items():
            for w in words:
                if (w not in table or w in SPECIAL_WORDS) and w not in oovs:
                    oovs[w] = utt
        if oovs and self.oov is None:
            listed = ", ".join(f"{w} (first in {u})" for w, u in list(oovs.items())[:20])
            more = f" and {len(oovs) - 20} more" if len(oovs) > 20 else ""
            raise AsrktError(f"{source}: {len(oovs)} word(s) not in {self.path / 'words.txt'}: "
                             f"{listed}{more}; add them to the lexicon "
                             f"or use prepare-lang --oov-word")
        if oovs:
            import logging
            logging.getLogger("asrkt").warning("%s: %d OOV word(s) mapped to %s", source,
                                               len(oovs), self.oov)
        return {utt: self.words_to_ids(words, f"{source} ({utt})") for utt, words in text.items()}
