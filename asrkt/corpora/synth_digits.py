"""A synthetic connected-digits corpus (TIDIGITS / Aurora-2 style) spoken by eSpeak NG.

Each speaker is an eSpeak English accent + voice variant with fixed pitch, pitch range, rate,
word gap and recording level; test speakers use voice variants that no training speaker uses.
Utterances are strings of 1-7 words from ZERO OH ONE .. NINE. Audio is synthesised at 22050 Hz,
resampled to 8 kHz, padded with a little leading/trailing silence, given a faint Gaussian noise
floor (so no frame has zero energy) and written as 16-bit WAV. The test speakers' utterances are
also written with white, pink and babble noise at several SNRs (see :mod:`asrkt.corpora.noise`).

Layout of ``OUT_DIR``::

    config.yaml  summary.yaml  speakers.tsv  .done  log/synth-digits.log
    wav/{train,test_clean,test_<noise>_snr<N>,babble}/<utt>.wav
    data/{train,test_clean,test_<noise>_snr<N>}/{wav.scp,text,utt2spk,spk2utt}
    data/local/dict/{lexicon.txt,nonsilence_phones.txt,silence_phones.txt,optional_silence.txt,
                     extra_questions.txt}
    data/local/lm/{words.txt,unigram.arpa}

Every random choice comes from a generator seeded by (seed, what, utterance id), and every
utterance is synthesised in a freshly forked process (see :mod:`asrkt.corpora.espeak`), so the
same seed gives byte-identical files whatever ``nj`` is. The noisy copies of an utterance share one
noise realisation, scaled per SNR. An interrupted run resumes: finished wavs are kept (they are
written atomically) and a complete corpus with the same config is not generated again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.corpora import espeak
from asrkt.corpora.config import SynthDigitsConfig
from asrkt.corpora.espeak import VoiceSettings
from asrkt.corpora.noise import active_power, add_noise, make_noise
from asrkt.data.datadir import write_data_dir
from asrkt.data.kaldi_files import sort_key
from asrkt.errors import AsrktError
from asrkt.utils.config import check_config, load_config, save_config
from asrkt.utils.fileio import atomic_output, remove_stale_temporaries, write_text_atomic
from asrkt.utils.parallel import run_jobs, split_evenly

logger = logging.getLogger("asrkt.corpora.synth_digits")
PathLike = Union[str, Path]

WORDS = ("ZERO", "OH", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
# CMUdict pronunciations (stress removed): the phone set of the dictionary dir.
LEXICON = {
    "ZERO": "Z IH R OW", "OH": "OW", "ONE": "W AH N", "TWO": "T UW", "THREE": "TH R IY",
    "FOUR": "F AO R", "FIVE": "F AY V", "SIX": "S IH K S", "SEVEN": "S EH V AH N",
    "EIGHT": "EY T", "NINE": "N AY N",
}
SILENCE_WORDS = {"<SIL>": "SIL", "<UNK>": "SPN"}
SILENCE_PHONES = ("SIL", "SPN")
OPTIONAL_SILENCE = "SIL"
# Babble talkers say random sentences made of these (no digit words, so babble is not digits).
BABBLE_VOCABULARY = (
    "the a this that we they you people time year day way thing man woman child world life hand "
    "part place case week company system program question work government number night point "
    "home water room mother area money story fact month lot right study book eye job word "
    "business issue side kind head house service friend father power hour game line end member "
    "law car city community name president team minute idea kid body information back parent "
    "face others level office door health person art war history party result change morning "
    "is was have said make go know take see come think look want give use find tell ask feel "
    "try leave call good new first last long great little own other old big high different "
    "small large next early young important few public bad same able and but or because if"
).split()
BABBLE_UTTS_PER_SPEAKER = 3
BABBLE_WORDS_PER_UTT = 16
PEAK_LIMIT = 0.5        # clean speech peaks stay below -6 dBFS, so 0 dB SNR mixes do not clip
WAV_ROOT, DATA_ROOT = "wav", "data"
DONE_MARKER, CONFIG_FILE, SUMMARY_FILE = ".done", "config.yaml", "summary.yaml"


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: id, role (train/test/babble), voice and recording level."""

    id: str
    role: str
    voice: VoiceSettings
    level_db: float


