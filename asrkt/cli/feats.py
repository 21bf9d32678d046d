"""CLI commands for features: make-feats, compute-cmvn."""

from __future__ import annotations

import click

from asrkt.feats.config import FeatConfig
from asrkt.utils.config import config_options

DATA_DIR = click.Path(exists=True, file_okay=False)


@click.command("make-feats")
@click.argument("data_dir", type=DATA_DIR)
@click.argument("feat_dir", type=click.Path(file_okay=False))
@config_options(FeatConfig)
@click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel jobs; output is identical for any value.")
@click.option("--compress", is_flag=True, help="Store Kaldi-compressed matrices.")
@click.option("--also", "also", type=DATA_DIR, multiple=True, metavar="DATA_DIR",
              help="Another data dir to extract, after the first, into the same FEAT_DIR with "
                   "the same options (repeatable): one process, so the libraries load once.")
def make_feats_cmd(data_dir, feat_dir, config, nj, compress, also):
    """Extract Kaldi-compatible fbank or MFCC features (as steps/make_fbank.sh, make_mfcc.sh).

    Writes FEAT_DIR/raw_<type>_<data>.<job>.ark/.scp and DATA_DIR/feats.scp and
    DATA_DIR/utt2num_frames. Options use the names and defaults of Kaldi's
    compute-fbank-feats/compute-mfcc-feats (--dither, --num-mel-bins, ...; dither is seeded per
    utterance); `--config` takes them from YAML, flags override the file. The resolved options
    are saved as FEAT_DIR/<type>_<data>.yaml. Every --also data dir is checked before the first
    is extracted and must have a name of its own (the archives are named after it).

    \b
    Usage:   asrkt make-feats [options] DATA_DIR FEAT_DIR
    Example: asrkt make-feats --type mfcc --config conf/mfcc.yaml --nj 2 data/train mfcc
    Several: asrkt make-feats --config conf/mfcc.yaml --also data/dev --also data/test \\
                 data/train mfcc
    """
    from pathlib import Path

    from asrkt.data.datadir import DataDir
    from asrkt.errors import AsrktError
    from asrkt.feats.extract import make_feats
    from asrkt.utils.config import save_config
    from asrkt.utils.logs import command_log

    datas = [(d, DataDir(d)) for d in (data_dir, *also)]
    names = [data.name for _, data in datas]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise AsrktError(f"make-feats: {datas[names.index(name)][0]} and {datas[i][0]} "
                             f"would both write {feat_dir}/raw_{config.type}_{name}.*: extract "
                             f"data dirs of the same name in separate FEAT_DIRs")
    for path, data in datas:
        with command_log(Path(feat_dir) / "log", f"make_{config.type}_{data.name}"):
            count = make_feats(data, Path(feat_dir), config, nj=nj, compress=compress)
            save_config(config, Path(feat_dir) / f"{config.type}_{data.name}.yaml")
        click.echo(f"{path}: {config.type} features for {count} utterance(s) "
                   f"-> {path}/feats.scp")


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
