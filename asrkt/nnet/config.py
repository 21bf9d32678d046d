"""Configuration dataclasses of the neural commands (defaults < --config YAML < flags).

Each field is declared once with :func:`asrkt.utils.config.option` (default, help, range); the
commands' click options are generated from these classes
(:func:`~asrkt.utils.config.config_options`).
This module imports neither torch nor numpy (torch only inside the functions that need it), so
the CLI can build its options without loading them.

Defaults follow Kaldi nnet1 where it has one (steps/nnet/pretrain_dbn.sh, train.sh,
train_scheduler.sh: newbob, minibatch 256, splice 5, RBM settings). The optimiser default is
Adam (lr 0.001): plain SGD on a randomly initialised deep sigmoid DNN sat on a plateau for
several epochs on FSDD, Adam did not. nnet1's SGD is ``--optimizer sgd --learning-rate 2``
(losses here are minibatch means; nnet1 sums, so its 0.008 at 256 frames is about 2).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Dict, Literal, Mapping, Optional

from asrkt.errors import AsrktError
from asrkt.utils.config import option

if TYPE_CHECKING:
    import torch


def set_threads(num_threads: int) -> None:
    """CPU intra-op threads (0: torch's default, one per core). On a loaded machine 1 thread
    avoids OpenMP oversubscription, which can cost more than the second core gains."""
    import torch

    if num_threads < 0:
        raise AsrktError(f"num_threads must be >= 0, got {num_threads}")
    if num_threads > 0:
        torch.set_num_threads(num_threads)


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; otherwise the named device."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise AsrktError(f"unknown device '{name}' (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AsrktError("device 'cuda' requested but CUDA is not available")
    return device


@dataclass
class ModelSpec:
    """Architecture of an acoustic model (saved as ``spec`` in final.pt).

    The training configs inherit these fields, so a config and the spec built from it
    (:meth:`from_config`) cannot disagree.
    """

    model: str = option("dnn", aliases=("--student",),
                        help="Architecture: dnn, lstm (LSTMP), blstm, gru, bgru, rnn, brnn.")
    num_layers: int = option(4, ge=0, help="Hidden (DNN) or recurrent layers.")
    hidden_dim: int = option(1024, ge=1, help="Units per hidden layer (LSTM: cell dimension).")
    proj_dim: int = option(0, ge=0, help="LSTM projection size (LSTMP; 0: none; other models "
                                         "ignore it).")
    splice: int = option(5, ge=0, help="Context frames each side stacked at the input.")
    target_delay: int = option(0, ge=0, help="Unidirectional recurrent models output frame t's "
                                             "pdf after seeing frame t+delay.")
    dropout: float = option(0.0, ge=0, lt=1, help="Dropout after each DNN hidden layer while "
                                                  "training (0: off; other models ignore it).")

    @property
    def name(self) -> str:
        """The registry name (the ``model`` field)."""
        return self.model

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, config: Any) -> ModelSpec:
        """The spec of a training config (any object with ModelSpec's field names)."""
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelSpec:
        """Read a saved spec; models saved before the field was called ``model`` have ``name``."""
        values = dict(values)
        if "name" in values and "model" not in values:
            values["model"] = values.pop("name")
        return cls(**values)


@dataclass
class FeatureOptions:
    """Feature pipeline of a model trained from scratch (taken from --dbn/--init otherwise)."""

    cmvn: Literal["speaker", "utterance", "none"] = option(
        "speaker", help="CMVN of a new feature pipeline (speaker needs cmvn.scp).")
    norm_vars: bool = option(False, help="Also normalise variances in CMVN.")
    delta_order: int = option(0, ge=0, help="Add deltas up to this order.")
    global_norm: bool = option(True, help="Normalise each input dimension to zero mean, unit "
                                          "variance (statistics of the training data).")


@dataclass
class DeviceOptions:
    """Where a command computes."""

    device: str = option("auto", help="auto (CUDA if available, else CPU), cpu, cuda, cuda:N.")
    num_threads: int = option(0, ge=0, help="CPU threads (0: torch's default, one per core; "
                                            "1 helps on a busy machine).")


@dataclass
class RunOptions(DeviceOptions, FeatureOptions):
    """Where and how reproducibly a training command runs (shared by every training config)."""

    seed: int = option(777, ge=0, lt=2 ** 32, help="Random seed.")
    buffer_frames: int = option(
        0, ge=0, help="Frames of utterances read into memory at a time (streaming: blocks of "
                      "shuffled utterances, the next read in the background); 0: automatic, the "
                      "whole corpus in memory when it fits --max-memory-mb, else blocks sized "
                      "to it.")
    max_memory_mb: int = option(4096, ge=1, help="With --buffer-frames 0: the memory the "
                                                 "training data may take (MiB).")
    dist_timeout: int = option(600, ge=1, help="Under torchrun: seconds a process waits for "
                                               "the others in a collective before the job "
                                               "fails with an error.")


@dataclass
class RBMConfig(RunOptions):
    """``asrkt pretrain-rbm`` (Kaldi steps/nnet/pretrain_dbn.sh defaults)."""

    nn_depth: int = option(6, ge=1, help="Number of RBMs.")
    hid_dim: int = option(1024, ge=1, help="Hidden units per RBM.")
    rbm_iter: int = option(1, ge=1, help="Epochs per Bernoulli RBM; the Gaussian one gets 2x.")
    splice: int = option(5, ge=0, help="Context frames each side.")
    batch_size: int = option(100, ge=1, help="Frames per CD-1 minibatch.")
    lr_gaussian: float = option(0.01, gt=0, help="Learning rate of the Gaussian-Bernoulli RBM.")
    lr_bernoulli: float = option(0.4, gt=0, help="Learning rate of the Bernoulli RBMs.")
    l2_penalty: float = option(0.0002, ge=0, help="L2 weight penalty.")
    momentum: float = option(0.5, ge=0, lt=1, help="Initial momentum.")
    momentum_max: float = option(0.9, ge=0, lt=1, help="Final momentum.")
    momentum_ramp_frames: int = option(
        0, ge=0, help="Frames over which momentum ramps to momentum_max (0: Kaldi's 40 x "
                      "500,000, capped at half of the RBM's training frames).")
    param_stddev: float = option(0.1, gt=0, help="Standard deviation of the initial weights.")


@dataclass
class TargetCheckOptions:
    """How strictly targets must match the features."""

    length_tolerance: int = option(5, ge=0, help="Allowed |target frames - feature frames| "
                                                 "per utterance.")
    max_skip_fraction: float = option(0.1, ge=0, le=1, help="Fail when more than this share "
                                                            "of the utterances is skipped.")


@dataclass
class _Optimisation(ModelSpec, RunOptions):
    """Training settings after the architecture (a separate class only so that the fields keep
    their order in config.yaml: run, architecture, optimisation, target checks)."""

    freq_mask: int = option(0, ge=0, help="Zero one random band of up to N channels per "
                                          "training example (SpecAugment frequency masking; "
                                          "0: off).")
    learning_rate: float = option(0.001, gt=0, help="Initial learning rate.")
    optimizer: Literal["sgd", "adam"] = option("adam", help="Optimiser.")
    momentum: float = option(0.0, ge=0, lt=1, help="SGD momentum.")
    l2_penalty: float = option(0.0, ge=0, help="L2 weight penalty (weight decay).")
    max_epochs: int = option(20, ge=1, help="Maximum epochs (newbob may stop earlier).")
    min_epochs: int = option(0, ge=0, help="Epochs before newbob may stop.")
    keep_lr_epochs: int = option(0, ge=0, help="Epochs before newbob may start halving.")
    start_halving_impr: float = option(0.01, ge=0, help="Start halving the learning rate when "
                                                        "the relative CV improvement is below "
                                                        "this.")
    end_halving_impr: float = option(0.001, ge=0, help="Stop when the relative CV improvement "
                                                       "is below this while halving.")
    halving_factor: float = option(0.5, gt=0, le=1, help="Learning-rate factor per halving.")
    grad_clip: float = option(0.0, ge=0, help="Gradient norm clipping (0: off).")
    batch_size: int = option(256, ge=1, help="Frames per minibatch (frame models).")
    accum_grad: int = option(1, ge=1, help="Minibatches per update: their mean gradient makes "
                                           "one optimiser step (under torchrun, one gradient "
                                           "all-reduce per update instead of per minibatch).")
    num_streams: int = option(64, ge=1, help="Streams per minibatch (RNNs).")
    chunk_len: int = option(20, ge=1, help="BPTT chunk length in frames (RNNs).")
    cv_fraction: float = option(0.1, gt=0, lt=1, help="Share of the utterances held out for "
                                                      "CV when no --cv-data is given.")
    shuffle: bool = option(True, help="Shuffle the training data each epoch (--no-shuffle: "
                                      "the data directory's order, e.g. to reproduce a run's "
                                      "batches with another number of processes).")
    precision: Literal["fp32", "bf16"] = option(
        "fp32", help="Arithmetic of the forward pass: bf16 runs it under torch.autocast "
                     "(weights, gradients and the optimiser stay float32).")
    weight_init: Literal["torch", "nnet1"] = option(
        "torch", help="Random initialisation of a DNN trained from scratch: torch's (weights and "
                      "biases U(-1/sqrt(fan-in), 1/sqrt(fan-in))) or Kaldi nnet1's "
                      "(make_nnet_proto.py: weights N(0, 3.5 sqrt(2 / (fan-in + fan-out))), "
                      "the first layer's divided by sqrt(12), hidden biases U(-4, 0), output "
                      "biases 0; with --dbn the output layer only, as nnet1 on a DBN). --model dnn "
                      "only; not with --init.")


@dataclass
class TrainConfig(TargetCheckOptions, _Optimisation):
    """Settings shared by train-teacher, kt-pretrain and finetune (newbob: Kaldi nnet1
    train_scheduler.sh). The architecture fields are :class:`ModelSpec`'s."""


@dataclass
class TeacherConfig(TrainConfig):
    """``asrkt train-teacher``: sigmoid DNN, newbob (Kaldi nnet1 train.sh)."""


@dataclass
class StudentConfig(TrainConfig):
    """``asrkt kt-pretrain``: LSTMP student trained on soft targets at ``temperature``.

    teacher_top_k: with a teacher run on the fly (--teacher), keep its k largest posteriors
        per frame, renormalised, as sparse targets (dump-posteriors --top-k; 0: all, dense).
    """

    model: str = "lstm"
    num_layers: int = 2
    hidden_dim: int = 256
    proj_dim: int = 128
    splice: int = 0
    target_delay: int = 5
    grad_clip: float = 5.0
    temperature: float = option(1.0, gt=0, help="KT temperature T on both sides.")
    teacher_top_k: int = option(0, ge=0, help="With --teacher: keep the teacher's k largest "
                                              "posteriors per frame, renormalised, as sparse "
                                              "targets (0: all, dense).")


@dataclass
class FinetuneConfig(StudentConfig):
    """``asrkt finetune``: CE on hard targets, optionally interpolated with the KT loss
    (``kt_weight`` W: loss = (1 - W) CE + W KT)."""

    learning_rate: float = 0.0005
    kt_weight: float = option(0.0, ge=0, le=1, help="Weight W of the KT loss: (1-W) CE + W KT "
                                                    "(needs --post-dir); the CV pass and newbob "
                                                    "use the CE on the hard targets alone.")


@dataclass
class ForwardConfig(DeviceOptions):
    """``asrkt forward``: log-likelihoods for hybrid decoding."""

    priors: bool = option(True, help="Divide by the priors (--no-priors: write log-posteriors).")
    prior_floor: float = option(1e-10, gt=0, le=1, help="Priors below this are floored (as "
                                                        "Kaldi's PdfPrior).")
    prior_scale: float = option(1.0, ge=0, help="Scale of the log-priors subtracted.")


@dataclass
class PosteriorConfig(DeviceOptions):
    """``asrkt dump-posteriors``: the teacher's soft targets."""

    temperature: float = option(1.0, gt=0, help="Softmax temperature T of the soft targets.")
    top_k: Optional[int] = option(None, ge=1, help="Keep the k largest posteriors per frame, "
                                                   "renormalised, as a sparse Kaldi Posterior "
                                                   "table (5 + 10k bytes per frame; default: "
                                                   "all, dense matrices).")


@dataclass
class EvalConfig(TargetCheckOptions, DeviceOptions):
    """``asrkt eval-frames``: frame CE and accuracy against pdf alignments."""