@dataclass(frozen=True)
class Utterance:
    """One planned recording: Kaldi utterance id (speaker id first), speaker and words."""

    id: str
    speaker: Speaker
    words: Tuple[str, ...]

    @property
    def transcript(self) -> str:
        return " ".join(self.words)


@dataclass
class CorpusPlan:
    """All speakers and utterances, derived from the config alone."""

    speakers: List[Speaker]
    train: List[Utterance]
    test: List[Utterance]
    babble: List[Utterance]


@dataclass
class CorpusSummary:
    """What :func:`generate_corpus` made. ``sets`` maps a data dir name to its counts."""

    out_dir: str
    sets: Dict[str, Dict[str, float]]
    seconds: float = 0.0
    skipped: bool = False

    def describe(self) -> str:
        """A few lines for the console."""
        lines = [f"{'set':<24}{'utts':>6}{'spks':>6}{'minutes':>9}"]
        for name, info in self.sets.items():
            lines.append(f"{name:<24}{int(info['utterances']):>6}{int(info['speakers']):>6}"
                         f"{info['seconds'] / 60:>9.1f}")
        return "\n".join(lines)


def stable_int(*parts: Any) -> int:
    """A 63-bit integer hash of ``parts`` that is the same in every process and Python run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def rng_for(seed: int, *parts: Any) -> np.random.Generator:
    """A generator seeded by the master seed and a description of what it is for."""
    return np.random.default_rng([seed & (2 ** 63 - 1), stable_int(*parts)])


def plan_speakers(config: SynthDigitsConfig) -> List[Speaker]:
    """Speakers in the order test, babble, train, each with a distinct (accent, variant).

    Voice variants are dealt without repetition while they last, so test and babble speakers
    use variants no training speaker uses unless there are more speakers than variants. Test
    speakers come first so that changing the number of training speakers keeps the test sets.

    Args:
        config: the corpus config.
    """
    variants, accents = espeak.list_variants(), espeak.ENGLISH_ACCENTS
    needs_babble = bool("babble" in config.noise_types and config.snrs and config.num_test_speakers)
    roles = ([("tst", "test")] * config.num_test_speakers
             + [("bab", "babble")] * (config.babble_speakers if needs_babble else 0)
             + [("trn", "train")] * config.num_train_speakers)
    if len(roles) > len(variants) * len(accents):
        raise AsrktError(f"at most {len(variants) * len(accents)} speakers can have distinct "
                         f"voices, {len(roles)} requested")
    rng = rng_for(config.seed, "voices")
    order = rng.permutation(len(variants))
    accent_offset = rng.integers(len(accents), size=len(variants))
    width = max(2, len(str(max(config.num_train_speakers, config.num_test_speakers,
                               config.babble_speakers))))
    speakers, counters = [], {}
    for i, (prefix, role) in enumerate(roles):
        counters[prefix] = counters.get(prefix, 0) + 1
        spk_id = f"{prefix}{counters[prefix]:0{width}d}"
        v = int(order[i % len(variants)])
        accent = accents[(int(accent_offset[v]) + i // len(variants)) % len(accents)]
        speakers.append(_draw_speaker(config, spk_id, role, accent, variants[v]))
    return speakers


def _draw_speaker(config: SynthDigitsConfig, spk_id: str, role: str, accent: str,
                  variant: str) -> Speaker:
    """Prosody and level of one speaker (seeded by the speaker id)."""
    rng = rng_for(config.seed, "speaker", spk_id)
    voice = VoiceSettings(
        accent=accent, variant=variant,
        pitch=int(rng.integers(config.pitch[0], config.pitch[1] + 1)),
        pitch_range=int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
        rate=int(rng.integers(config.rate[0], config.rate[1] + 1)),
        word_gap=int(rng.integers(config.word_gap[0], config.word_gap[1] + 1)))
    level = config.level_db + float(rng.uniform(-config.level_spread_db, config.level_spread_db))
    return Speaker(spk_id, role, voice, round(level, 2))


def plan_corpus(config: SynthDigitsConfig) -> CorpusPlan:
    """Speakers and the words of every utterance (no audio).

    Args:
        config: the corpus config.
    """
    speakers = plan_speakers(config)
    plan = CorpusPlan(speakers, [], [], [])
    for spk in speakers:
        count = {"train": config.utts_per_speaker, "test": config.test_utts_per_speaker,
                 "babble": BABBLE_UTTS_PER_SPEAKER}[spk.role]
        width = max(3, len(str(count - 1)))
        for index in range(count):
            utt_id = f"{spk.id}-{index:0{width}d}"
            rng = rng_for(config.seed, "words", utt_id)
            if spk.role == "babble":
                words = tuple(rng.choice(BABBLE_VOCABULARY, size=BABBLE_WORDS_PER_UTT))
            else:
                length = int(rng.integers(config.min_digits, config.max_digits + 1))
                words = tuple(WORDS[int(i)] for i in rng.integers(len(WORDS), size=length))
            getattr(plan, spk.role).append(Utterance(utt_id, spk, tuple(map(str, words))))
    return plan


@contextlib.contextmanager
def _single_thread_torch() -> Iterator[None]:
    """Resample with one torch thread: the float sums, hence the bytes, then do not depend on
    how many threads the process happens to have."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Band-limited resampling with ``torchaudio.functional.resample`` (float64 in and out).

    Args:
        samples: 1-D signal.
        orig_rate: its rate in Hz.
        new_rate: the wanted rate in Hz.
    """
    if orig_rate == new_rate:
        return np.asarray(samples, dtype=np.float64)
    import torch
    import torchaudio.functional

    with _single_thread_torch():
        tensor = torch.from_numpy(np.asarray(samples, dtype=np.float32))
        out = torchaudio.functional.resample(tensor, orig_rate, new_rate)
    return out.numpy().astype(np.float64)


def to_int16(signal: np.ndarray) -> np.ndarray:
    """[-1, 1) floats to 16-bit samples (rounded, clipped)."""
    return np.clip(np.round(signal * 32768.0), -32768, 32767).astype(np.int16)


def render_clean(utt: Utterance, config: SynthDigitsConfig,
                 synth: espeak.SynthesisServer) -> np.ndarray:
    """Synthesise one utterance and post-process it to the corpus format.

    Steps: eSpeak (forked, seeded) -> resample -> scale to the speaker's active level (lower if
    the peak would pass :data:`PEAK_LIMIT`) -> random silence before and after -> noise floor ->
    16 bits.

    Args:
        utt: what to say and who says it.
        config: the corpus config.
        synth: the eSpeak synthesis server.

    Returns:
        int16 samples at ``config.sample_rate``.
    """
    pcm = synth.synthesize(" ".join(w.lower() for w in utt.words), utt.speaker.voice,
                           stable_int(config.seed, "espeak", utt.id) % (2 ** 31))
    speech = resample(pcm / 32768.0, synth.sample_rate, config.sample_rate)
    power = active_power(speech, config.sample_rate)
    if power <= 0.0:
        raise AsrktError(f"eSpeak produced silence for {utt.id} ('{utt.transcript}')")
    gain = 10.0 ** (utt.speaker.level_db / 20.0) / math.sqrt(power)
    gain = min(gain, PEAK_LIMIT / float(np.max(np.abs(speech))))
    rng = rng_for(config.seed, "render", utt.id)
    low, high = config.pad_seconds
    lead, trail = (int(round(s * config.sample_rate)) for s in rng.uniform(low, high, size=2))
    signal = np.concatenate([np.zeros(lead), gain * speech, np.zeros(trail)])
    signal += 10.0 ** (config.noise_floor_db / 20.0) * rng.standard_normal(len(signal))
    return to_int16(signal)


def write_wav(path: PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit mono WAV atomically (a partial file never has the final name).

    Args:
        path: the final file name.
        samples: int16 samples.
        sample_rate: Hz.
    """
    import soundfile

    with atomic_output(path) as tmp:
        soundfile.write(str(tmp), samples, sample_rate, subtype="PCM_16", format="WAV")


