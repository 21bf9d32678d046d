"""What the neural commands do (asrkt.cli.nnet holds only their click wrappers).

- :func:`train_supervised`: train-teacher, kt-pretrain and finetune (one flow, one trainer);
- :func:`pretrain_rbm`: stacked RBMs (in ``asrkt.nnet.dbn``);
- :func:`forward_data`: dump-posteriors and forward (in ``asrkt.nnet.inference``).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import read_map
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeaturePipeline
from asrkt.nnet.config import TrainConfig, set_threads
from asrkt.nnet.corpus import (
    BlockReader,
    TargetSource,
    choose_buffer_frames,
    feature_frames,
    split_holdout,
)
from asrkt.nnet.dbn import load_dbn
from asrkt.nnet.distributed import DistContext, training_run
from asrkt.nnet.expdir import log_hyperparameters, new_pipeline, prepare_exp_dir
from asrkt.nnet.inference import TeacherTargets
from asrkt.nnet.loaders import BlockLoader
from asrkt.nnet.losses import LossSpec
from asrkt.nnet.modelio import load_model, model_payload
from asrkt.nnet.models import ModelSpec, build_model
from asrkt.nnet.posteriors import SoftTargetTable, read_info, soft_target_counts
from asrkt.nnet.profiling import TrainerHooks
from asrkt.nnet.targets import PdfAlignments, read_kaldi_text_vector
from asrkt.nnet.trainer import Trainer

logger = logging.getLogger("asrkt.nnet")
PathLike = Union[str, Path]


@dataclasses.dataclass
class TargetSet:
    """Targets of a training run: sources by name, pdf count, pdf counts (for priors)."""

    sources: Dict[str, TargetSource]
    num_pdfs: int
    pdf_counts: Optional[np.ndarray]


def load_targets(loss: LossSpec, ali_dir: Optional[PathLike], post_dir: Optional[PathLike],
                 temperature: float, teacher: Optional[Any] = None) -> TargetSet:
    """Read hard (ALI_DIR) and/or soft (POST_DIR, or a teacher run on the fly) targets as the
    loss needs them.

    Args:
        loss: which targets.
        ali_dir: ALI_DIR (hard targets).
        post_dir: POST_DIR (soft targets dumped at T0, re-tempered to ``temperature``).
        temperature: the KT temperature.
        teacher: a :class:`asrkt.nnet.inference.TeacherTargets` instead of POST_DIR.
    """
    sources: Dict[str, TargetSource] = {}
    num_pdfs, counts = None, None
    if "pdf" in loss.target_names:
        ali = PdfAlignments(ali_dir)
        sources["pdf"] = TargetSource(ali.load(), str(ali.table))
        num_pdfs, counts = ali.num_pdfs, ali.counts
    if "soft" in loss.target_names and teacher is not None:
        logger.info("soft targets: %s on the fly (T=%g, top-k %s)", teacher.table,
                    teacher.temperature, teacher.top_k)
        sources["soft"] = TargetSource(teacher, teacher.table)
        num_pdfs = num_pdfs or teacher.num_pdfs
        if counts is None and teacher.loaded.pdf_counts is not None:
            counts = teacher.loaded.pdf_counts.numpy()
        elif counts is None:
            counts = soft_target_counts(teacher)
    elif "soft" in loss.target_names:
        info = read_info(post_dir)
        ratio = temperature / info["temperature"]
        soft = SoftTargetTable(post_dir, num_pdfs or info.get("num_pdfs"), ratio)
        if not len(soft):
            raise AsrktError(f"{soft.table}: no soft targets")
        if ratio != 1.0:
            logger.info("re-tempering soft targets from T=%g to T=%g", info["temperature"],
                        temperature)
        logger.info("soft targets: %s (%s)", soft.table, "sparse Kaldi Posterior"
                    if soft.sparse else "dense matrices")
        num_pdfs = num_pdfs or soft.num_pdfs
        sources["soft"] = TargetSource(soft, str(soft.table))
        if counts is None and (Path(post_dir) / "pdf_counts").exists():
            counts = read_kaldi_text_vector(Path(post_dir) / "pdf_counts")
        elif counts is None:
            counts = soft_target_counts(soft)
    return TargetSet(sources, int(num_pdfs), counts)


def _initial_model(config: TrainConfig, input_dim: int, num_pdfs: int,
                   init: Optional[Any], dbn: Optional[Dict[str, Any]], dbn_path: str):
    """The model to train: a copy of --init, a DNN from the DBN, or random init."""
    if config.weight_init != "torch" and init is not None:
        raise AsrktError(f"--weight-init {config.weight_init} draws a new model: not with --init")
    if init is not None:
        model = init.model
        if model.num_pdfs != num_pdfs:
            raise AsrktError(f"--init model has {model.num_pdfs} outputs but the targets have "
                             f"{num_pdfs} pdfs")
        return model
    if dbn is not None:
        layers = dbn["layers"]
        spec = ModelSpec(model="dnn", num_layers=len(layers),
                         hidden_dim=int(layers[0]["weight"].shape[0]), proj_dim=0,
                         splice=int(dbn["splice"]), target_delay=0, dropout=config.dropout)
        model = build_model(spec, input_dim, num_pdfs)
        model.init_from_dbn(layers, dbn_path)
        if config.weight_init == "nnet1":
            model.init_like_nnet1(output_only=True)
        return model
    model = build_model(ModelSpec.from_config(config), input_dim, num_pdfs)
    if config.weight_init == "nnet1":
        if config.model != "dnn":
            raise AsrktError(f"--weight-init nnet1 is for --model dnn, not '{config.model}'")
        model.init_like_nnet1()
    return model


def _split(config: TrainConfig, data: DataDir, cv_data: Optional[PathLike]
           ) -> Tuple[List[str], DataDir, List[str]]:
    if cv_data is not None:
        cv_dir = DataDir(cv_data)
        return data.utterances, cv_dir, cv_dir.utterances
    groups = None
    if data.has("utt2uniq"):
        groups = read_map(data.file("utt2uniq"))
    train, cv = split_holdout(data.utterances, config.cv_fraction, config.seed, groups)
    logger.info("CV set: %d utterances held out of %d (cv_fraction %g%s)", len(cv),
                len(train) + len(cv), config.cv_fraction,
                "; copies of one utterance (utt2uniq) kept together" if groups else "")
    return train, data, cv


def bytes_per_frame(dim: int, sources: Dict[str, TargetSource]) -> int:
    """Memory one frame of a loaded block takes: float32 features, frame bounds and the
    loaders' order (3 x int64), targets (pdf: int64; dense soft: 4 x num_pdfs; sparse soft:
    8 x K, K from the first utterance).

    Args:
        dim: feature dimension (the pipeline's output).
        sources: the target tables.
    """
    total = 4 * dim + 24
    for key, source in sources.items():
        table = source.values
        if key == "pdf":
            total += 8
        elif getattr(table, "sparse", False):
            first = next(iter(table.keys()), None)
            total += 8 * (table[first].width if first is not None else 0)
        else:
            total += 4 * int(getattr(table, "num_pdfs", 0) or 0)
    return total


def make_readers(config: TrainConfig, pipeline, targets: TargetSet,
                 train: Tuple[DataDir, List[str]], cv: Tuple[DataDir, List[str]],
                 ali_dir: Optional[PathLike], dist: Optional[DistContext] = None):
    """Block readers of the training and CV utterances: one block kept in memory when the data
    fits ``max_memory_mb`` (or ``buffer_frames`` is set larger than it), else blocks of
    ``buffer_frames`` (automatic: half the budget each, as two are in memory at once) with
    alignments read per utterance.

    Args:
        config: the training config (buffer_frames, max_memory_mb, seed, tolerances).
        pipeline: the fitted feature pipeline.
        targets: the target tables.
        train / cv: (data dir, utterances).
        ali_dir: ALI_DIR (alignments are re-opened lazily when streaming).
        dist: data-parallel context: each reader yields this rank's share.
    """

    lengths = [feature_frames(d, u) for d, u in (train, cv)]
    total = int(sum(x.sum() for x in lengths))
    per_frame = bytes_per_frame(pipeline.output_dim(), targets.sources)
    buffer = choose_buffer_frames(config.buffer_frames, config.max_memory_mb, total, per_frame)
    logger.info("training data: %d frames x %d bytes = %.1f MiB; %s", total, per_frame,
                total * per_frame / 2 ** 20, "in memory" if buffer == 0 else
                f"streaming blocks of {buffer} frames (~{2 * buffer * per_frame / 2 ** 20:.1f} "
                f"MiB for two)")
    sources = dict(targets.sources)
    if buffer and "pdf" in sources:
        ali = PdfAlignments(ali_dir)
        sources["pdf"] = TargetSource(ali.lazy(), str(ali.table))
    dist = dist or DistContext()
    for (d, u), name in ((train, "training"), (cv, "CV")):
        if len(u) < dist.world_size:
            raise AsrktError(f"{d.path}: {len(u)} {name} utterances for {dist.world_size} "
                             f"processes; each process needs at least one")
    return [BlockReader(pipeline, d, u, n, sources, buffer, shuffle=shuffle, seed=config.seed,
                        options=dict(tolerance=config.length_tolerance, name=name,
                                     max_skip_fraction=config.max_skip_fraction),
                        rank=dist.rank, world_size=dist.world_size)
            for (d, u), n, shuffle, name in ((train, lengths[0], config.shuffle, "train"),
                                             (cv, lengths[1], False, "cv"))]


def train_supervised(command: str, config: TrainConfig, data_dir: PathLike, exp_dir: PathLike,
                     loss: LossSpec, ali_dir: Optional[PathLike] = None,
                     post_dir: Optional[PathLike] = None, init: Optional[PathLike] = None,
                     dbn: Optional[PathLike] = None, cv_data: Optional[PathLike] = None,
                     resume: bool = False, teacher: Optional[PathLike] = None,
                     hooks: Optional[TrainerHooks] = None) -> List[Dict[str, Any]]:
    """train-teacher / kt-pretrain / finetune.

    Args:
        command: command name (log file, final.pt).
        config: resolved config.
        data_dir: training data directory.
        exp_dir: experiment directory.
        loss: which targets and weights.
        ali_dir: ALI_DIR with pdf.scp + pdf_counts (hard targets).
        post_dir: POST_DIR with soft targets.
        init: model to start from (file or EXP_DIR).
        dbn: DBN to initialise a DNN from.
        cv_data: separate CV data directory (default: hold out cv_fraction of the utterances).
        resume: continue from the last checkpoint.
        teacher: run this teacher on the fly for the soft targets instead of POST_DIR
            (``teacher_top_k`` of the config as ``dump-posteriors --top-k``).
        hooks: an observer of the corpora and the training steps (a profiler; default none).
    """
    hooks = hooks or TrainerHooks()
    exp_dir = Path(exp_dir)
    with training_run(config, exp_dir, command,
                      lambda: prepare_exp_dir(exp_dir, config, resume), resume) as dist:
        log_hyperparameters(config, {"data": data_dir, "ali_dir": ali_dir,
                                     "post_dir": post_dir, "teacher": teacher,
                                     "init": init, "dbn": dbn,
                                     "cv_data": cv_data, "resume": resume,
                                     "loss": dataclasses.asdict(loss)})
        device = dist.device
        set_threads(config.num_threads)
        torch.manual_seed(config.seed)
        data = DataDir(data_dir)
        train_utts, cv_dir, cv_utts = _split(config, data, cv_data)
        on_the_fly = None
        if teacher is not None:

            with torch.random.fork_rng(devices=[]):  # building the teacher draws no numbers
                on_the_fly = TeacherTargets(teacher, [data] if cv_dir is data else [data, cv_dir],
                                            loss.temperature, getattr(config, "teacher_top_k", 0),
                                            device)
        targets = load_targets(loss, ali_dir, post_dir, loss.temperature, on_the_fly)
        loaded_init = load_model(init) if init is not None else None
        dbn_payload, dbn_path = load_dbn(dbn) if dbn is not None else (None, "")
        if loaded_init is not None:
            pipeline = loaded_init.pipeline
        elif dbn_payload is not None:
            pipeline = FeaturePipeline.from_dict(dbn_payload["pipeline"], dbn_path)
        else:
            pipeline = new_pipeline(config, data, train_utts)
        if dist.is_main:
            pipeline.save(exp_dir / "feature_pipeline.yaml")
        train, cv = make_readers(config, pipeline, targets, (data, train_utts),
                                 (cv_dir, cv_utts), ali_dir, dist)
        hooks.corpus_loaded("train", train)
        hooks.corpus_loaded("cv", cv)
        dim = pipeline.output_dim()
        model = _initial_model(config, dim, targets.num_pdfs, loaded_init, dbn_payload,
                               dbn_path)
        if model.input_dim != dim:
            raise AsrktError(f"model expects {model.input_dim}-dim features, the feature "
                             f"pipeline gives {dim} for {data.path}")
        logger.info("model %s: %s; %d parameters; train %d utts / %d frames, CV %d / %d; "
                    "device %s", model.spec.name, model.spec, sum(p.numel() for p in
                    model.parameters()), len(train.utts), train.num_frames, len(cv.utts),
                    cv.num_frames, device)
        model.to(device)
        loaders = [BlockLoader(reader, model, device, config.batch_size, config.num_streams,
                               config.chunk_len, shuffle, config.seed)
                   for reader, shuffle in ((train, config.shuffle), (cv, False))]
        counts = torch.as_tensor(targets.pdf_counts) if targets.pdf_counts is not None else None
        payload = lambda m: model_payload(m, pipeline, counts, command,  # noqa: E731
                                          dataclasses.asdict(config))
        trainer = Trainer(model, loaders[0], loaders[1], loss, config,
                          exp_dir, payload, hooks, dist)
        history = trainer.fit(resume)
        best = min((h for h in history), key=lambda h: h["cv_loss"])
        logger.info("best CV loss %.4f (frame acc %.2f%%) after epoch %d; model: %s",
                    best["cv_loss"], 100 * best["cv_acc"], best["epoch"], exp_dir / "final.pt")
        return history
