"""speechocean762 (Zhang et al. 2021, OpenSLR 101) as Kaldi data dirs for word recognition:
connected read English of 250 non-native speakers (125 train, 125 test), 20 sentences each.

Corpus layout read (as distributed)::

    WAVE/SPEAKER<spk>/<utt>.WAV     16 kHz mono WAV
    train/, test/                   wav.scp (paths relative to the corpus folder), text (upper
                                    case), utt2spk, spk2age, spk2gender (tab or space separated)
    resource/lexicon.txt            <WORD> <TAB> <ARPAbet phones with stress digits>

Written to ``OUT_DIR`` (each file sorted, C locale, written atomically; nothing is written
before every input has been checked)::

    train/, dev/, test/    wav.scp (absolute paths) text utt2spk spk2utt spk2age spk2gender

The dev set is a rule on whole training speakers (:func:`dev_speakers`). The dict
(:func:`write_dict`) is the corpus lexicon normalised (:func:`normalise_pron`) with ``<SIL> SIL``.
The language-model helpers close an ARPA model's vocabulary over the lexicon's words
(:func:`close_vocabulary`) and read ``kaldingram ppl`` reports (:func:`parse_ppl_report`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from asrkt.corpora.speech_commands import in_quarter
from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError, where
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]

SETS = ("train", "test")
SET_FILES = ("wav.scp", "text", "utt2spk", "spk2age", "spk2gender")
LEXICON = Path("resource") / "lexicon.txt"
LAYOUT = ("WAVE/, train/ and test/ (wav.scp text utt2spk spk2age spk2gender), "
          "resource/lexicon.txt")
GET_IT = "the corpus is github.com/jimbozhang/speechocean762 or OpenSLR resource 101"
SILENCE_WORD, SILENCE_PHONE = "<SIL>", "SIL"
DEV_EVERY = 5
AGE_GROUPS = ("child", "teen", "adult")
_VOWEL = re.compile(r"(AA|AE|AH|AO|AW|AY|EH|ER|EY|IH|IY|OW|OY|UH|UW)([012]?)")


def age_group(age: int) -> str:
    """``child`` (up to 12), ``teen`` (13-17) or ``adult`` (18 and over)."""
    return "child" if age <= 12 else "teen" if age <= 17 else "adult"


def dev_speakers(spk2age: Dict[str, int], spk2gender: Dict[str, str],
                 every: int = DEV_EVERY) -> List[str]:
    """The dev speakers: within each (age group, gender) stratum the speakers sorted by id
    (C locale), the 1st, (every+1)th, (2*every+1)th ... of them (ceil(n/every) of a stratum of n,
    so every stratum has at least one dev speaker).

    Args:
        spk2age: speaker -> age in years.
        spk2gender: speaker -> gender (the same speakers).
        every: one in this many speakers of a stratum goes to dev.

    Returns:
        the dev speakers, sorted.
    """
    strata: Dict[Tuple[str, str], List[str]] = {}
    for spk, age in spk2age.items():
        strata.setdefault((age_group(age), spk2gender[spk]), []).append(spk)
    dev = [spk for members in strata.values()
           for i, spk in enumerate(sorted(members, key=str.encode)) if i % every == 0]
    return sorted(dev, key=str.encode)


def normalise_pron(phones: Sequence[str], keep_stress: bool = False) -> List[str]:
    """One pronunciation normalised: without stress digits (``IH1``, ``IH0``, ``IH`` -> ``IH``),
    or with ``keep_stress`` every vowel with one: a vowel written without a digit (the corpus's
    ``IH``/``UH`` before ``AH``, the first half of a centring diphthong) takes the digit of the
    next vowel that has one, 0 when none follows.

    Args:
        phones: ARPAbet symbols as in the corpus lexicon.
        keep_stress: keep (and mend) the stress digits.
    """
    out = []
    for i, p in enumerate(phones):
        match = _VOWEL.fullmatch(p)
        if match is None:
            out.append(p)
        elif not keep_stress:
            out.append(match.group(1))
        elif match.group(2):
            out.append(p)
        else:
            digits = [m.group(2) for m in map(_VOWEL.fullmatch, phones[i + 1:])
                      if m is not None and m.group(2)]
            out.append(match.group(1) + (digits[0] if digits else "0"))
    return out


def read_lexicon(path: PathLike) -> Dict[str, List[List[str]]]:
    """The corpus lexicon: word -> its pronunciations in file order.

    Raises:
        AsrktError: missing file, or a line without a word and at least one phone.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: no lexicon: not a speechocean762 folder "
                         f"(expected {LAYOUT}; {GET_IT})")
    lexicon: Dict[str, List[List[str]]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise AsrktError(f"{where(path, n)}: '{line.strip()}' has no phones "
                             "(a line is WORD PHONE...)")
        lexicon.setdefault(fields[0], []).append(fields[1:])
    if not lexicon:
        raise AsrktError(f"{path}: empty lexicon ({GET_IT})")
    return lexicon


def normalise_lexicon(lexicon: Dict[str, List[List[str]]],
                      keep_stress: bool = False) -> Dict[str, List[List[str]]]:
    """Every pronunciation normalised (:func:`normalise_pron`); a pronunciation equal to an
    earlier one of the same word afterwards is dropped."""
    result: Dict[str, List[List[str]]] = {}
    for word, prons in lexicon.items():
        kept: List[List[str]] = []
        for pron in prons:
            pron = normalise_pron(pron, keep_stress)
            if pron not in kept:
                kept.append(pron)
        result[word] = kept
    return result


def _lines(rows: Iterable[str]) -> str:
    return "".join(r + "\n" for r in sorted(rows, key=str.encode))


def write_dict(lexicon: Dict[str, List[List[str]]], out: PathLike) -> None:
    """A Kaldi dict dir: lexicon.txt (``<SIL> SIL`` and the words), silence_phones.txt and
    optional_silence.txt (SIL), nonsilence_phones.txt (every phone of the lexicon, one line per
    base phone). With stress digits kept, as Kaldi's WSJ/LibriSpeech dicts: the stress variants
    of a vowel share a line (``AH0 AH1 AH2``: one tree root, so the tree splits them only where
    the data supports it) and extra_questions.txt asks about stress (one line per digit, one of
    the phones without one, one of silence).

    Args:
        lexicon: word -> pronunciations (normalised).
        out: the dict dir (created).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"{SILENCE_WORD} {SILENCE_PHONE}"]
    lines += [f"{w} {' '.join(p)}" for w in sorted(lexicon, key=str.encode) for p in lexicon[w]]
    phones = {p for prons in lexicon.values() for pron in prons for p in pron}
    by_base: Dict[str, List[str]] = {}
    by_stress: Dict[str, List[str]] = {}
    for p in sorted(phones, key=str.encode):
        match = _VOWEL.fullmatch(p)
        by_base.setdefault(match.group(1) if match else p, []).append(p)
        by_stress.setdefault(match.group(2) if match else "", []).append(p)
    write_text_atomic(out / "lexicon.txt", "".join(line + "\n" for line in lines))
    write_text_atomic(out / "silence_phones.txt", SILENCE_PHONE + "\n")
    write_text_atomic(out / "optional_silence.txt", SILENCE_PHONE + "\n")
    write_text_atomic(out / "nonsilence_phones.txt", _lines(" ".join(v) for v in by_base.values()))
    questions = out / "extra_questions.txt"
    if len(by_stress) > 1:
        write_text_atomic(questions, _lines([SILENCE_PHONE] + [" ".join(v) for v in
                                                                by_stress.values()]))
    elif questions.exists():
        questions.unlink()


def _read_table(path: Path) -> Dict[str, str]:
    """key -> the rest of the line (one or more fields), for one corpus data file."""
    if not path.is_file():
        raise AsrktError(f"{path}: missing: not a speechocean762 folder (expected {LAYOUT}; "
                         f"{GET_IT})")
    table: Dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split(maxsplit=1)
        if not fields:
            continue
        if len(fields) < 2 or not fields[1].strip():
            raise AsrktError(f"{where(path, n)}: '{line.strip()}' has a key and no value")
        if fields[0] in table:
            raise AsrktError(f"{where(path, n, fields[0])}: key given twice")
        table[fields[0]] = fields[1].strip()
    return table


@dataclass
class CorpusSet:
    """One of the corpus's sets (train or test), checked."""

    wav: Dict[str, Path]       # utterance -> absolute WAV path
    text: Dict[str, str]       # utterance -> upper-case words
    utt2spk: Dict[str, str]
    spk2age: Dict[str, int]
    spk2gender: Dict[str, str]


def _check_wav(path: Path, key: str, scp: Path) -> None:
    import soundfile

    if not path.is_file():
        raise AsrktError(f"{path}: no such WAV ({where(scp, key=key)}); copy the whole corpus "
                         f"({GET_IT})")
    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # libsndfile's errors are RuntimeError/LibsndfileError
        raise AsrktError(f"{path}: unreadable WAV ({' '.join(str(exc).split())}); replace it "
                         f"with the corpus's file ({GET_IT})") from None
    if info.frames <= 0:
        raise AsrktError(f"{path}: WAV without samples; replace it with the corpus's file "
                         f"({GET_IT})")


def read_set(root: PathLike, name: str, words: Set[str]) -> CorpusSet:
    """Read and check one set: every utterance has a WAV that libsndfile can open (header only),
    a transcript of lexicon words and a speaker with an age and a gender.

    Args:
        root: the corpus folder.
        name: ``train`` or ``test``.
        words: the lexicon's words.

    Raises:
        AsrktError: one line naming the file and what to do.
    """
    root = Path(root)
    d = root / name
    tables = {f: _read_table(d / f) for f in SET_FILES}
    scp, text, utt2spk = tables["wav.scp"], tables["text"], tables["utt2spk"]
    for f, table in (("text", text), ("utt2spk", utt2spk)):
        missing = sorted(set(scp) - set(table), key=str.encode)
        if missing:
            raise AsrktError(f"{d / f}: no line for utterance {missing[0]} of {d / 'wav.scp'} "
                             f"({len(missing)} missing); copy the set again ({GET_IT})")
    spk2age: Dict[str, int] = {}
    for spk in sorted(set(utt2spk[u] for u in scp), key=str.encode):
        for f in ("spk2age", "spk2gender"):
            if spk not in tables[f]:
                raise AsrktError(f"{d / f}: no line for speaker {spk}; copy the set again "
                                 f"({GET_IT})")
        age = tables["spk2age"][spk]
        if not age.isdigit():
            raise AsrktError(f"{where(d / 'spk2age', key=spk)}: age '{age}' is not a number")
        spk2age[spk] = int(age)
    wav = {}
    for utt, rel in scp.items():
        if len(rel.split()) != 1:
            raise AsrktError(f"{where(d / 'wav.scp', key=utt)}: expected one relative WAV path, "
                             f"got '{rel}'")
        path = (root / rel).resolve()
        _check_wav(path, utt, d / "wav.scp")
        wav[utt] = path
        for w in text[utt].split():
            if w not in words:
                raise AsrktError(f"{where(d / 'text', key=utt)}: word '{w}' is not in "
                                 f"{root / LEXICON}; add it with its pronunciation or drop the "
                                 "utterance")
    return CorpusSet(wav=wav, text={u: " ".join(text[u].split()) for u in scp},
                     utt2spk={u: utt2spk[u] for u in scp}, spk2age=spk2age,
                     spk2gender={s: tables["spk2gender"][s] for s in spk2age})


def check_layout(root: PathLike) -> None:
    """Raise a one-line error when ``root`` lacks WAVE/, train/, test/ or the lexicon."""
    root = Path(root)
    if not root.is_dir():
        raise AsrktError(f"{root}: no such folder ({GET_IT})")
    for sub in ("WAVE", *SETS):
        if not (root / sub).is_dir():
            raise AsrktError(f"{root}: no {sub}/: not a speechocean762 folder (expected {LAYOUT}; "
                             f"{GET_IT})")
    if not (root / LEXICON).is_file():
        raise AsrktError(f"{root}: no {LEXICON}: not a speechocean762 folder (expected {LAYOUT}; "
                         f"{GET_IT})")


def write_data_dir(corpus_set: CorpusSet, speakers: Set[str], out: PathLike) -> Dict[str, int]:
    """The data files of ``speakers``' utterances in ``out``; {"utterances": n, "speakers": n,
    "<age group>/<gender>": speakers of that stratum}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    utts = [u for u in corpus_set.wav if corpus_set.utt2spk[u] in speakers]
    spk2utt: Dict[str, List[str]] = {}
    for u in sorted(utts, key=str.encode):
        spk2utt.setdefault(corpus_set.utt2spk[u], []).append(u)
    write_text_atomic(out / "wav.scp", _lines(f"{u} {corpus_set.wav[u]}" for u in utts))
    write_text_atomic(out / "text", _lines(f"{u} {corpus_set.text[u]}" for u in utts))
    write_text_atomic(out / "utt2spk", _lines(f"{u} {corpus_set.utt2spk[u]}" for u in utts))
    write_text_atomic(out / "spk2utt", _lines(f"{s} {' '.join(us)}" for s, us in spk2utt.items()))
    write_text_atomic(out / "spk2age", _lines(f"{s} {corpus_set.spk2age[s]}" for s in spk2utt))
    write_text_atomic(out / "spk2gender",
                      _lines(f"{s} {corpus_set.spk2gender[s]}" for s in spk2utt))
    strata = Counter(f"{age_group(corpus_set.spk2age[s])}/{corpus_set.spk2gender[s]}"
                     for s in spk2utt)
    return {"utterances": len(utts), "speakers": len(spk2utt),
            **{k: strata[k] for k in sorted(strata)}}


def prepare_data(root: PathLike, out: PathLike) -> Dict[str, Dict[str, int]]:
    """Check the corpus, then write OUT/{train,dev,test} (module docstring).

    Args:
        root: the corpus folder.
        out: the output folder (a recipe's data/).

    Returns:
        set name -> {"utterances": n, "speakers": n, "<age group>/<gender>": n}.
    """
    check_layout(root)
    words = set(read_lexicon(Path(root) / LEXICON))
    sets = {name: read_set(root, name, words) for name in SETS}
    train, test = sets["train"], sets["test"]
    shared = set(train.spk2age) & set(test.spk2age)
    if shared:
        raise AsrktError(f"{Path(root) / 'test' / 'utt2spk'}: speaker {sorted(shared)[0]} is also "
                         "a training speaker; the corpus's sets are speaker-disjoint")
    dev = set(dev_speakers(train.spk2age, train.spk2gender))
    if dev == set(train.spk2age):
        raise AsrktError(f"{Path(root) / 'train'}: too few training speakers "
                         f"({len(dev)}) to hold out a dev set and keep any for training")
    return {"train": write_data_dir(train, set(train.spk2age) - dev, Path(out) / "train"),
            "dev": write_data_dir(train, dev, Path(out) / "dev"),
            "test": write_data_dir(test, set(test.spk2age), Path(out) / "test")}


def write_quarter_list(data_dir: PathLike, out: PathLike) -> Tuple[int, int]:
    """The limited-data condition's utterance list: the utterances of ``data_dir`` (its utt2spk)
    that :func:`asrkt.corpora.speech_commands.in_quarter` keeps (the first 8 hex digits of the
    SHA-1 of the id are 0 mod 4: the rule of recipes/speech_commands' train_quarter.list), one a
    line, sorted (C locale), written atomically.

    Returns:
        (utterances kept, utterances of the data dir).
    """
    utts = list(read_map(Path(data_dir) / "utt2spk"))
    kept = [u for u in utts if in_quarter(u)]
    if not kept:
        raise AsrktError(f"{Path(data_dir) / 'utt2spk'}: none of its {len(utts)} utterances is in "
                         "the quarter subset; too few to train on")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, _lines(kept))
    return len(kept), len(utts)


# ---------------------------------------------------------------- language model


def unseen_mass(sentences: Iterable[str]) -> float:
    """The Good-Turing estimate of the probability of a word unseen in ``sentences``: the number
    of word types seen once over the number of word tokens (1 over the tokens when none is seen
    once)."""
    counts = Counter(w for s in sentences for w in s.split())
    tokens = sum(counts.values())
    if tokens == 0:
        raise AsrktError("no words in the LM training text")
    return max(1, sum(1 for c in counts.values() if c == 1)) / tokens


NGram = Tuple[str, ...]
ZERO_LOGPROB = -98.0  # kaldingram writes a probability of 0 as log10(1e-99)


def parse_arpa(arpa: str) -> List[Dict[NGram, List[Optional[float]]]]:
    """An ARPA back-off model: one dict per order, n-gram -> [log10 prob, log10 back-off or
    None], in file order.

    Raises:
        AsrktError: a section or line that does not fit the format.
    """
    model: List[Dict[NGram, List[Optional[float]]]] = []
    order = 0
    for n, line in enumerate(arpa.splitlines(), 1):
        line = line.strip()
        match = re.fullmatch(r"\\(\d+)-grams:", line)
        if match:
            order = int(match.group(1))
            if order != len(model) + 1:
                raise AsrktError(f"ARPA line {n}: section {line} out of order")
            model.append({})
            continue
        if not line or line.startswith("\\") or order == 0:
            if line == "\\end\\":
                order = 0
            continue
        fields = line.split()
        if len(fields) not in (order + 1, order + 2):
            raise AsrktError(f"ARPA line {n}: a {order}-gram line needs 'logprob w1..w{order} "
                             f"[backoff]', got '{line}'")
        try:
            values = [float(fields[0]), float(fields[-1]) if len(fields) == order + 2 else None]
        except ValueError:
            raise AsrktError(f"ARPA line {n}: '{line}' has a number that is not one") from None
        model[-1][tuple(fields[1:order + 1])] = values
    if not model:
        raise AsrktError("ARPA text without a \\1-grams: section")
    return model


def format_arpa(model: List[Dict[NGram, List[Optional[float]]]]) -> str:
    """ARPA text of a model as :func:`parse_arpa` returns it."""
    out = ["\\data\\"] + [f"ngram {k + 1}={len(m)}" for k, m in enumerate(model)] + [""]
    for k, m in enumerate(model):
        out.append(f"\\{k + 1}-grams:")
        for ngram, (logp, bow) in m.items():
            line = f"{logp:.7f}\t{' '.join(ngram)}"
            out.append(line if bow is None else f"{line}\t{bow:.7f}")
        out.append("")
    return "\n".join(out + ["\\end\\"]) + "\n"


def _logprob(model: List[Dict[NGram, List[Optional[float]]]], ngram: NGram) -> float:
    """log10 P(ngram[-1] | ngram[:-1]) of a back-off model."""
    entry = model[len(ngram) - 1].get(ngram)
    if entry is not None:
        return entry[0]
    if len(ngram) == 1:
        raise AsrktError(f"word '{ngram[0]}' is not in the model")
    history = model[len(ngram) - 2].get(ngram[:-1])
    bow = history[1] if history is not None and history[1] is not None else 0.0
    return bow + _logprob(model, ngram[1:])


def close_vocabulary(arpa: str, vocabulary: Set[str], mass: float) -> Tuple[str, List[str]]:
    """An ARPA back-off model whose unigrams are the whole ``vocabulary``: the words of the
    vocabulary the model lacks (zerotons) share ``mass`` equally and the model's unigram
    probabilities are scaled by 1 - ``mass``. An n-gram of probability 0 (kaldingram's -99: a
    discount of 1 on tiny data) is treated as absent: dropped, or, when it is the history of a
    longer n-gram, given its back-off probability. Every back-off weight is then recomputed,
    lowest order first, so each history's distribution sums to one.

    Args:
        arpa: the ARPA text (orders 1..N).
        vocabulary: the closed vocabulary (the lexicon's words, without <s>, </s>).
        mass: the zerotons' total probability, in (0, 1) (unused without zerotons).

    Returns:
        the ARPA text (``arpa`` itself when nothing changes) and the zerotons added (sorted).

    Raises:
        AsrktError: a word of the model is not in the vocabulary, or the ARPA text is malformed.
    """
    model = parse_arpa(arpa)
    words = {w for ngram in model[0] for w in ngram} - {"<s>", "</s>"}
    extra = sorted(words - vocabulary, key=str.encode)
    if extra:
        raise AsrktError(f"the LM has {len(extra)} word(s) outside the lexicon, e.g. '{extra[0]}'")
    zero = {ngram for m in model for ngram, (logp, _) in m.items()
            if logp <= ZERO_LOGPROB and ngram != ("<s>",)}
    zerotons = sorted((vocabulary - words) | {g[0] for g in zero if len(g) == 1},
                      key=str.encode)
    if not zerotons and not zero:
        return arpa, []
    if zerotons and not 0 < mass < 1:
        raise AsrktError(f"the zerotons' probability mass must be in (0, 1), not {mass}")
    scale = math.log10(1 - mass) if zerotons else 0.0
    unigrams: Dict[NGram, List[Optional[float]]] = {}
    for ngram, (logp, bow) in model[0].items():
        if ngram not in zero:
            unigrams[ngram] = [logp + scale if ngram != ("<s>",) else logp, bow]
    for w in zerotons:
        unigrams[(w,)] = [math.log10(mass / len(zerotons)), None]
    model[0] = unigrams
    for k in range(1, len(model)):           # histories of length k, their (k+1)-grams
        children: Dict[NGram, List[NGram]] = {}
        for ngram in model[k]:
            children.setdefault(ngram[:-1], []).append(ngram)
        for history, entry in model[k - 1].items():
            kids = children.get(history)
            if not kids:
                entry[1] = None
                continue
            kept = [g for g in kids if g not in zero]
            left = 1 - sum(10 ** model[k][g][0] for g in kept)
            below = 1 - sum(10 ** _logprob(model, g[1:]) for g in kept)
            if left <= 0 or below <= 0:
                raise AsrktError(f"ARPA history '{' '.join(history)}' leaves no probability "
                                 "to back off with")
            entry[1] = math.log10(left / below)
            for g in kids:
                if g in zero:
                    model[k][g][0] = entry[1] + _logprob(model, g[1:])
    for k in range(1, len(model)):           # zero n-grams that are no history: dropped
        histories = {g[:-1] for g in model[k + 1]} if k + 1 < len(model) else set()
        for g in [g for g in model[k] if g in zero and g not in histories]:
            del model[k][g]
    return format_arpa(model), zerotons


@dataclass(frozen=True)
class Perplexity:
    """A ``kaldingram ppl`` report: sentences, words, OOVs (words not in the model), sentences
    not scored (zeroprobs), perplexity with </s> (SRILM's ppl)."""

    sentences: int
    words: int
    oovs: int
    zeroprobs: int
    ppl: float


_PPL_FILE = re.compile(r"file .*: (\d+) sentences, (\d+) words, (\d+) OOVs")
_PPL_LINE = re.compile(r"(\d+) zeroprobs, logprob= \S+ ppl= (\S+) ppl1= \S+")


def parse_ppl_report(text: str, source: str = "kaldingram ppl output") -> Perplexity:
    """Read the two lines ``kaldingram ppl`` prints."""
    first = _PPL_FILE.search(text)
    second = _PPL_LINE.search(text)
    if first is None or second is None:
        raise AsrktError(f"{source}: not a kaldingram ppl report (expected 'file ...: N sentences, "
                         "N words, N OOVs' and 'N zeroprobs, logprob= ... ppl= ...')")
    return Perplexity(int(first.group(1)), int(first.group(2)), int(first.group(3)),
                      int(second.group(1)), float(second.group(2)))


def choose_order(dev_ppl: Dict[int, float], decimals: int = 2) -> int:
    """The n-gram order with the lowest dev perplexity rounded to ``decimals`` (as the table
    prints it); a tie goes to the lower order."""
    if not dev_ppl:
        raise AsrktError("no dev perplexities to choose an order from")
    return min(dev_ppl, key=lambda n: (round(dev_ppl[n], decimals), n))


def unseen_rate(sentences: Iterable[str], seen: Set[str]) -> Tuple[int, int]:
    """(tokens of ``sentences`` not in ``seen``, all tokens)."""
    tokens = [w for s in sentences for w in s.split()]
    return sum(1 for w in tokens if w not in seen), len(tokens)


def read_text_file(path: PathLike) -> Dict[str, str]:
    """A data dir's text file: utterance -> words."""
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: no such text file (run stage 0 first)")
    result: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split(maxsplit=1)
        if fields:
            result[fields[0]] = fields[1] if len(fields) > 1 else ""
    return result


def lexicon_words(dict_dir: PathLike, exclude: Optional[Set[str]] = None) -> Set[str]:
    """The words of a dict dir's lexicon.txt, without <SIL> (and ``exclude``)."""
    path = Path(dict_dir) / "lexicon.txt"
    if not path.is_file():
        raise AsrktError(f"{path}: no lexicon (run stage 1 first)")
    words = {line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()}
    return words - {SILENCE_WORD} - (exclude or set())