def read_wav_int16(path: PathLike) -> np.ndarray:
    """The int16 samples of a mono WAV file."""
    import soundfile

    samples, _ = soundfile.read(str(path), dtype="int16")
    return samples


def _clean_job(job: int, tasks: List[Tuple[Utterance, str, SynthDigitsConfig]],
               tick: Callable[[int], None]) -> Dict[str, int]:
    """Render the clean utterances of one job (existing wavs are kept); returns sample counts.

    Args:
        job: job index (unused; the work depends on the utterances only).
        tasks: (utterance, output wav, config) triples.
        tick: advances the progress bar.
    """
    import soundfile

    lengths = {}
    with contextlib.ExitStack() as stack:
        synth = None
        for utt, path, config in tasks:
            if Path(path).exists():
                lengths[utt.id] = soundfile.info(path).frames
            else:
                if synth is None:
                    synth = stack.enter_context(espeak.SynthesisServer())
                samples = render_clean(utt, config, synth)
                write_wav(path, samples, config.sample_rate)
                lengths[utt.id] = len(samples)
            tick(1)
    return lengths


def noisy_set_name(kind: str, snr: int) -> str:
    """Data/wav directory name of a noisy test set, e.g. ``test_babble_snr10``."""
    return f"test_{kind}_snr{snr}"


