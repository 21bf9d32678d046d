"""CLI commands for features: make-feats, compute-cmvn."""

from __future__ import annotations

import click

DATA_DIR = click.Path(exists=True, file_okay=False)


@click.command("make-feats")
@click.argument("data_dir", type=DATA_DIR)
@click.argument("feat_dir", type=click.Path(file_okay=False))
@click.option("--type", "feat_type", type=click.Choice(["fbank", "mfcc"]), default=None,
              help="Feature type (default: fbank, or the config file's 'type').")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="YAML with extraction options (Kaldi names: num_mel_bins, frame_shift, ...).")
@click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel jobs; output is identical for any value.")
@click.option("--compress", is_flag=True, help="Store Kaldi-compressed matrices.")
@click.option("--sample-frequency", type=float, default=None,
              help="Resample all audio to this rate (default: keep each file's rate).")
def make_feats_cmd(data_dir, feat_dir, feat_type, config_file, nj, compress, sample_frequency):
    """Extract Kaldi-compatible fbank or MFCC features (as steps/make_fbank.sh, make_mfcc.sh).

    Writes FEAT_DIR/raw_<type>_<data>.<job>.ark/.scp and DATA_DIR/feats.scp and
    DATA_DIR/utt2num_frames. Options use Kaldi's names and defaults (25 ms frames, 10 ms
    shift, 23 mel bins, povey window, dither 1 seeded per utterance); `--config` takes them
    from YAML, flags override the file. The resolved options are saved as
    FEAT_DIR/<type>_<data>.yaml.

    \b
    Usage:   asrkt make-feats [options] DATA_DIR FEAT_DIR
    Example: asrkt make-feats --type mfcc --config conf/mfcc.yaml --nj 2 data/train mfcc
    """
    from pathlib import Path

    from asrkt.data.datadir import DataDir
    from asrkt.feats.extract import FeatConfig, make_feats
    from asrkt.utils.config import resolve_config, save_config
    from asrkt.utils.logs import command_log

    data = DataDir(data_dir)
    config = resolve_config(FeatConfig, config_file,
                            {"type": feat_type, "sample_frequency": sample_frequency})
    with command_log(Path(feat_dir) / "log", f"make_{config.type}_{data.name}"):
        count = make_feats(data, Path(feat_dir), config, nj=nj, compress=compress)
        save_config(config, Path(feat_dir) / f"{config.type}_{data.name}.yaml")
    click.echo(f"{data_dir}: {config.type} features for {count} utterance(s) -> {data_dir}/feats.scp")


@click.command("compute-cmvn")
@click.argument("data_dir", type=DATA_DIR)
@click.option("--cmvn-dir", type=click.Path(file_okay=False), default=None,
              help="Where cmvn_<data>.ark goes (default: DATA_DIR).")
def compute_cmvn_cmd(data_dir, cmvn_dir):
    """Per-speaker CMVN statistics in Kaldi's format (steps/compute_cmvn_stats.sh).

    One 2 x (dim+1) double matrix per speaker: feature sums and frame count, then sums of
    squares. Writes CMVN_DIR/cmvn_<data>.ark and DATA_DIR/cmvn.scp.

    \b
    Usage:   asrkt compute-cmvn [--cmvn-dir DIR] DATA_DIR
    Example: asrkt compute-cmvn data/train
    """
    from asrkt.data.datadir import DataDir
    from asrkt.feats.cmvn import compute_cmvn

    count = compute_cmvn(DataDir(data_dir), cmvn_dir)
    click.echo(f"{data_dir}: CMVN stats for {count} speaker(s) -> {data_dir}/cmvn.scp")


COMMANDS = [make_feats_cmd, compute_cmvn_cmd]
