"""Configuration dataclasses of the neural commands (defaults < --config YAML < flags).

Defaults follow Kaldi nnet1 where it has one (steps/nnet/pretrain_dbn.sh, train.sh,
train_scheduler.sh: newbob, minibatch 256, splice 5, RBM settings). The optimiser default is
Adam (lr 0.001): plain SGD on a randomly initialised deep sigmoid DNN sat on a plateau for
several epochs on FSDD, Adam did not. nnet1's SGD is ``--optimizer sgd --learning-rate 2``
(losses here are minibatch means; nnet1 sums, so its 0.008 at 256 frames is about 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from asrkt.errors import AsrktError


def set_threads(num_threads: int) -> None:
    """CPU intra-op threads (0: torch's default, one per core). On a loaded machine 1 thread
    avoids OpenMP oversubscription, which can cost more than the second core gains."""
    if num_threads < 0:
        raise AsrktError(f"num_threads must be >= 0, got {num_threads}")
    if num_threads > 0:
        torch.set_num_threads(num_threads)


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; otherwise the named device."""
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
class FeatureOptions:
    """Feature pipeline of a model trained from scratch (taken from --dbn/--init otherwise)."""

    cmvn: Literal["speaker", "utterance", "none"] = "speaker"
    norm_vars: bool = False
    delta_order: int = 0
    global_norm: bool = True


@dataclass
class RunOptions(FeatureOptions):
    """Where and how reproducibly a training command runs (shared by every training config).

    buffer_frames: frames of utterances read into memory at a time (streaming: blocks of
        shuffled utterances, the next read in the background); 0: automatic (the whole
        corpus in memory when it fits max_memory_mb, else blocks sized to it).
    max_memory_mb: with buffer_frames 0, the memory the training data may take (MiB).
    """

    device: str = "auto"
    num_threads: int = 0
    seed: int = 777
    buffer_frames: int = 0
    max_memory_mb: int = 4096

    def check_memory_options(self) -> None:
        if self.buffer_frames < 0 or self.max_memory_mb < 1:
            raise AsrktError("buffer_frames must be >= 0 and max_memory_mb >= 1")


@dataclass
class RBMConfig(RunOptions):
    """``asrkt pretrain-rbm`` (Kaldi steps/nnet/pretrain_dbn.sh defaults).

    momentum_ramp_frames: frames over which momentum ramps to momentum_max; 0 = Kaldi's 40 x
    500,000 frames, capped at half of the RBM's training frames so small corpora reach the max.
    """

    nn_depth: int = 6
    hid_dim: int = 1024
    rbm_iter: int = 1
    splice: int = 5
    batch_size: int = 100
    lr_gaussian: float = 0.01
    lr_bernoulli: float = 0.4
    l2_penalty: float = 0.0002
    momentum: float = 0.5
    momentum_max: float = 0.9
    momentum_ramp_frames: int = 0
    param_stddev: float = 0.1

    def validate(self) -> None:
        self.check_memory_options()
        if self.nn_depth < 1 or self.hid_dim < 1 or self.rbm_iter < 1 or self.batch_size < 1:
            raise AsrktError("nn_depth, hid_dim, rbm_iter and batch_size must be >= 1")
        if self.splice < 0:
            raise AsrktError("splice must be >= 0")


@dataclass
class TrainConfig(RunOptions):
    """Settings shared by train-teacher, kt-pretrain and finetune.

    dropout: dropout after each DNN hidden layer while training (0: off).
    freq_mask: SpecAugment frequency masking while training: one band of up to this many
        channels zeroed per example/stream (asrkt.nnet.augment; 0: off).
    """

    model: str = "dnn"
    num_layers: int = 4
    hidden_dim: int = 1024
    proj_dim: int = 0
    splice: int = 5
    target_delay: int = 0
    dropout: float = 0.0
    freq_mask: int = 0
    learning_rate: float = 0.001
    optimizer: Literal["sgd", "adam"] = "adam"
    momentum: float = 0.0
    l2_penalty: float = 0.0
    max_epochs: int = 20
    min_epochs: int = 0
    keep_lr_epochs: int = 0
    start_halving_impr: float = 0.01
    end_halving_impr: float = 0.001
    halving_factor: float = 0.5
    grad_clip: float = 0.0
    batch_size: int = 256
    num_streams: int = 64
    chunk_len: int = 20
    cv_fraction: float = 0.1
    length_tolerance: int = 5
    max_skip_fraction: float = 0.1

    def validate(self) -> None:
        self.check_memory_options()
        if self.learning_rate <= 0 or self.max_epochs < 1:
            raise AsrktError("learning_rate must be > 0 and max_epochs >= 1")
        if self.batch_size < 1 or self.num_streams < 1 or self.chunk_len < 1:
            raise AsrktError("batch_size, num_streams and chunk_len must be >= 1")
        if not 0 <= self.max_skip_fraction <= 1 or self.length_tolerance < 0:
            raise AsrktError("max_skip_fraction must be in [0, 1], length_tolerance >= 0")
        if self.freq_mask < 0:
            raise AsrktError(f"freq_mask must be >= 0, got {self.freq_mask}")
        if not 0 <= self.dropout < 1:
            raise AsrktError(f"dropout must be in [0, 1), got {self.dropout}")


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
    temperature: float = 1.0
    teacher_top_k: int = 0

    def validate(self) -> None:
        super().validate()
        if self.temperature <= 0:
            raise AsrktError(f"temperature must be > 0, got {self.temperature}")
        if self.teacher_top_k < 0:
            raise AsrktError(f"teacher_top_k must be >= 0, got {self.teacher_top_k}")


@dataclass
class FinetuneConfig(StudentConfig):
    """``asrkt finetune``: CE on hard targets, optionally interpolated with the KT loss
    (``kt_weight`` W: loss = (1 - W) CE + W KT)."""

    learning_rate: float = 0.0005
    kt_weight: float = 0.0

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.kt_weight <= 1:
            raise AsrktError(f"kt_weight must be in [0, 1], got {self.kt_weight}")