def load_babble_streams(paths: Sequence[PathLike], sample_rate: int) -> List[np.ndarray]:
    """Each babble speaker's recordings joined into one stream with unit active power.

    Args:
        paths: babble wavs, grouped by speaker through the ``<speaker>-<index>`` file names.
        sample_rate: Hz.
    """
    by_speaker: Dict[str, List[np.ndarray]] = {}
    for path in sorted(map(Path, paths)):
        speaker = path.stem.rsplit("-", 1)[0]
        by_speaker.setdefault(speaker, []).append(read_wav_int16(path) / 32768.0)
    streams = []
    for speaker in sorted(by_speaker):
        stream = np.concatenate(by_speaker[speaker])
        streams.append(stream / math.sqrt(active_power(stream, sample_rate)))
    return streams


def _noisy_job(job: int, args: Tuple[List[Tuple[Utterance, str, List[Tuple[str, int, str]]]],
                                     SynthDigitsConfig, List[str]],
               tick: Callable[[int], None]) -> int:
    """Write the noisy copies of some test utterances; returns how many files it wrote.

    Args:
        job: job index (unused).
        args: (tasks, config, babble wav paths); a task is (utterance, clean wav,
            [(noise type, SNR, output wav), ...]).
        tick: advances the progress bar.
    """
    tasks, config, babble_paths = args
    streams = load_babble_streams(babble_paths, config.sample_rate) if babble_paths else []
    written = 0
    for utt, clean_path, outputs in tasks:
        todo = [o for o in outputs if not Path(o[2]).exists()]
        clean = read_wav_int16(clean_path) / 32768.0 if todo else None
        noises: Dict[str, np.ndarray] = {}
        for kind, snr, path in todo:
            if kind not in noises:  # one realisation per (utterance, noise type), for all SNRs
                rng = rng_for(config.seed, "noise", kind, utt.id)
                noises[kind] = make_noise(kind, len(clean), rng, streams, config.babble_talkers)
            write_wav(path, to_int16(add_noise(clean, noises[kind], snr, config.sample_rate)),
                      config.sample_rate)
            written += 1
        tick(1)
    return written


def _synthesise_clean(out: Path, plan: CorpusPlan, config: SynthDigitsConfig,
                      nj: int) -> Dict[str, int]:
    """Render train, test and babble utterances in ``nj`` jobs; returns utt -> samples."""
    folders = {"train": "train", "test": "test_clean", "babble": "babble"}
    tasks = [(utt, str(out / WAV_ROOT / folders[role] / f"{utt.id}.wav"), config)
             for role in ("train", "test", "babble") for utt in getattr(plan, role)]
    for folder in folders.values():
        (out / WAV_ROOT / folder).mkdir(parents=True, exist_ok=True)
    lengths: Dict[str, int] = {}
    for part in run_jobs(_clean_job, split_evenly(tasks, nj), len(tasks), "synth-digits clean"):
        lengths.update(part)
    return lengths


