"""CLI commands: corpora (see the module docstring of asrkt.cli.main for conventions)."""

from __future__ import annotations

from typing import List, Optional

import click

from asrkt.errors import AsrktError


def _int_list(text: Optional[str], option: str) -> Optional[List[int]]:
    """``"20,15,10"`` -> [20, 15, 10]; None stays None (not given); ``""`` is an empty list."""
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise AsrktError(f"{option} expects comma-separated integers, got '{text}'") from None


def _str_list(text: Optional[str]) -> Optional[List[str]]:
    """``"white,pink"`` -> ["white", "pink"]; None stays None; ``""`` is an empty list."""
    if text is None:
        return None
    return [v.strip() for v in text.split(",") if v.strip()]


@click.command("synth-digits")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML file of SynthDigitsConfig fields (flags override it).")
@click.option("--seed", type=int, help="Master seed (default 0); same seed, same bytes.")
@click.option("--num-train-speakers", type=int, help="Training speakers (default 16).")
@click.option("--num-test-speakers", type=int,
              help="Test speakers, voices unseen in training (default 6).")
@click.option("--utts-per-speaker", type=int, help="Training utterances per speaker (default 60).")
@click.option("--test-utts-per-speaker", type=int, help="Test utterances per speaker (default 30).")
@click.option("--snrs", metavar="LIST",
              help="SNRs in dB of the noisy test sets (default 20,15,10,5,0).")
@click.option("--noise-types", metavar="LIST",
              help="Noises of the noisy test sets: white,pink,babble (default all; '' for none).")
@click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel jobs (the output does not depend on it).")
def synth_digits(out_dir: str, config_file: Optional[str], seed: Optional[int],
                 num_train_speakers: Optional[int], num_test_speakers: Optional[int],
                 utts_per_speaker: Optional[int], test_utts_per_speaker: Optional[int],
                 snrs: Optional[str], noise_types: Optional[str], nj: int) -> None:
    """Synthesise the connected-digits demo corpus with eSpeak NG (TIDIGITS/Aurora-2 style).

    Strings of 1-7 words from ZERO OH ONE .. NINE; each speaker is an eSpeak English accent and
    voice variant with its own pitch, rate and level, test voices unseen in training. Writes
    8 kHz 16-bit wavs under OUT_DIR/wav, Kaldi data dirs OUT_DIR/data/train,
    OUT_DIR/data/test_clean and OUT_DIR/data/test_<noise>_snr<N> (white, pink, babble noise),
    a dictionary dir OUT_DIR/data/local/dict and a unigram word-loop ARPA in
    OUT_DIR/data/local/lm. Same seed, same bytes, whatever --nj. Re-running with the same
    settings does nothing; an interrupted run resumes.

    \b
    Usage:   asrkt synth-digits [options] OUT_DIR
    Example: asrkt synth-digits --seed 1 --nj 2 --snrs 20,10,0 corpus/synth_digits
    """
    from pathlib import Path

    from asrkt.corpora.synth_digits import SynthDigitsConfig, existing_corpus, generate_corpus
    from asrkt.utils.config import resolve_config
    from asrkt.utils.logs import command_log

    flags = {"seed": seed, "num_train_speakers": num_train_speakers,
             "num_test_speakers": num_test_speakers, "utts_per_speaker": utts_per_speaker,
             "test_utts_per_speaker": test_utts_per_speaker,
             "snrs": _int_list(snrs, "--snrs"), "noise_types": _str_list(noise_types)}
    config = resolve_config(SynthDigitsConfig, config_file, flags)
    summary = existing_corpus(out_dir, config)  # checked before the log file is replaced
    if summary is not None:
        click.echo(f"{out_dir}: corpus already complete (same config); nothing to do")
    else:
        with command_log(Path(out_dir) / "log", "synth-digits"):
            summary = generate_corpus(out_dir, config, nj=nj)
    click.echo(summary.describe())


COMMANDS: list = [synth_digits]
