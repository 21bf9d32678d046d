"""CLI commands: nnet (see the module docstring of asrkt.cli.main for conventions).

pretrain-rbm -> train-teacher -> dump-posteriors -> kt-pretrain -> finetune -> forward.
Every command takes its settings from its config class in asrkt.nnet.config (options generated
by config_options: defaults < --config YAML < flags); training commands save the resolved
config in EXP_DIR/config.yaml, forward and dump-posteriors in OUT_DIR/POST_DIR/config.yaml.
"""

from __future__ import annotations

import click

from asrkt.nnet.config import (
    EvalConfig,
    FinetuneConfig,
    ForwardConfig,
    PosteriorConfig,
    RBMConfig,
    StudentConfig,
    TeacherConfig,
)
from asrkt.utils.config import config_options

_DIR = click.Path(file_okay=False)
_EXISTING = click.Path(exists=True)
_RESUME = click.option("--resume", is_flag=True,
                       help="Continue from the last checkpoint in EXP_DIR (same config).")
_CV_DATA = click.option("--cv-data", type=_EXISTING,
                        help="CV data dir (default: hold out cv_fraction of the utterances).")


@click.command("pretrain-rbm")
@click.argument("data_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@config_options(RBMConfig)
@_RESUME
def pretrain_rbm(data_dir, exp_dir, config, resume):
    """Pre-train a DBN of stacked RBMs with CD-1 (Kaldi pretrain_dbn.sh).

    The first RBM is Gaussian-Bernoulli on spliced, globally normalised features, the rest
    Bernoulli-Bernoulli. Writes EXP_DIR/final.pt for `train-teacher --dbn`.

    \b
    Usage:   asrkt pretrain-rbm [options] DATA_DIR EXP_DIR
    Example: asrkt pretrain-rbm --nn-depth 4 --hid-dim 512 --rbm-iter 2 data/train exp/dbn
    """
    from asrkt.nnet.dbn import pretrain_rbm as run

    run(config, data_dir, exp_dir, resume)


@click.command("train-teacher")
@click.argument("data_dir", type=_EXISTING)
@click.argument("ali_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@click.option("--dbn", type=_EXISTING, help="Initialise hidden layers from this DBN.")
@config_options(TeacherConfig)
@_CV_DATA
@_RESUME
def train_teacher(data_dir, ali_dir, exp_dir, dbn, config, cv_data, resume):
    """Train the DNN teacher: cross-entropy on pdf targets, newbob schedule.

    ALI_DIR holds pdf.scp (pdf-id alignments) and pdf_counts. Without --dbn the sigmoid MLP
    is randomly initialised.

    \b
    Usage:   asrkt train-teacher [options] DATA_DIR ALI_DIR EXP_DIR
    Example: asrkt train-teacher --dbn exp/dbn data/train exp/mono_ali exp/dnn
    """
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised

    train_supervised("train-teacher", config, data_dir, exp_dir, LossSpec(1.0, 0.0, 1.0),
                     ali_dir=ali_dir, dbn=dbn, cv_data=cv_data, resume=resume)


@click.command("dump-posteriors")
@click.argument("teacher_dir", type=_EXISTING)
@click.argument("data_dir", type=_EXISTING)
@click.argument("post_dir", type=_DIR)
@config_options(PosteriorConfig)
@click.option("--dense", is_flag=True,
              help="With --top-k: dense matrices (zeros outside the top k) instead.")
@click.option("--compress", is_flag=True,
              help="Kaldi compressed matrices: ~1 byte per value, lossy (rows renormalised).")
def dump_posteriors(teacher_dir, data_dir, post_dir, config, dense, compress):
    """Write the teacher's frame posteriors (soft targets) as Kaldi tables.

    POST_DIR gets post.ark/post.scp, posteriors.yaml and pdf_counts. Dense float32 matrices
    [frames x pdfs]: 1.44 MB x num_pdfs per hour of audio (--compress: ~0.36 MB); with --top-k K
    a Kaldi Posterior table of K (pdf, weight) pairs per frame: 1.8 + 3.6 K MB per hour.

    \b
    Usage:   asrkt dump-posteriors [options] TEACHER_DIR DATA_DIR POST_DIR
    Example: asrkt dump-posteriors --temperature 2 exp/dnn data/train exp/dnn_post
    """
    from pathlib import Path

    from asrkt.nnet.config import set_threads
    from asrkt.nnet.inference import dump_posteriors as run
    from asrkt.utils.config import save_config

    set_threads(config.num_threads)
    run(teacher_dir, data_dir, post_dir, config.temperature, config.top_k, config.device,
        compress, dense)
    save_config(config, Path(post_dir) / "config.yaml")


@click.command("kt-pretrain")
@click.argument("data_dir", type=_EXISTING)
@click.argument("dirs", nargs=-1, required=True, metavar="[POST_DIR] EXP_DIR")
@click.option("--teacher", type=_EXISTING,
              help="Run this teacher on the fly for the soft targets (no POST_DIR).")
@config_options(StudentConfig)
@_CV_DATA
@_RESUME
def kt_pretrain(data_dir, dirs, teacher, config, cv_data, resume):
    """Pre-train a student as a whole on the teacher's soft targets (knowledge transfer).

    Loss: T^2 x cross-entropy of softmax(z/T) against the soft targets re-tempered to T.
    Students: lstm (LSTMP), blstm, gru, bgru, rnn, brnn, dnn. Soft targets come from POST_DIR
    (dump-posteriors) or, with --teacher, from the teacher run while the data is read.

    \b
    Usage:   asrkt kt-pretrain [options] DATA_DIR [POST_DIR] EXP_DIR
    Example: asrkt kt-pretrain --student lstm --temperature 2 data/train exp/dnn_post exp/lstm_kt
    """
    from asrkt.errors import AsrktError
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised

    if len(dirs) != (1 if teacher else 2):
        raise AsrktError("expected DATA_DIR EXP_DIR with --teacher, else DATA_DIR POST_DIR "
                         "EXP_DIR")
    post_dir, exp_dir = (None, dirs[0]) if teacher else dirs
    train_supervised("kt-pretrain", config, data_dir, exp_dir,
                     LossSpec(0.0, 1.0, config.temperature), post_dir=post_dir,
                     cv_data=cv_data, resume=resume, teacher=teacher)


@click.command("finetune")
@click.argument("data_dir", type=_EXISTING)
@click.argument("ali_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@click.option("--init", "init", type=_EXISTING,
              help="Start from this model (e.g. the KT-pre-trained student); random init without.")
@click.option("--post-dir", type=_EXISTING, help="Soft targets for --kt-weight > 0.")
@click.option("--teacher", type=_EXISTING,
              help="With --kt-weight: run this teacher on the fly instead of --post-dir.")
@config_options(FinetuneConfig)
@_CV_DATA
@_RESUME
def finetune(data_dir, ali_dir, exp_dir, init, post_dir, teacher, config, cv_data, resume):
    """Fine-tune (or train from scratch) on hard pdf targets with cross-entropy.

    With --init the architecture and feature pipeline come from that model.

    \b
    Usage:   asrkt finetune [options] DATA_DIR ALI_DIR EXP_DIR
    Example: asrkt finetune --init exp/lstm_kt data/train exp/mono_ali exp/lstm_kt_ft
    """
    from asrkt.errors import AsrktError
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised

    if config.kt_weight > 0 and (post_dir is None) == (teacher is None):
        raise AsrktError("--kt-weight > 0 needs soft targets: --post-dir or --teacher (one)")
    loss = LossSpec(1.0 - config.kt_weight, config.kt_weight, config.temperature)
    train_supervised("finetune", config, data_dir, exp_dir, loss, ali_dir=ali_dir,
                     post_dir=post_dir, init=init, cv_data=cv_data, resume=resume,
                     teacher=teacher)


@click.command("forward")
@click.argument("model", type=_EXISTING)
@click.argument("data_dir", type=_EXISTING)
@click.argument("out_dir", type=_DIR)
@config_options(ForwardConfig)
def forward(model, data_dir, out_dir, config):
    """Write log-likelihoods (log-posterior - log-prior) for hybrid decoding.

    MODEL is a final.pt or its EXP_DIR. OUT_DIR gets loglikes.ark/loglikes.scp, the input to
    `asrkt decode` and Kaldi's latgen-faster-mapped.

    \b
    Usage:   asrkt forward [options] MODEL DATA_DIR OUT_DIR
    Example: asrkt forward exp/lstm_kt_ft data/test exp/lstm_kt_ft/loglikes_test
    """
    from pathlib import Path

    from asrkt.nnet.config import set_threads
    from asrkt.nnet.inference import forward as run
    from asrkt.utils.config import save_config

    set_threads(config.num_threads)
    run(model, data_dir, out_dir, config.priors, config.prior_floor, config.prior_scale,
        config.device)
    save_config(config, Path(out_dir) / "config.yaml")


@click.command("eval-frames")
@click.argument("model", type=click.Path(exists=True))
@click.argument("data_dir", type=_DIR)
@click.argument("ali_dir", type=_DIR)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the result as JSON to this file.")
@config_options(EvalConfig)
def eval_frames(model, data_dir, ali_dir, out, config):
    """Frame cross-entropy and accuracy of MODEL on DATA_DIR against ALI_DIR's pdf alignments.

    As Kaldi's nnet-train-frmshuff --cross-validate=true: e.g. how a model trained on some
    speakers does on a held-out one (align that data with the GMM first). Prints one line;
    --out writes JSON.

    \b
    Usage:   asrkt eval-frames [options] MODEL DATA_DIR ALI_DIR
    Example: asrkt eval-frames exp/lstm_ce data/dev exp/mono_ali_dev --out exp/lstm_ce/eval_dev.json
    """
    from asrkt.nnet.config import set_threads
    from asrkt.nnet.evaluate import evaluate_frames

    set_threads(config.num_threads)
    r = evaluate_frames(model, data_dir, ali_dir, config.device, config.length_tolerance,
                        config.max_skip_fraction, out=out)
    click.echo(f"{r['model']}: {r['frames']} frames of {r['utterances']} utterances, "
               f"CE {r['ce']:.4f}, frame accuracy {100 * r['frame_acc']:.2f}%")


COMMANDS: list = [pretrain_rbm, train_teacher, dump_posteriors, kt_pretrain, finetune, forward,
                  eval_frames]
