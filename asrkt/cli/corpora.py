"""CLI commands: corpora (see the module docstring of asrkt.cli.main for conventions)."""

from __future__ import annotations

from pathlib import Path

import click

from asrkt.corpora.config import SynthDigitsConfig
from asrkt.utils.config import config_options


@click.command("synth-digits")
@click.argument("out_dir", type=click.Path(file_okay=False))
@config_options(SynthDigitsConfig)
@click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel jobs (the output does not depend on it).")
def synth_digits(out_dir: str, config: SynthDigitsConfig, nj: int) -> None:
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
    from asrkt.corpora.synth_digits import CONFIG_FILE, existing_corpus, generate_corpus
    from asrkt.utils.logs import command_log

    summary = existing_corpus(out_dir, config)  # checked before the log file is replaced
    if summary is not None:
        click.echo(f"{out_dir}: corpus already complete (same config); nothing to do")
    else:
        # an unfinished corpus of this config resumes: its first run's log is kept
        resumes = (Path(out_dir) / CONFIG_FILE).is_file()
        with command_log(Path(out_dir) / "log", "synth-digits", append=resumes):
            summary = generate_corpus(out_dir, config, nj=nj)
    click.echo(summary.describe())


COMMANDS: list = [synth_digits]
