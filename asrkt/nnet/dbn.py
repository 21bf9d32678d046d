"""``asrkt pretrain-rbm``: a stack of RBMs (DBN) on spliced, globally normalised features, as
Kaldi's steps/nnet/pretrain_dbn.sh. Output ``EXP_DIR/final.pt`` (format ``asrkt-dbn-1``): the
RBMs bottom-up, the feature pipeline and the splice, which ``train-teacher --dbn`` starts from.

Every RBM epoch is checkpointed (``checkpoints/epoch-N.pt``, N counting epochs over all layers);
shuffling, sampling and initialisation are seeded per (layer, epoch), so ``--resume`` reproduces
an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from tqdm import tqdm

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.nnet.config import RBMConfig, set_threads
from asrkt.nnet.corpus import BlockReader, Corpus, choose_buffer_frames, feature_frames
from asrkt.nnet.distributed import DistContext, all_reduce_tensor, training_run
from asrkt.nnet.expdir import log_hyperparameters, new_pipeline, prepare_exp_dir
from asrkt.nnet.loaders import epoch_generator, gather_inputs
from asrkt.nnet.modelio import load_torch, resolve_model_path, save_torch
from asrkt.nnet.rbm import (
    RBM,
    SharedCD1,
    activation_means,
    bernoulli_vis_bias,
    train_rbm_epoch,
)
from asrkt.nnet.trainer import plot_curves, write_history

logger = logging.getLogger("asrkt.nnet")
DBN_FORMAT = "asrkt-dbn-1"
KALDI_MOMENTUM_RAMP_FRAMES = 40 * 500_000


def layer_inputs(corpus: Corpus, offsets: List[int], below: List[RBM]
                 ) -> Tuple[Callable[[torch.Tensor], torch.Tensor],
                            Callable[[torch.Tensor], torch.Tensor]]:
    """(frame indices -> spliced features, spliced features -> output of the RBMs ``below``)."""

    def gather(index: torch.Tensor) -> torch.Tensor:
        return gather_inputs(corpus, index, offsets)

    @torch.no_grad()
    def propagate(x: torch.Tensor) -> torch.Tensor:
        for rbm in below:
            x = rbm.propagate(x)
        return x

    return gather, propagate


def _latest_checkpoint(exp_dir: Path) -> Optional[Dict[str, Any]]:
    folder = exp_dir / "checkpoints"
    numbers = sorted(int(p.stem.split("-")[1]) for p in folder.glob("epoch-*.pt")
                     if p.stem.split("-")[1].isdigit()) if folder.is_dir() else []
    if not numbers:
        return None
    return load_torch(folder / f"epoch-{numbers[-1]}.pt", "checkpoint")


def _new_rbm(config: RBMConfig, layer: int, vis_dim: int, reader, offsets: List[int],
             below: List[RBM], device, dist: Optional[DistContext] = None) -> RBM:
    generator = torch.Generator().manual_seed(config.seed * 1009 + layer)
    if layer == 0:
        return RBM.initial(vis_dim, config.hid_dim, "gaussian", config.lr_gaussian, generator,
                           config.param_stddev).to(device)
    parts = []  # (mean, frames) per block
    for corpus in reader.blocks(0):
        gather, propagate = layer_inputs(corpus.to(device), offsets, below)
        # loop variables bound as defaults (the function is only used within this iteration)
        parts.append((activation_means(
            lambda idx, gather=gather, propagate=propagate: propagate(gather(idx)),
            corpus.num_frames, 4096, device), corpus.num_frames))
    means = parts[0][0] if len(parts) == 1 else (
        sum(m * n for m, n in parts) / sum(n for _, n in parts))
    if dist is not None and dist.enabled:  # over all ranks' shares
        frames = sum(n for _, n in parts)
        total = all_reduce_tensor(dist, torch.cat([means * frames,
                                                   means.new_tensor([float(frames)])]))
        means = total[:-1] / total[-1]
    vis_bias = bernoulli_vis_bias(means).cpu()
    return RBM.initial(vis_dim, config.hid_dim, "bernoulli", config.lr_bernoulli, generator,
                       config.param_stddev, vis_bias).to(device)


def _reader(config: RBMConfig, pipeline, data: DataDir, dist: DistContext):
    """The block reader of the training data (one kept block when it fits the memory budget:
    features, frame bounds and the shuffling order, 4 x dim + 24 bytes per frame)."""

    lengths = feature_frames(data, data.utterances)
    buffer = choose_buffer_frames(config.buffer_frames, config.max_memory_mb,
                                  int(lengths.sum()), 4 * pipeline.output_dim() + 24)
    if buffer:
        logger.info("streaming the features in blocks of %d frames", buffer)
    return BlockReader(pipeline, data, data.utterances, lengths, None, buffer, seed=config.seed,
                       options={"name": "train"}, rank=dist.rank, world_size=dist.world_size)


def _state_cpu(rbm: RBM) -> Dict[str, Any]:
    return {k: v.cpu() if torch.is_tensor(v) else v for k, v in rbm.state().items()}


def pretrain_rbm(config: RBMConfig, data_dir, exp_dir, resume: bool = False) -> List[Dict]:
    """Train ``nn_depth`` RBMs; the Gaussian one gets 2 x ``rbm_iter`` epochs.

    Args:
        config: resolved config.
        data_dir: training data directory (feats.scp, cmvn.scp for speaker CMVN).
        exp_dir: experiment directory.
        resume: continue from the last checkpoint.
    """
    exp_dir = Path(exp_dir)
    with training_run(config, exp_dir, "pretrain-rbm",
                      lambda: prepare_exp_dir(exp_dir, config, resume), resume) as dist:
        log_hyperparameters(config, {"data": str(data_dir), "resume": resume})
        device = dist.device
        set_threads(config.num_threads)
        data = DataDir(data_dir)
        pipeline = new_pipeline(config, data)
        if dist.is_main:
            pipeline.save(exp_dir / "feature_pipeline.yaml")
        reader = _reader(config, pipeline, data, dist)
        dim = pipeline.output_dim()
        offsets = list(range(-config.splice, config.splice + 1))
        logger.info("%d utterances, %d frames of %d x %d spliced dims; device %s",
                    len(reader.utts), reader.num_frames, dim, len(offsets), device)
        done, current, history = _restore(exp_dir, resume, device)
        step = len(history)
        for layer in range(len(done), config.nn_depth):
            vis_dim = dim * len(offsets) if layer == 0 else config.hid_dim
            rbm = current or _new_rbm(config, layer, vis_dim, reader, offsets, done, device,
                                      dist)
            current = None
            epochs = config.rbm_iter * (2 if layer == 0 else 1)
            first = 1 + sum(1 for h in history if h["layer"] == layer + 1)
            for layer_epoch in range(first, epochs + 1):
                step += 1
                history.append(_rbm_epoch(config, rbm, (reader, offsets, done), layer,
                                          layer_epoch, epochs, step, device, dist))
                if not dist.is_main:
                    continue
                write_history(exp_dir, history)
                plot_curves(exp_dir / "curves.png", history, [["recon_mse"]])
                save_torch({"done": [_state_cpu(r) for r in done], "current": _state_cpu(rbm),
                            "history": history}, exp_dir / "checkpoints" / f"epoch-{step}.pt")
            done.append(rbm)
        if dist.is_main:
            save_torch(dbn_payload(done, pipeline, config, dim), exp_dir / "final.pt")
        logger.info("DBN of %d RBMs written to %s", len(done), exp_dir / "final.pt")
        return history


def _restore(exp_dir: Path, resume: bool, device) -> Tuple[List[RBM], Optional[RBM], List]:
    saved = _latest_checkpoint(exp_dir) if resume else None
    if saved is None:
        return [], None, []
    done = [RBM.from_state(s).to(device) for s in saved["done"]]
    current = RBM.from_state(saved["current"]).to(device)
    history = list(saved["history"])
    logger.info("resuming after epoch %d (layer %d)", len(history), history[-1]["layer"])
    layer_epochs = sum(1 for h in history if h["layer"] == history[-1]["layer"])
    if layer_epochs == history[-1]["epochs"]:  # that layer was finished
        done.append(current)
        current = None
    return done, current, history


def _rbm_epoch(config: RBMConfig, rbm: RBM, data, layer: int, layer_epoch: int, epochs: int,
               step: int, device, dist: Optional[DistContext] = None) -> Dict[str, Any]:
    """One CD-1 epoch of RBM ``layer`` (0-based) over the reader's blocks (frames shuffled
    inside each block; one block in memory: the whole corpus); returns its ``train.jsonl``
    record.

    Args:
        config: the run's config.
        rbm: the RBM being trained.
        data: (block reader, splice offsets, the trained RBMs below).
        layer / layer_epoch / epochs: position in the stack and in this RBM's epochs.
        step: epoch number over all layers (checkpoint number; seeds the shuffling).
        device: torch device.
        dist: data-parallel context: the steps' statistics are summed over the ranks
            (:class:`asrkt.nnet.rbm.SharedCD1`) and the ranks sample with their own seeds.
    """
    reader, offsets, below = data
    dist = dist or DistContext()
    shared = SharedCD1(lambda t: all_reduce_tensor(dist, t)) if dist.enabled else None
    seed = ((config.seed * 1009 + layer) * 1009 + layer_epoch) * dist.world_size + dist.rank
    generator = torch.Generator(device=device).manual_seed(seed)
    ramp = config.momentum_ramp_frames or min(KALDI_MOMENTUM_RAMP_FRAMES,
                                              epochs * reader.num_frames // 2)
    bar = tqdm(total=-(-reader.num_frames // config.batch_size), leave=False, disable=None,
               desc=f"RBM {layer + 1} epoch {layer_epoch}", unit="batch")
    lr = rbm.learning_rate
    parts, start = [], time.perf_counter()
    for block, corpus in enumerate(reader.blocks(step)):
        gather, propagate = layer_inputs(corpus.to(device), offsets, below)
        order = epoch_generator(config.seed, step, block=block).permutation(corpus.num_frames)
        parts.append((corpus.num_frames, train_rbm_epoch(
            rbm, gather, propagate, torch.from_numpy(order).to(device), config.batch_size,
            generator, (config.momentum, config.momentum_max), ramp, config.l2_penalty, bar,
            shared)))
    bar.close()
    stats = parts[0][1] if len(parts) == 1 else merge_epoch_stats(parts)
    if shared is not None:
        shared.drain(rbm, generator, (config.momentum, config.momentum_max), ramp,
                     config.l2_penalty)
        stats = shared_epoch_stats(stats, shared, rbm, time.perf_counter() - start)
    line = {"epoch": step, "layer": layer + 1, "layer_epoch": layer_epoch, "epochs": epochs,
            "vis_type": rbm.vis_type, "lr": lr, **stats}
    logger.info("RBM %d (%s-Bernoulli) epoch %d/%d: reconstruction MSE %.4f (%.3f per frame), "
                "lr %g, momentum %.3f, %.0f frames/s, data loading %.1f%%", layer + 1,
                rbm.vis_type.capitalize(), layer_epoch, epochs, stats["recon_mse"],
                stats["recon_error"], lr, stats["momentum"], stats["frames_per_s"],
                100 * stats["data_share"])
    return line


def shared_epoch_stats(stats: Dict[str, float], shared: SharedCD1, rbm: RBM,
                       seconds: float) -> Dict[str, float]:
    """A data-parallel epoch's statistics: errors and frames/s over all ranks' frames (frames/s
    in this rank's time, ``seconds``), the rest this rank's.

    Args:
        stats: this rank's statistics (:func:`merge_epoch_stats`).
        shared: the epoch's shared steps.
        rbm: the RBM.
        seconds: this rank's training time of the epoch.
    """
    frames = max(shared.frames, 1)
    out = dict(stats)
    out.update(recon_error=shared.error / frames,
               recon_mse=shared.error / frames / rbm.weight.shape[1],
               frames_per_s=shared.frames / max(seconds, 1e-9))
    return out


def merge_epoch_stats(parts: List[Tuple[int, Dict[str, float]]]) -> Dict[str, float]:
    """One epoch's statistics from (frames, :func:`train_rbm_epoch`'s dict) of its blocks:
    errors weighted by frames, rates and shares by time, the last momentum."""
    frames = [max(n, 1) for n, _ in parts]
    seconds = [n / max(p["frames_per_s"], 1e-9) for n, (_, p) in zip(frames, parts)]
    out = {key: sum(n * p[key] for n, (_, p) in zip(frames, parts)) / sum(frames)
           for key in ("recon_error", "recon_mse")}
    out.update({key: sum(t * p[key] for t, (_, p) in zip(seconds, parts)) / sum(seconds)
                for key in ("gflops_per_s", "data_share")})
    out.update(momentum=parts[-1][1]["momentum"], frames_per_s=sum(frames) / sum(seconds))
    return out


def dbn_payload(layers: List[RBM], pipeline, config: RBMConfig, input_dim: int) -> Dict[str, Any]:
    """The DBN file: RBM weights bottom-up, the feature pipeline, the splice."""
    return {"format": DBN_FORMAT, "input_dim": input_dim, "splice": config.splice,
            "pipeline": pipeline.to_dict(), "config": dataclasses.asdict(config),
            "layers": [{"weight": r.weight.cpu(), "vis_bias": r.vis_bias.cpu(),
                        "hid_bias": r.hid_bias.cpu(), "vis_type": r.vis_type} for r in layers]}


def load_dbn(path: Union[str, Path]) -> Tuple[Dict[str, Any], str]:
    """A DBN written by ``asrkt pretrain-rbm``: (its payload, the resolved file path).

    Args:
        path: the DBN file or its EXP_DIR.
    """
    path = resolve_model_path(path)
    payload = load_torch(path, "DBN")
    if not isinstance(payload, dict) or payload.get("format") != DBN_FORMAT:
        raise AsrktError(f"'{path}' is not a DBN written by 'asrkt pretrain-rbm'")
    return payload, str(path)