def _synthesise_noisy(out: Path, plan: CorpusPlan, config: SynthDigitsConfig, nj: int) -> None:
    """Write every noisy copy of the test utterances in ``nj`` jobs."""
    conditions = [(kind, snr) for kind in config.noise_types for snr in config.snrs]
    if not conditions or not plan.test:
        return
    for kind, snr in conditions:
        (out / WAV_ROOT / noisy_set_name(kind, snr)).mkdir(parents=True, exist_ok=True)
    tasks = [(utt, str(out / WAV_ROOT / "test_clean" / f"{utt.id}.wav"),
              [(kind, snr, str(out / WAV_ROOT / noisy_set_name(kind, snr) / f"{utt.id}.wav"))
               for kind, snr in conditions]) for utt in plan.test]
    babble = ([str(out / WAV_ROOT / "babble" / f"{u.id}.wav") for u in plan.babble]
              if "babble" in config.noise_types else [])
    run_jobs(_noisy_job, [(part, config, babble) for part in split_evenly(tasks, nj)],
             len(tasks), "synth-digits noisy")


def _write_data_dirs(out: Path, plan: CorpusPlan, config: SynthDigitsConfig,
                     lengths: Dict[str, int]) -> Dict[str, Dict[str, float]]:
    """Kaldi data dirs for every set; returns per-set counts and durations."""
    sets = [("train", plan.train)] if plan.train else []
    if plan.test:
        sets.append(("test_clean", plan.test))
        sets += [(noisy_set_name(kind, snr), plan.test)
                 for kind in config.noise_types for snr in config.snrs]
    summary = {}
    for name, utts in sets:
        wav_dir = (out / WAV_ROOT / name).resolve()
        write_data_dir(out / DATA_ROOT / name,
                       wav_scp={u.id: str(wav_dir / f"{u.id}.wav") for u in utts},
                       text={u.id: u.transcript for u in utts},
                       utt2spk={u.id: u.speaker.id for u in utts})
        summary[name] = {"utterances": len(utts),
                         "speakers": len({u.speaker.id for u in utts}),
                         "seconds": round(sum(lengths[u.id] for u in utts) / config.sample_rate, 2)}
    return summary


def write_dict_dir(path: PathLike) -> None:
    """Kaldi dictionary dir (input of prepare_lang): lexicon and phone lists.

    ``<SIL>`` (pronounced SIL) and ``<UNK>`` (SPN, spoken noise) are in the lexicon as in
    Kaldi's egs; either can be prepare_lang's OOV word.

    Args:
        path: the directory, usually ``data/local/dict``.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    entries = {**SILENCE_WORDS, **LEXICON}
    lexicon = "".join(f"{w} {entries[w]}\n" for w in sorted(entries, key=sort_key))
    phones = sorted({p for pron in LEXICON.values() for p in pron.split()})
    write_text_atomic(path / "lexicon.txt", lexicon)
    write_text_atomic(path / "nonsilence_phones.txt", "".join(f"{p}\n" for p in phones))
    write_text_atomic(path / "silence_phones.txt", "".join(f"{p}\n" for p in SILENCE_PHONES))
    write_text_atomic(path / "optional_silence.txt", f"{OPTIONAL_SILENCE}\n")
    write_text_atomic(path / "extra_questions.txt", "")


def write_lm_dir(path: PathLike, train_transcripts: Sequence[Sequence[str]]) -> None:
    """The word list and a unigram ARPA LM (a word loop) estimated on training transcripts.

    Add-one smoothed counts of the 11 words and ``</s>``; with no training data the
    distribution is uniform.

    Args:
        path: the directory, usually ``data/local/lm``.
        train_transcripts: word sequences of the training utterances.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    counts = {w: 1 for w in (*WORDS, "</s>")}
    for words in train_transcripts:
        for word in words:
            counts[word] += 1
        counts["</s>"] += 1
    total = sum(counts.values())
    lines = ["", "\\data\\", f"ngram 1={len(counts) + 1}", "", "\\1-grams:", "-99\t<s>"]
    lines += [f"{math.log10(counts[w] / total):.6f}\t{w}" for w in ("</s>", *sorted(WORDS))]
    write_text_atomic(path / "unigram.arpa", "\n".join(lines + ["", "\\end\\", ""]))
    write_text_atomic(path / "words.txt", "".join(f"{w}\n" for w in sorted(WORDS)))


