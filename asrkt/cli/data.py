"""CLI commands on Kaldi data directories: validate-data-dir, fix-data-dir, subset-data-dir,
perturb-data-dir, combine-data-dirs."""

from __future__ import annotations

import sys

import click

from asrkt.data.config import NoiseConfig
from asrkt.errors import AsrktError
from asrkt.utils.config import config_options

DATA_DIR = click.Path(exists=True, file_okay=False)


@click.command("validate-data-dir")
@click.argument("data_dir", type=DATA_DIR)
@click.option("--no-text", is_flag=True, help="Do not require a 'text' file.")
@click.option("--no-feats", is_flag=True, help="Do not check feats.scp even if present.")
@click.option("--no-wav", is_flag=True, help="Do not require wav.scp.")
def validate_data_dir_cmd(data_dir, no_text, no_feats, no_wav):
    """Check a Kaldi data directory as utils/validate_data_dir.sh does.

    Unix line ends, sorted unique keys, utt2spk/spk2utt agreement, every utterance with audio,
    text and features, no empty transcripts. Prints one line per problem (file:line (key): what) and
    exits 1 if there are any.

    \b
    Usage:   asrkt validate-data-dir [options] DATA_DIR
    Example: asrkt validate-data-dir data/train
    """
    from pathlib import Path

    from asrkt.data.validate import validate_data_dir

    problems = validate_data_dir(Path(data_dir), no_text=no_text, no_feats=no_feats, no_wav=no_wav)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        click.echo(f"asrkt validate-data-dir: {len(problems)} problem(s) in {data_dir}; "
                   f"'asrkt fix-data-dir {data_dir}' repairs sorting, mismatched keys, spk2utt "
                   f"and Windows line ends", err=True)
        sys.exit(1)
    click.echo(f"{data_dir}: OK")


@click.command("fix-data-dir")
@click.argument("data_dir", type=DATA_DIR)
def fix_data_dir_cmd(data_dir):
    """Repair a data directory as utils/fix_data_dir.sh does.

    Keeps only utterances present in every file, sorts all files, drops duplicate keys (the
    first entry wins) and empty transcripts, regenerates spk2utt from utt2spk, writes Unix line
    ends (drops carriage returns), and reports what it dropped. Originals are kept in
    DATA_DIR/.backup/.

    \b
    Usage:   asrkt fix-data-dir DATA_DIR
    Example: asrkt fix-data-dir data/train
    """
    from pathlib import Path

    from asrkt.data.validate import fix_data_dir

    dropped = fix_data_dir(Path(data_dir))
    for reason, utts in dropped.items():
        shown = " ".join(utts[:10]) + (" ..." if len(utts) > 10 else "")
        click.echo(f"dropped {len(utts)} utterance(s), {reason}: {shown}", err=True)
    click.echo(f"{data_dir}: fixed ({sum(len(v) for v in dropped.values())} utterance(s) dropped)")


@click.command("subset-data-dir")
@click.argument("src_dir", type=DATA_DIR)
@click.argument("dst_dir", type=click.Path(file_okay=False))
@click.option("--utt-list", type=click.Path(exists=True, dir_okay=False),
              help="File with one utterance id per line (first field).")
@click.option("--first", type=int, help="Keep the first N utterances.")
@click.option("--speakers", help="Comma-separated speakers to keep.")
def subset_data_dir_cmd(src_dir, dst_dir, utt_list, first, speakers):
    """Copy part of a data directory (utils/subset_data_dir.sh).

    \b
    Usage:   asrkt subset-data-dir SRC_DIR DST_DIR (--utt-list F | --first N | --speakers A,B)
    Example: asrkt subset-data-dir data/train data/train_100 --first 100
    """
    from pathlib import Path

    from asrkt.data.datadir import DataDir
    from asrkt.data.subset import subset_data_dir

    if sum(x is not None for x in (utt_list, first, speakers)) != 1:
        raise AsrktError("give exactly one of --utt-list, --first, --speakers")
    src = DataDir(src_dir)
    if utt_list:
        with open(utt_list, encoding="utf-8") as handle:
            utts = [line.split()[0] for line in handle if line.strip()]
    elif first is not None:
        utts = src.utterances[:first]
    else:
        wanted = set(speakers.split(","))
        utts = [u for u, s in src.utt2spk.items() if s in wanted]
    if not utts:
        raise AsrktError("the subset is empty")
    subset_data_dir(Path(src_dir), Path(dst_dir), utts)
    click.echo(f"{dst_dir}: {len(utts)} utterance(s)")


