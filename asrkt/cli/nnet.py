"""CLI commands: nnet (see the module docstring of asrkt.cli.main for conventions).

pretrain-rbm -> train-teacher -> dump-posteriors -> kt-pretrain -> finetune -> forward.
Training commands take their hyperparameters as defaults < --config YAML < flags; the resolved
config is saved in EXP_DIR/config.yaml.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import click

_DIR = click.Path(file_okay=False)
_EXISTING = click.Path(exists=True)


def _flags(config_cls, values: Dict[str, Any]) -> Dict[str, Any]:
    """The given (non-None) options that are fields of ``config_cls``."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls)}
    return {k: v for k, v in values.items() if k in names and v is not None}


def _common(func: Callable) -> Callable:
    """--config, --device, --seed, --resume, feature and memory options."""
    options = [
        click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
                     help="YAML file of options (flags override it; unknown keys are errors)."),
        click.option("--device", help="auto (CUDA if available, else CPU), cpu, cuda, cuda:N."),
        click.option("--seed", type=int, help="Random seed (default 777)."),
        click.option("--num-threads", type=int,
                     help="CPU threads (default 0: one per core; 1 helps on a busy machine)."),
        click.option("--resume", is_flag=True,
                     help="Continue from the last checkpoint in EXP_DIR (same config)."),
        click.option("--cmvn", type=click.Choice(["speaker", "utterance", "none"]),
                     help="CMVN of a new feature pipeline (default speaker; needs cmvn.scp)."),
        click.option("--delta-order", type=int, help="Add deltas up to this order (default 0)."),
        click.option("--buffer-frames", type=int,
                     help="Read the data in shuffled blocks of this many frames, the next in "
                          "the background (0: automatic, in memory when it fits "
                          "--max-memory-mb)."),
        click.option("--max-memory-mb", type=int,
                     help="Memory the training data may take with --buffer-frames 0 "
                          "(default 4096)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _training(func: Callable) -> Callable:
    """Options shared by train-teacher, kt-pretrain and finetune."""
    options = [
        click.option("--model", "--student", "model",
                     help="Architecture: dnn, lstm (LSTMP), blstm, gru, bgru, rnn, brnn."),
        click.option("--num-layers", type=int, help="Hidden/recurrent layers."),
        click.option("--hidden-dim", type=int, help="Units per layer (LSTM cells)."),
        click.option("--proj-dim", type=int, help="LSTM projection size (0: none)."),
        click.option("--splice", type=int, help="Context frames each side at the input."),
        click.option("--target-delay", type=int, help="Output delay of unidirectional RNNs."),
        click.option("--learning-rate", type=float, help="Initial learning rate."),
        click.option("--optimizer", type=click.Choice(["sgd", "adam"])),
        click.option("--max-epochs", type=int, help="Maximum epochs (newbob may stop earlier)."),
        click.option("--batch-size", type=int, help="Frames per minibatch (frame models)."),
        click.option("--num-streams", type=int, help="Streams per minibatch (RNNs)."),
        click.option("--chunk-len", type=int, help="BPTT chunk length in frames (RNNs)."),
        click.option("--grad-clip", type=float, help="Gradient norm clipping (0: off)."),
        click.option("--dropout", type=float,
                     help="Dropout after each DNN hidden layer while training (0: off)."),
        click.option("--freq-mask", type=int,
                     help="Zero one random band of up to N channels per training example "
                          "(SpecAugment frequency masking; 0: off)."),
        click.option("--cv-data", type=_EXISTING,
                     help="CV data dir (default: hold out cv_fraction of the utterances)."),
    ]
    for option in reversed(options):
        func = option(func)
    return _common(func)


@click.command("pretrain-rbm")
@click.argument("data_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@click.option("--nn-depth", type=int, help="Number of RBMs (default 6).")
@click.option("--hid-dim", type=int, help="Hidden units per RBM (default 1024).")
@click.option("--rbm-iter", type=int,
              help="Epochs per Bernoulli RBM; the Gaussian one gets 2x (default 1).")
@click.option("--splice", type=int, help="Context frames each side (default 5).")
@click.option("--batch-size", type=int, help="Frames per CD-1 minibatch (default 100).")
@_common
def pretrain_rbm(data_dir, exp_dir, config_file, resume, **options):
    """Pre-train a DBN of stacked RBMs with CD-1 (Kaldi pretrain_dbn.sh).

    The first RBM is Gaussian-Bernoulli on spliced, globally normalised features, the rest
    Bernoulli-Bernoulli. Writes EXP_DIR/final.pt for `train-teacher --dbn`.

    \b
    Usage:   asrkt pretrain-rbm [options] DATA_DIR EXP_DIR
    Example: asrkt pretrain-rbm --nn-depth 4 --hid-dim 512 --rbm-iter 2 data/train exp/dbn
    """
    from asrkt.nnet.config import RBMConfig
    from asrkt.nnet.dbn import pretrain_rbm as run
    from asrkt.utils.config import resolve_config

    config = resolve_config(RBMConfig, config_file, _flags(RBMConfig, options))
    run(config, data_dir, exp_dir, resume)


@click.command("train-teacher")
@click.argument("data_dir", type=_EXISTING)
@click.argument("ali_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@click.option("--dbn", type=_EXISTING, help="Initialise hidden layers from this DBN.")
@_training
def train_teacher(data_dir, ali_dir, exp_dir, dbn, cv_data, config_file, resume, **options):
    """Train the DNN teacher: cross-entropy on pdf targets, newbob schedule.

    ALI_DIR holds pdf.scp (pdf-id alignments) and pdf_counts. Without --dbn the sigmoid MLP
    is randomly initialised.

    \b
    Usage:   asrkt train-teacher [options] DATA_DIR ALI_DIR EXP_DIR
    Example: asrkt train-teacher --dbn exp/dbn data/train exp/mono_ali exp/dnn
    """
    from asrkt.nnet.config import TeacherConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from asrkt.utils.config import resolve_config

    config = resolve_config(TeacherConfig, config_file, _flags(TeacherConfig, options))
    train_supervised("train-teacher", config, data_dir, exp_dir, LossSpec(1.0, 0.0, 1.0),
                     ali_dir=ali_dir, dbn=dbn, cv_data=cv_data, resume=resume)


@click.command("dump-posteriors")
@click.argument("teacher_dir", type=_EXISTING)
@click.argument("data_dir", type=_EXISTING)
@click.argument("post_dir", type=_DIR)
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help="Softmax temperature T of the soft targets.")
@click.option("--top-k", type=int, default=None,
              help="Keep the k largest posteriors per frame, renormalised, as a sparse Kaldi "
                   "Posterior table (5 + 10k bytes per frame).")
@click.option("--dense", is_flag=True,
              help="With --top-k: dense matrices (zeros outside the top k) instead.")
@click.option("--compress", is_flag=True,
              help="Kaldi compressed matrices: ~1 byte per value, lossy (rows renormalised).")
@click.option("--device", default="auto", show_default=True)
@click.option("--num-threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="torch intra-op threads (0: torch's default, all cores).")
def dump_posteriors(teacher_dir, data_dir, post_dir, temperature, top_k, dense, compress,
                    device, num_threads):
    """Write the teacher's frame posteriors (soft targets) as Kaldi tables.

    POST_DIR gets post.ark/post.scp, posteriors.yaml and pdf_counts. Dense float32 matrices
    [frames x pdfs]: 1.44 MB x num_pdfs per hour of audio (--compress: ~0.36 MB); with --top-k K
    a Kaldi Posterior table of K (pdf, weight) pairs per frame: 1.8 + 3.6 K MB per hour.

    \b
    Usage:   asrkt dump-posteriors [options] TEACHER_DIR DATA_DIR POST_DIR
    Example: asrkt dump-posteriors --temperature 2 exp/dnn data/train exp/dnn_post
    """
    from asrkt.nnet.config import set_threads
    from asrkt.nnet.inference import dump_posteriors as run

    set_threads(num_threads)
    run(teacher_dir, data_dir, post_dir, temperature, top_k, device, compress, dense)


@click.command("kt-pretrain")
@click.argument("data_dir", type=_EXISTING)
@click.argument("dirs", nargs=-1, required=True, metavar="[POST_DIR] EXP_DIR")
@click.option("--temperature", type=float, help="KT temperature on both sides (default 1).")
@click.option("--teacher", type=_EXISTING,
              help="Run this teacher on the fly for the soft targets (no POST_DIR).")
@click.option("--teacher-top-k", type=int,
              help="With --teacher: keep its k largest posteriors per frame, sparse "
                   "(as dump-posteriors --top-k; default 0: all).")
@_training
def kt_pretrain(data_dir, dirs, teacher, cv_data, config_file, resume, **options):
    """Pre-train a student as a whole on the teacher's soft targets (knowledge transfer).

    Loss: T^2 x cross-entropy of softmax(z/T) against the soft targets re-tempered to T.
    Students: lstm (LSTMP), blstm, gru, bgru, rnn, brnn, dnn. Soft targets come from POST_DIR
    (dump-posteriors) or, with --teacher, from the teacher run while the data is read.

    \b
    Usage:   asrkt kt-pretrain [options] DATA_DIR [POST_DIR] EXP_DIR
    Example: asrkt kt-pretrain --student lstm --temperature 2 data/train exp/dnn_post exp/lstm_kt
    """
    from asrkt.errors import AsrktError
    from asrkt.nnet.config import StudentConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from asrkt.utils.config import resolve_config

    if len(dirs) != (1 if teacher else 2):
        raise AsrktError("expected DATA_DIR EXP_DIR with --teacher, else DATA_DIR POST_DIR "
                         "EXP_DIR")
    post_dir, exp_dir = (None, dirs[0]) if teacher else dirs
    config = resolve_config(StudentConfig, config_file, _flags(StudentConfig, options))
    train_supervised("kt-pretrain", config, data_dir, exp_dir,
                     LossSpec(0.0, 1.0, config.temperature), post_dir=post_dir,
                     cv_data=cv_data, resume=resume, teacher=teacher)


@click.command("finetune")
@click.argument("data_dir", type=_EXISTING)
@click.argument("ali_dir", type=_EXISTING)
@click.argument("exp_dir", type=_DIR)
@click.option("--init", "init", type=_EXISTING,
              help="Start from this model (e.g. the KT-pre-trained student); random init without.")
@click.option("--kt-weight", type=float, help="Weight W of the KT loss: (1-W) CE + W KT.")
@click.option("--post-dir", type=_EXISTING, help="Soft targets for --kt-weight > 0.")
@click.option("--teacher", type=_EXISTING,
              help="With --kt-weight: run this teacher on the fly instead of --post-dir.")
@click.option("--teacher-top-k", type=int,
              help="With --teacher: keep its k largest posteriors per frame (0: all).")
@click.option("--temperature", type=float, help="KT temperature (with --kt-weight).")
@_training
def finetune(data_dir, ali_dir, exp_dir, init, post_dir, teacher, cv_data, config_file, resume,
             **options):
    """Fine-tune (or train from scratch) on hard pdf targets with cross-entropy.

    With --init the architecture and feature pipeline come from that model.

    \b
    Usage:   asrkt finetune [options] DATA_DIR ALI_DIR EXP_DIR
    Example: asrkt finetune --init exp/lstm_kt data/train exp/mono_ali exp/lstm_kt_ft
    """
    from asrkt.errors import AsrktError
    from asrkt.nnet.config import FinetuneConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from asrkt.utils.config import resolve_config

    config = resolve_config(FinetuneConfig, config_file, _flags(FinetuneConfig, options))
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
@click.option("--no-priors", is_flag=True, help="Write log-posteriors (no prior division).")
@click.option("--prior-floor", type=float, default=1e-10, show_default=True)
@click.option("--prior-scale", type=float, default=1.0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--num-threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="torch intra-op threads (0: torch's default, all cores).")
def forward(model, data_dir, out_dir, no_priors, prior_floor, prior_scale, device, num_threads):
    """Write log-likelihoods (log-posterior - log-prior) for hybrid decoding.

    MODEL is a final.pt or its EXP_DIR. OUT_DIR gets loglikes.ark/loglikes.scp, the input to
    `asrkt decode` and Kaldi's latgen-faster-mapped.

    \b
    Usage:   asrkt forward [options] MODEL DATA_DIR OUT_DIR
    Example: asrkt forward exp/lstm_kt_ft data/test exp/lstm_kt_ft/loglikes_test
    """
    from asrkt.nnet.config import set_threads
    from asrkt.nnet.inference import forward as run

    set_threads(num_threads)
    run(model, data_dir, out_dir, not no_priors, prior_floor, prior_scale, device)


@click.command("eval-frames")
@click.argument("model", type=click.Path(exists=True))
@click.argument("data_dir", type=_DIR)
@click.argument("ali_dir", type=_DIR)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the result as JSON to this file.")
@click.option("--length-tolerance", type=click.IntRange(min=0), default=5, show_default=True,
              help="Allowed |alignment frames - feature frames| per utterance.")
@click.option("--device", default="auto", show_default=True)
@click.option("--num-threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="torch intra-op threads (0: torch's default, all cores).")
def eval_frames(model, data_dir, ali_dir, out, length_tolerance, device, num_threads):
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

    set_threads(num_threads)
    r = evaluate_frames(model, data_dir, ali_dir, device, length_tolerance, out=out)
    click.echo(f"{r['model']}: {r['frames']} frames of {r['utterances']} utterances, "
               f"CE {r['ce']:.4f}, frame accuracy {100 * r['frame_acc']:.2f}%")


COMMANDS: list = [pretrain_rbm, train_teacher, dump_posteriors, kt_pretrain, finetune, forward,
                  eval_frames]