def _write_speakers(path: Path, speakers: Sequence[Speaker]) -> None:
    """speakers.tsv: the voice of every speaker, for inspection."""
    rows = ["speaker\trole\taccent\tvariant\tpitch\tpitch_range\trate\tword_gap\tlevel_db"]
    for s in sorted(speakers, key=lambda s: s.id):
        v = s.voice
        rows.append(f"{s.id}\t{s.role}\t{v.accent}\t{v.variant}\t{v.pitch}\t{v.pitch_range}\t"
                    f"{v.rate}\t{v.word_gap}\t{s.level_db}")
    write_text_atomic(path, "\n".join(rows) + "\n")


def existing_corpus(out_dir: PathLike, config: SynthDigitsConfig) -> Optional[CorpusSummary]:
    """The finished corpus' summary if ``out_dir`` holds one with this config; else None.

    A corpus made with another config is an error (nothing is deleted); None for an empty
    directory or a partial corpus made with this config (which generation resumes).

    Args:
        out_dir: the corpus directory.
        config: the wanted config.
    """
    import yaml

    out = Path(out_dir)
    if not (out / CONFIG_FILE).exists():
        return None
    if load_config(SynthDigitsConfig, out / CONFIG_FILE) != config:
        raise AsrktError(f"'{out}' holds a synth-digits corpus made with another config "
                         f"(see {out / CONFIG_FILE}); choose another directory or delete it")
    if not (out / DONE_MARKER).exists() or not (out / SUMMARY_FILE).exists():
        logger.info("resuming the unfinished corpus in %s", out)
        return None
    with open(out / SUMMARY_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return CorpusSummary(out_dir=str(out), sets=data.get("sets", {}), skipped=True)


def generate_corpus(out_dir: PathLike, config: Optional[SynthDigitsConfig] = None,
                    nj: int = 1) -> CorpusSummary:
    """Make the corpus in ``out_dir`` (nothing to do if it is already complete).

    Args:
        out_dir: output directory (created); layout in the module docstring.
        config: corpus settings; defaults when None.
        nj: parallel jobs; the output does not depend on it.

    Returns:
        The sets made, with utterance/speaker counts and durations.
    """
    import yaml

    config = config if config is not None else SynthDigitsConfig()
    check_config(config)
    if nj < 1:
        raise AsrktError(f"nj must be >= 1, got {nj}")
    out = Path(out_dir)
    done = existing_corpus(out, config)
    if done is not None:
        logger.info("%s already holds this corpus (%s exists); nothing to do", out, DONE_MARKER)
        return done
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / CONFIG_FILE)
    remove_stale_temporaries(out / WAV_ROOT)  # a resumed run skips the wavs a kill left done
    start = time.time()
    plan = plan_corpus(config)
    lengths = _synthesise_clean(out, plan, config, nj)
    clean_seconds = sum(lengths.values()) / config.sample_rate
    logger.info("synthesised %d utterances (%.1f min) in %.1fs", len(lengths),
                clean_seconds / 60, time.time() - start)
    _synthesise_noisy(out, plan, config, nj)
    sets = _write_data_dirs(out, plan, config, lengths)
    write_dict_dir(out / DATA_ROOT / "local" / "dict")
    write_lm_dir(out / DATA_ROOT / "local" / "lm", [u.words for u in plan.train])
    _write_speakers(out / "speakers.tsv", plan.speakers)
    summary = CorpusSummary(out_dir=str(out), sets=sets, seconds=round(time.time() - start, 1))
    write_text_atomic(out / SUMMARY_FILE, yaml.safe_dump({"sets": sets}, sort_keys=False))
    write_text_atomic(out / DONE_MARKER, "")
    audio = sum(info["seconds"] for info in sets.values())
    logger.info("made %d sets, %.1f min of audio, in %.1fs (%.0fx real time)", len(sets),
                audio / 60, summary.seconds, audio / max(summary.seconds, 1e-9))
    return summary