@click.command("perturb-data-dir")
@click.argument("src_dir", type=DATA_DIR)
@click.argument("dst_dir", type=click.Path(file_okay=False))
@click.option("--vtln-warp", type=float, default=None,
              help="VTLN warp factor of the copy, e.g. 0.9 or 1.1 (0.5-2, not 1).")
@click.option("--noise-dir", type=DATA_DIR, default=None,
              help="Data dir of noise recordings to mix into the copy (instead of --vtln-warp; "
                   "the options below apply to it).")
@config_options(NoiseConfig)
def perturb_data_dir_cmd(src_dir, dst_dir, vtln_warp, noise_dir, config):
    """Make a VTLN-warped or noisy copy of a data directory (data augmentation).

    With --vtln-warp, the VTLN counterpart of utils/data/perturb_data_dir_speed.sh: utterance,
    speaker and recording ids get the prefix vtlp<WARP>-, DST_DIR/spk2warp makes `asrkt
    make-feats` warp the mel filterbank by WARP. With --noise-dir (as
    steps/data/augment_data_dir.py): ids get the prefix noise<N>-, and DST_DIR/utt2noise (<utt>
    <noise-id> <offset-s> <snr-dB>, drawn uniformly from the seed) with DST_DIR/noise_wav.scp
    make `asrkt make-feats` mix a noise clip into each utterance at that SNR. DST_DIR/utt2uniq
    maps each copy to its original (trainers keep copies of one utterance on the same side of
    the CV split). The frame count does not change. Then: make-feats, combine-data-dirs with the
    original, compute-cmvn; align the combined directory with the GMM (VTLP) or copy the
    originals' alignments with copy-ali (noise).

    \b
    Usage:   asrkt perturb-data-dir (--vtln-warp WARP | --noise-dir DIR [options]) SRC_DIR DST_DIR
    Example: asrkt perturb-data-dir --vtln-warp 0.9 data/train data/train_vtlp0.9
             asrkt perturb-data-dir --noise-dir data/noise --snr-min 0 --snr-max 20 --copy 1 \\
                 data/train data/train_noise1
    """
    if (vtln_warp is None) == (noise_dir is None):
        raise AsrktError("give exactly one of --vtln-warp and --noise-dir")
    if vtln_warp is not None:
        if config != NoiseConfig():
            raise AsrktError("--snr-min, --snr-max, --seed, --copy and --config: only with "
                             "--noise-dir, not with --vtln-warp")
        from asrkt.data.perturb import perturb_vtln

        data = perturb_vtln(src_dir, dst_dir, vtln_warp)
        click.echo(f"{dst_dir}: {len(data.utterances)} utterance(s) with VTLN warp "
                   f"{vtln_warp:g}; next: asrkt make-feats {dst_dir} ...")
        return
    from asrkt.data.perturb import perturb_noise

    data = perturb_noise(src_dir, dst_dir, noise_dir, config)
    click.echo(f"{dst_dir}: {len(data.utterances)} utterance(s) with noise from {noise_dir}; "
               f"next: asrkt make-feats {dst_dir} ...")


@click.command("combine-data-dirs")
@click.argument("dst_dir", type=click.Path(file_okay=False))
@click.argument("src_dirs", nargs=-1, required=True, type=DATA_DIR)
def combine_data_dirs_cmd(dst_dir, src_dirs):
    """Combine data directories into one (utils/combine_data.sh).

    Utterance, speaker and recording ids must be unique across the sources. A file every
    source has is combined (feats.scp, text, segments, ...); utt2uniq, the VTLN warp files and
    the noise files (utt2noise, noise_wav.scp) are combined when any source has them. cmvn.scp
    is kept only when no speaker occurs in two sources (otherwise run compute-cmvn on the
    result).

    \b
    Usage:   asrkt combine-data-dirs DST_DIR SRC_DIR [SRC_DIR ...]
    Example: asrkt combine-data-dirs data/train_vtlp data/train data/train_vtlp0.9 \\
                 data/train_vtlp1.1
    """
    from asrkt.data.combine import combine_data_dirs

    data = combine_data_dirs(dst_dir, src_dirs)
    click.echo(f"{dst_dir}: {len(data.utterances)} utterance(s) from {len(src_dirs)} "
               f"director{'y' if len(src_dirs) == 1 else 'ies'}")


COMMANDS = [validate_data_dir_cmd, fix_data_dir_cmd, subset_data_dir_cmd, perturb_data_dir_cmd,
            combine_data_dirs_cmd]
