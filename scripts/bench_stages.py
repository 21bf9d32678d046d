"""The measurements of ``make bench``, one per child process: ``bench_stages.py STAGE ARGS OUT``.

Stages: setup (digits system: data, lang, features, train-mono, align, graph; item 6),
train (items 1 and 2 for one model), feats (item 3), decode (item 4), scale (item 5),
stream (item 7: streaming training data), soft (item 8: soft-target bytes, teacher on the fly),
tree (item 10: tree statistics, build-tree and a train-deltas EM pass against Kaldi's binaries),
lmgraph_setup/lmgraph_decode (item 4t), so762_setup/so762_decode (item 4s: speechocean762's dev
set through its GMM's graph, against Kaldi's decoding binaries).
Each writes a JSON dict to OUT. Run by scripts/bench.py; not a test.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from asrkt.nnet.profiling import StepProfiler
from bench_common import ROOT, Clock, fsdd_root

if str(ROOT) not in sys.path:  # the synthetic corpus of the stream/soft rows: tests/helpers
    sys.path.insert(0, str(ROOT))

FSDD_SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo"]


def _threads(n: int = 1) -> None:
    import torch

    torch.set_num_threads(n)


# --------------------------------------------------------------------------------------------
# setup: a tiny digits system (FSDD, or synthetic digits when FSDD is absent); item 6
# --------------------------------------------------------------------------------------------
def _fsdd_dirs(work: Path, src: Path, train_idx: List[int], test_idx: List[int]) -> Dict[str, Path]:
    """Train/test data dirs and the dict of FSDD, made by the recipe's own data prep.

    Args:
        work: bench work dir; data goes to ``work/data``.
        src: the FSDD folder holding ``recordings/``.
        train_idx, test_idx: recording indices (0-49) of each set, over every speaker.
    """
    import subprocess

    from asrkt.data.datadir import DataDir
    from asrkt.data.subset import subset_data_dir

    data = work / "data"
    script = ROOT / "recipes" / "fsdd" / "local" / "prepare_data.sh"
    subprocess.run(["bash", str(script), "--speakers", " ".join(FSDD_SPEAKERS), str(src),
                    str(data)], check=True)
    full = DataDir(data / "all")
    out = {}
    for name, indices in {"train": train_idx, "test": test_idx}.items():
        keep = {f"{i:02d}" for i in indices}
        utts = [u for u in full.utt2spk if u.rsplit("-", 1)[1] in keep]
        subset_data_dir(full.path, data / name, utts)
        out[name] = data / name
    out["dict"] = data / "local" / "dict"
    return out


def _synth_dirs(work: Path, quick: bool) -> Dict[str, Path]:
    import subprocess

    corpus = work / "corpus"
    n_train, n_utts = (2, 20) if quick else (6, 40)
    subprocess.run([str(Path(sys.executable).parent / "asrkt"), "synth-digits", "--nj", "2",
                    "--num-train-speakers", str(n_train), "--num-test-speakers", "2",
                    "--utts-per-speaker", str(n_utts), "--test-utts-per-speaker", "15",
                    "--snrs", "", "--noise-types", "", str(corpus)], check=True)
    data = corpus / "data"
    return {"train": data / "train", "test": data / "test_clean", "dict": data / "local" / "dict"}


def _audio_seconds(data_dir: Path) -> float:
    import soundfile

    from asrkt.data.datadir import DataDir

    total = 0.0
    for path in DataDir(data_dir).wav_scp.values():
        info = soundfile.info(path)
        total += info.frames / info.samplerate
    return total


def _copy_data(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("wav.scp", "text", "utt2spk", "spk2utt"):
        shutil.copyfile(src / name, dst / name)
    return dst


def stage_setup(args: Dict[str, Any]) -> Dict[str, Any]:
    _threads(1)
    from asrkt.data.datadir import DataDir
    from asrkt.decode.graph import make_graph
    from asrkt.feats.cmvn import compute_cmvn
    from asrkt.feats.extract import FeatConfig, make_feats
    from asrkt.hmm.align import align_data, write_pdf_alignments
    from asrkt.hmm.grammar import make_word_loop
    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.train_mono import TrainMonoConfig, train_mono

    work = Path(args["work"])
    quick = args["quick"]
    src = fsdd_root() if args.get("corpus", "auto") != "synth" else None
    if src is None and args.get("corpus") == "fsdd":
        raise SystemExit("--corpus fsdd: ../shared/data/fsdd/recordings not found")
    res: Dict[str, Any] = {}
    if src is not None:
        train_idx = list(range(5, 15)) if quick else list(range(5, 50))
        test_idx = [0, 1] if quick else list(range(0, 5))
        dirs = _fsdd_dirs(work, src, train_idx, test_idx)
        res["corpus"] = f"FSDD ({src}), train indices {train_idx[0]}-{train_idx[-1]}, " \
                        f"test {test_idx[0]}-{test_idx[-1]}, 5 speakers"
    else:
        dirs = _synth_dirs(work, quick)
        res["corpus"] = "asrkt synth-digits (no FSDD, or --corpus synth)"
    lang, lang_test = work / "data" / "lang", work / "data" / "lang_test"
    prepare_lang(dirs["dict"], lang, 0.5, False, None)
    make_word_loop(lang, lang_test, ())
    for name in ("train", "test"):
        res[f"{name}_audio_seconds"] = _audio_seconds(dirs[name])
        for kind in ("mfcc", "fbank"):
            d = _copy_data(dirs[name], work / kind / name)
            cfg = FeatConfig(type=kind, num_mel_bins=23,
                             use_energy=False if kind == "mfcc" else None)
            make_feats(DataDir(d), work / kind / "ark", cfg, nj=2)
            compute_cmvn(DataDir(d))
        frames = sum(int(v) for v in DataDir(work / "fbank" / name).utt2num_frames.values())
        res[f"{name}_frames"] = frames
        res[f"{name}_utts"] = len(DataDir(work / "fbank" / name).utterances)
    # item 6: GMM training passes and alignment, one job, one thread
    mono, ali = work / "exp" / "mono", work / "exp" / "mono_ali"
    num_iters = 8 if quick else 12
    realign = "1 2 3 4 6" if quick else "1 2 3 4 5 6 8 10"
    cfg = TrainMonoConfig(num_iters=num_iters, max_iter_inc=num_iters - 2, totgauss=400,
                          realign_iters=realign)
    with Clock() as c:
        model = train_mono(work / "mfcc" / "train", lang, mono, cfg, nj=1)
    n_realign = len(realign.split())
    res["train_mono"] = {"passes": num_iters, "realignments": n_realign, "wall": c.wall,
                         "cpu": c.cpu, "frames": res["train_frames"],
                         "frame_passes_per_cpu_s": res["train_frames"] * num_iters / c.cpu,
                         "num_pdfs": model.num_pdfs, "num_gauss": model.num_gauss}
    with Clock() as c:
        done, failed = align_data(work / "mfcc" / "train", lang, mono, ali, nj=1)
    res["align"] = {"wall": c.wall, "cpu": c.cpu, "utts": done, "failed": len(failed),
                    "frames_per_cpu_s": res["train_frames"] / c.cpu}
    write_pdf_alignments(ali, f"scp:{ali}/ali.scp", ali / "pdf.ark")
    make_graph(lang_test, mono, mono / "graph")
    res["num_pdfs"] = model.num_pdfs
    return res


# --------------------------------------------------------------------------------------------
# train: items 1 (FLOP/s vs torch.mm at the same shapes) and 2 (share outside fwd/bwd/opt)
# --------------------------------------------------------------------------------------------
class _Limited:
    """The first ``n`` batches of a loader (same generator, same batches)."""

    def __init__(self, loader, n: int):
        self.loader, self.n = loader, n

    def __len__(self) -> int:
        return min(self.n, len(self.loader))

    def batches(self, epoch: int):
        import itertools

        return itertools.islice(self.loader.batches(epoch), self.n)


def _load_training(work: Path, conf: str, model_name: str, overrides: Dict[str, Any]):
    import dataclasses

    from asrkt.data.datadir import DataDir
    from asrkt.nnet.config import FinetuneConfig, TeacherConfig
    from asrkt.nnet.corpus import load_corpus, split_holdout
    from asrkt.nnet.expdir import new_pipeline
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.models import ModelSpec, build_model
    from asrkt.nnet.steps import load_targets
    from asrkt.utils.config import resolve_config

    cls = TeacherConfig if model_name == "dnn" else FinetuneConfig
    cfg = resolve_config(cls, ROOT / conf, dict(overrides, device="cpu", num_threads=1))
    data = DataDir(work / "fbank" / "train")
    loss = LossSpec(1.0, 0.0, 1.0)
    targets = load_targets(loss, work / "exp" / "mono_ali", None, 1.0)
    train_utts, _ = split_holdout(data.utterances, cfg.cv_fraction, cfg.seed)
    pipeline = new_pipeline(cfg, data, train_utts)
    corpus = load_corpus(pipeline, data, train_utts, sources=targets.sources,
                         tolerance=cfg.length_tolerance)
    spec = ModelSpec(cfg.model, cfg.num_layers, cfg.hidden_dim, cfg.proj_dim, cfg.splice,
                     cfg.target_delay, cfg.dropout)
    import torch

    torch.manual_seed(cfg.seed)
    model = build_model(spec, corpus.dim, targets.num_pdfs)
    return cfg, corpus, model, loss, targets, pipeline, dataclasses.asdict(cfg)


def _instrumented_epoch(trainer, loader, epoch: int) -> Dict[str, float]:
    """One training epoch of Trainer.run_epoch itself, split into phases (data, forward,
    backward, optimizer, other; CPU time, one thread) by the trainer's StepProfiler hooks.

    Args:
        trainer: a Trainer made with ``hooks=StepProfiler(clock=time.process_time)``.
        loader: the batches.
        epoch: epoch number (seeds the shuffling).
    """
    trainer.run_epoch(loader, epoch, train=True)
    return trainer.hooks.epochs[-1]


def _profile_step(trainer, loader, steps: int = 5) -> Dict[str, Any]:
    """Training steps of Trainer.run_epoch under torch.profiler: ops dispatched per step and the
    share of GEMM time in the ops' self time."""
    from torch.profiler import ProfilerActivity, profile

    limited = _Limited(loader, steps)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.run_epoch(limited, 99, train=True)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    gemm = sum(e.self_cpu_time_total for e in events
               if e.key in ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul",
                            "aten::linear", "aten::_mkldnn_rnn", "aten::mkldnn_rnn_layer",
                            "aten::mkldnn_rnn_layer_backward"))
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    n = max(len(limited), 1)
    return {"ops_dispatched": int(sum(e.count for e in events)) // n,
            "gemm_self_time_share": gemm / max(total, 1e-9),
            "top_ops": [(e.key, int(e.count) // n,
                         round(e.self_cpu_time_total / max(total, 1e-9), 3)) for e in top]}


def _gemms_for(model, cfg, num_pdfs: int, dim: int):
    from bench_flops import dnn_step_gemms, lstmp_step_gemms

    if model.recurrent:
        return lstmp_step_gemms(cfg.num_streams, cfg.chunk_len, model.spliced_dim, cfg.num_layers,
                                cfg.hidden_dim, cfg.proj_dim, num_pdfs)
    return dnn_step_gemms(cfg.batch_size,
                          [model.spliced_dim] + [cfg.hidden_dim] * cfg.num_layers + [num_pdfs])


def _lstm_variants(cfg, dim: int, num_pdfs: int, steps: int) -> Dict[str, Any]:
    """The same [S, C] step (no padding) for asrkt's LSTMP layer and torch.nn.LSTM variants."""
    import torch
    from torch import nn

    from asrkt.nnet.models.lstmp import LSTMPStack
    from bench_flops import lstmp_step_gemms, mm_bound

    s, c = cfg.num_streams, cfg.chunk_len
    x = torch.randn(s, c, dim)
    y = torch.randint(0, num_pdfs, (s * c,))
    out: Dict[str, Any] = {}
    variants = {"lstmp_asrkt": (cfg.hidden_dim, cfg.proj_dim),
                "lstmp_torch": (cfg.hidden_dim, cfg.proj_dim),
                "lstm_no_proj_same_cells": (cfg.hidden_dim, 0)}
    for name, (cells, proj) in variants.items():
        torch.manual_seed(0)
        if name == "lstmp_asrkt":
            rnn = LSTMPStack(dim, cells, cfg.num_layers, proj)
        else:
            rnn = nn.LSTM(dim, cells, cfg.num_layers, batch_first=True, proj_size=proj)
        head = nn.Linear(proj or cells, num_pdfs)
        opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)

        def step(train=True, rnn=rnn, head=head, opt=opt):
            h, _ = rnn(x)
            loss = nn.functional.cross_entropy(head(h).reshape(-1, num_pdfs), y)
            if train:
                opt.zero_grad()
                loss.backward()
                opt.step()

        for _ in range(2):
            step()
        t = time.process_time()
        for _ in range(steps):
            step()
        train_s = (time.process_time() - t) / steps
        with torch.no_grad():
            t = time.process_time()
            for _ in range(steps):
                step(False)
            fwd_s = (time.process_time() - t) / steps
        bound = mm_bound(lstmp_step_gemms(s, c, dim, cfg.num_layers, cells, proj, num_pdfs),
                         0.01)
        out[name] = {"step_cpu_s": train_s, "forward_only_cpu_s": fwd_s,
                     "mm_bound_s": bound["seconds"], "ratio": bound["seconds"] / train_s}
    return out


def _two_threads(two: Dict[str, float], one: Dict[str, float]) -> Dict[str, float]:
    """2 intra-op threads (torch's default on this machine) against 1, same step."""
    return {"frames_per_cpu_s": two["frames"] / two["total"],
            "frames_per_wall_s": two["frames"] / two["wall"],
            "one_thread_frames_per_wall_s": one["frames"] / one["wall"],
            "wall_speedup_vs_1_thread":
                (two["frames"] / two["wall"]) / (one["frames"] / one["wall"])}


def stage_train(args: Dict[str, Any]) -> Dict[str, Any]:
    import torch

    _threads(1)
    from asrkt.nnet.loaders import make_loader
    from asrkt.nnet.modelio import model_payload, save_torch
    from asrkt.nnet.trainer import Trainer
    from bench_flops import flops, mm_bound

    work = Path(args["work"])
    name = args["model"]
    cfg, corpus, model, loss, targets, pipeline, cfg_dict = _load_training(
        work, args["conf"], name, args.get("overrides", {}))
    loader = make_loader(corpus, model, cfg.batch_size, cfg.num_streams, cfg.chunk_len, True,
                         cfg.seed)
    exp = work / "exp" / f"bench_{name}"
    exp.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, loader, loader, loss, cfg, exp, lambda m: {},
                      hooks=StepProfiler(clock=time.process_time))
    num_pdfs = targets.num_pdfs
    gemms = _gemms_for(model, cfg, num_pdfs, corpus.dim)
    step_flops = flops(gemms)
    res: Dict[str, Any] = {"model": name, "config": args["conf"], "num_pdfs": num_pdfs,
                           "input_dim": corpus.dim, "spliced_dim": model.spliced_dim,
                           "corpus_frames": corpus.num_frames,
                           "parameters": sum(p.numel() for p in model.parameters()),
                           "step_gemm_flops": step_flops, "num_streams": cfg.num_streams,
                           "chunk_len": cfg.chunk_len, "batch_size": cfg.batch_size,
                           "optimizer": cfg.optimizer}
    # warm-up (allocator, first-touch), then alternate mm bound and training epochs; the best
    # of each (noise on a shared machine only ever adds time)
    trainer.run_epoch(_Limited(loader, 3), 0, train=True)
    bounds, epochs = [], []
    for epoch in range(1, args["epochs"] + 1):
        bounds.append(mm_bound(gemms, args.get("mm_seconds", 0.02)))
        epochs.append(_instrumented_epoch(trainer, loader, epoch))
    bounds.append(mm_bound(gemms, args.get("mm_seconds", 0.02)))
    bound = min(bounds, key=lambda b: b["seconds"])
    ep = min(epochs, key=lambda e: e["total"] / max(e["frames"], 1))
    step_s = ep["total"] / ep["steps"]
    frames_per_s = ep["frames"] / ep["total"]
    # FLOPs per (valid) frame: the step's GEMM work over the frames it trains on; padding
    # positions (recurrent chunks) are work that trains nothing.
    flops_per_frame = step_flops * ep["steps"] / ep["frames"]
    nominal = (cfg.num_streams * cfg.chunk_len) if model.recurrent else cfg.batch_size
    res.update(
        epochs=epochs, mm_bound=bound,
        frames_per_cpu_s=frames_per_s, step_cpu_s=step_s,
        gemm_flops_per_frame_nominal=step_flops / nominal,
        useful_gflops_per_s=step_flops / nominal * frames_per_s / 1e9,
        achieved_gflops_per_s=flops_per_frame * frames_per_s / 1e9,
        ratio_vs_mm=(step_flops / nominal * frames_per_s / 1e9) / bound["gflops_per_s"],
        ratio_vs_mm_incl_padding=bound["seconds"] / step_s,
        padding_share=1 - ep["frames"] / max(ep["positions"], 1),
        outside_share=1 - (ep["forward"] + ep["backward"] + ep["optimizer"]) / ep["total"],
        data_share=ep["data"] / ep["total"],
        phase_shares={k: ep[k] / ep["total"] for k in
                      ("data", "forward", "backward", "optimizer", "other")})
    # the trainer's own wall-clock data share (EpochStats.data_seconds, as in train.jsonl)
    real = trainer.run_epoch(_Limited(loader, max(20, min(len(loader), args["real_steps"]))),
                             50, train=True)
    res["trainer_run_epoch"] = {"frames_per_wall_s": real.frames / real.seconds,
                                "data_share": real.data_seconds / real.seconds,
                                "frames": real.frames}
    # peak matrix-multiply rate of the machine (one thread), for scale
    from bench_flops import time_mm

    res["mm_peak_gflops_1024"] = 2 * 1024 ** 3 / time_mm((1024, 1024, 1024), 0.1) / 1e9
    res["profile"] = _profile_step(trainer, loader)
    if model.recurrent and args.get("diagnose", True):
        res["lstm_variants"] = _lstm_variants(cfg, model.spliced_dim, num_pdfs,
                                              args.get("variant_steps", 5))
        # thread settings: the same step with 2 intra-op threads (torch's default here)
        torch.set_num_threads(2)
        two = _instrumented_epoch(trainer, _Limited(loader, args.get("two_thread_steps", 10)), 60)
        torch.set_num_threads(1)
        res["two_threads"] = _two_threads(two, ep)
    elif not model.recurrent and args.get("diagnose", True):
        torch.set_num_threads(2)
        two = _instrumented_epoch(trainer, _Limited(loader, args.get("two_thread_steps", 40)), 60)
        torch.set_num_threads(1)
        res["two_threads"] = _two_threads(two, ep)
        # Kaldi nnet1's optimiser (plain SGD), for comparison with the recipe's Adam
        trainer.optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        sgd = _instrumented_epoch(trainer, _Limited(loader, args.get("sgd_steps", 200)), 61)
        sgd_step = sgd["total"] / sgd["steps"]
        res["with_sgd"] = {
            "frames_per_cpu_s": sgd["frames"] / sgd["total"],
            "ratio_vs_mm": bound["seconds"] / sgd_step * (sgd["frames"] / sgd["steps"]) / nominal,
            "optimizer_share": sgd["optimizer"] / sgd["total"],
            "outside_share":
                1 - (sgd["forward"] + sgd["backward"] + sgd["optimizer"]) / sgd["total"]}
    counts = torch.as_tensor(targets.pdf_counts) if targets.pdf_counts is not None else None
    save_torch(model_payload(model, pipeline, counts, "bench", cfg_dict), exp / "final.pt")
    res["model_path"] = str(exp / "final.pt")
    return res


# --------------------------------------------------------------------------------------------
# feats: item 3
# --------------------------------------------------------------------------------------------
def stage_feats(args: Dict[str, Any]) -> Dict[str, Any]:
    import torch

    _threads(1)
    try:
        import kaldi_native_fbank as knf
    except ImportError:  # the reference is a test extra; measure asrkt alone
        knf = None

    from asrkt.data.datadir import DataDir
    from asrkt.data.subset import subset_data_dir
    from asrkt.feats.extract import FeatConfig, compute_features, make_feats

    work = Path(args["work"])
    data = DataDir(work / "fbank" / "train")  # wav.scp of the training set (any corpus)
    utts = data.utterances[: args["utts"]]
    audio = [(u, s, r) for u, s, r in data.iter_audio(utts)]
    seconds = sum(len(s) / r for _, s, r in audio)
    cfg = FeatConfig(type="fbank", num_mel_bins=23)

    def ours():
        return [compute_features(s, r, cfg, u) for u, s, r in audio]

    def kaldi_native():
        out = []
        for _, s, r in audio:
            opts = knf.FbankOptions()
            opts.frame_opts.samp_freq = float(r)
            opts.frame_opts.dither = cfg.dither
            opts.frame_opts.snip_edges = cfg.snip_edges
            opts.frame_opts.window_type = cfg.window_type
            opts.mel_opts.num_bins = cfg.num_mel_bins
            opts.mel_opts.low_freq = cfg.low_freq
            opts.mel_opts.high_freq = cfg.high_freq
            fb = knf.OnlineFbank(opts)
            fb.accept_waveform(float(r), s)
            fb.input_finished()
            out.append(np.array([fb.get_frame(i) for i in range(fb.num_frames_ready)],
                                dtype=np.float32))
        return out

    if knf is None:
        kaldi_native = ours  # noqa: F811 (no reference: the ratio row reads 1.0, see "knf")
    full = audio
    audio = audio[:10]  # warm-up: lazy imports, allocator, first calls
    ours()
    kaldi_native()
    audio = full
    times = {"asrkt": [], "knf": []}
    results = {}
    for _ in range(args["repeats"]):
        for name, fn in (("asrkt", ours), ("knf", kaldi_native)):
            t = time.process_time()
            results[name] = fn()
            times[name].append(time.process_time() - t)
    # diagnostic: compute_features seeds dither with torch.manual_seed, which in a CUDA build
    # also queues lazy seeding of cuda/xpu/mtia (a Python traceback each call); seeding only the
    # CPU generator gives identical features
    manual_seed = torch.manual_seed
    torch.manual_seed = lambda seed: torch.default_generator.manual_seed(seed)
    try:
        cpu_only = []
        for _ in range(args["repeats"]):
            t = time.process_time()
            patched = ours()
            cpu_only.append(time.process_time() - t)
    finally:
        torch.manual_seed = manual_seed
    identical = all(np.array_equal(x, y) for x, y in zip(patched, results["asrkt"], strict=True))
    a, k = min(times["asrkt"]), min(times["knf"])
    diffs = [float(np.max(np.abs(x - y)) / (np.max(np.abs(y)) + 1e-9))
             for x, y in zip(results["asrkt"], results["knf"], strict=True) if x.shape == y.shape]
    res = {"utts": len(audio), "audio_seconds": seconds, "cpu_s": times,
           "asrkt_x_realtime_per_core": seconds / a, "knf_x_realtime_per_core": seconds / k,
           "ratio_vs_knf": k / a, "same_shapes": len(diffs) == len(audio),
           "max_rel_diff_dither_on": max(diffs) if diffs else None,
           "knf": "kaldi-native-fbank" if knf is not None else "NOT INSTALLED (ratio meaningless)",
           "with_cpu_only_seeding": {"cpu_s": cpu_only, "ratio_vs_knf": k / min(cpu_only),
                                     "x_realtime_per_core": seconds / min(cpu_only),
                                     "identical_features": identical}}
    # the whole make-feats job (read wav, extract, write ark/scp) at one thread
    sub = work / "feats_bench" / "data"
    subset_data_dir(data.path, sub, utts)
    for name in ("feats.scp", "cmvn.scp", "utt2num_frames"):  # make-feats writes them anew
        (sub / name).unlink(missing_ok=True)
    with Clock() as c:
        make_feats(DataDir(sub), work / "feats_bench" / "ark", cfg, nj=1)
    res["make_feats_nj1"] = {"wall": c.wall, "cpu": c.cpu,
                             "x_realtime_per_core": seconds / c.cpu}
    torch.manual_seed = lambda seed: torch.default_generator.manual_seed(seed)
    try:
        with Clock() as cp:
            make_feats(DataDir(sub), work / "feats_bench" / "ark_cpu_seed", cfg, nj=1)
    finally:
        torch.manual_seed = manual_seed
    res["make_feats_nj1"]["with_cpu_only_seeding_x_realtime_per_core"] = seconds / cp.cpu
    if args.get("threads_check"):
        # what `asrkt make-feats --nj 1` runs with on this machine: torch's default threads
        # (2); the same few utterances at 1 and at 2 threads
        few = utts[: args["threads_check"]]
        subset_data_dir(sub, sub, few)
        few_seconds = sum(len(s) / r for u, s, r in audio if u in set(few))
        walls = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with Clock() as c2:
                make_feats(DataDir(sub), work / "feats_bench" / f"ark{threads}", cfg, nj=1)
            walls[threads] = c2
        torch.set_num_threads(1)
        res["make_feats_nj1_threads"] = {
            "utts": len(few), "audio_seconds": few_seconds,
            "wall_1_thread": walls[1].wall, "wall_2_threads": walls[2].wall,
            "cpu_2_threads": walls[2].cpu,
            "slowdown_wall_2_vs_1": walls[2].wall / walls[1].wall}
    return res


# --------------------------------------------------------------------------------------------
# decode: item 4 (forward and decoding real-time factors per core)
# --------------------------------------------------------------------------------------------
def _batched_forward(model_path: str, data_dir: Path, seconds: float,
                     streams: int = 32) -> Dict[str, float]:
    """What batching would give: the same model over the test set, ``streams`` utterances of
    similar length per call (padded), instead of one utterance per call as `asrkt forward`."""
    import torch

    from asrkt.data.datadir import DataDir
    from asrkt.nnet.modelio import load_model

    loaded = load_model(model_path, "cpu")
    model = loaded.model.eval()
    feats = [f for _, f in loaded.pipeline.iter_features(DataDir(data_dir),
                                                         DataDir(data_dir).utterances)]
    feats.sort(key=len)
    offsets = torch.tensor(model.input_offsets())
    with torch.no_grad(), Clock() as c:
        for i in range(0, len(feats), streams):
            group = feats[i:i + streams]
            longest = max(len(f) for f in group)
            batch = []
            for f in group:
                x = torch.from_numpy(f)
                pos = (torch.arange(len(f))[:, None] + offsets).clamp(0, len(f) - 1)
                x = x[pos].flatten(1)
                batch.append(torch.nn.functional.pad(x, (0, 0, 0, longest - len(f))))
            logits, _ = model(torch.stack(batch))
            torch.log_softmax(logits, dim=-1)
    return {"streams": streams, "cpu": c.cpu, "rtf_per_core": c.cpu / seconds,
            "note": "model compute only (no feature pipeline, no ark writing)"}


def stage_decode(args: Dict[str, Any]) -> Dict[str, Any]:
    _threads(1)
    from asrkt.decode.decoder import DecodeConfig, run_decode, table_keys, table_source
    from asrkt.decode.score import score_decode_dir
    from asrkt.hmm.model import GmmModel
    from asrkt.nnet.inference import forward

    work = Path(args["work"])
    test = work / "fbank" / "test"
    seconds = args["audio_seconds"]
    out_dir = work / "exp" / f"bench_{args['model']}" / "loglikes_test"
    with Clock() as c:
        forward(args["model_path"], test, out_dir, device="cpu")
    res: Dict[str, Any] = {"audio_seconds": seconds, "forward_cpu": c.cpu, "forward_wall": c.wall,
                           "forward_rtf_per_core": c.cpu / seconds}
    if args.get("batched_forward"):
        res["forward_batched"] = _batched_forward(args["model_path"], test, seconds)
    graph = work / "exp" / "mono" / "graph"
    model = GmmModel.load(work / "exp" / "mono")
    rspec = f"scp:{out_dir}/loglikes.scp"
    utts = table_keys(rspec)
    for tag, cfg in (("single", DecodeConfig(min_lmwt=10, max_lmwt=10)),
                     ("sweep", DecodeConfig()))[: 2 if args.get("sweep") else 1]:
        decode_dir = work / "exp" / f"bench_{args['model']}" / f"decode_{tag}"
        with Clock() as c:
            run_decode(graph, model, utts, table_source(rspec), decode_dir, cfg, nj=1)
        lmwt, line = score_decode_dir(test, decode_dir)
        res[f"decode_{tag}"] = {"lm_weights": len(cfg.weights()), "cpu": c.cpu, "wall": c.wall,
                                "rtf_per_core": c.cpu / seconds, "wer": line}
    return res


# --------------------------------------------------------------------------------------------
# scale: item 5 (one corpus size per process; 4x = the training data repeated)
# --------------------------------------------------------------------------------------------
def make_repeated(work: Path, times: int) -> Dict[str, Path]:
    """fbank/train and mono_ali repeated ``times`` (utt and speaker ids prefixed r<k>-)."""
    from asrkt.data.kaldi_files import read_map, write_map
    from asrkt.io.tables import ArkScpWriter, read_table
    from asrkt.nnet.targets import read_kaldi_text_vector, write_kaldi_text_vector

    src, ali = work / "fbank" / "train", work / "exp" / "mono_ali"
    dst, dali = work / "scale" / f"x{times}" / "data", work / "scale" / f"x{times}" / "ali"
    if (dst / "feats.scp").exists() and (dali / "pdf.scp").exists():
        return {"data": dst, "ali": dali}
    dst.mkdir(parents=True, exist_ok=True)
    dali.mkdir(parents=True, exist_ok=True)
    maps = {n: read_map(src / n) for n in ("wav.scp", "text", "utt2spk", "feats.scp",
                                           "utt2num_frames", "cmvn.scp")}
    rep = lambda k, key: f"r{k}-{key}"  # noqa: E731
    for name in ("wav.scp", "text", "feats.scp", "utt2num_frames"):
        write_map(dst / name, {rep(k, u): v for k in range(times) for u, v in maps[name].items()})
    write_map(dst / "utt2spk", {rep(k, u): rep(k, s) for k in range(times)
                                for u, s in maps["utt2spk"].items()})
    write_map(dst / "cmvn.scp", {rep(k, s): v for k in range(times)
                                 for s, v in maps["cmvn.scp"].items()})
    from asrkt.data.kaldi_files import invert_utt2spk, write_lists

    write_lists(dst / "spk2utt", invert_utt2spk(read_map(dst / "utt2spk")))
    pdfs = dict(read_table(f"scp:{ali}/pdf.scp"))
    with ArkScpWriter(dali / "pdf.ark", dali / "pdf.scp") as writer:
        for key in sorted((rep(k, u) for k in range(times) for u in pdfs),
                          key=lambda s: s.encode()):
            writer.write(key, np.asarray(pdfs[key.split("-", 1)[1]], dtype=np.int32))
    write_kaldi_text_vector(dali / "pdf_counts", read_kaldi_text_vector(ali / "pdf_counts") * times)
    return {"data": dst, "ali": dali}


def _rss_mb() -> float:
    """Current resident set size of this process."""
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


class _ScaleRecorder(StepProfiler):
    """CPU time of each training epoch (StepProfiler) and, for each corpus train-teacher loads,
    the bytes its tensors hold and this process's RSS then."""

    def __init__(self):
        super().__init__(clock=time.process_time)
        self.corpora: List[Dict[str, float]] = []

    def corpus_loaded(self, name: str, corpus) -> None:
        """``corpus`` is the command's BlockReader; in memory it reads its one block now."""
        block = next(iter(corpus.blocks(0))) if corpus.in_memory else None
        tensors = ([] if block is None else
                   [block.feats, block.frame_lo, block.frame_hi, *block.targets.values()])
        self.corpora.append({"name": name, "frames": corpus.num_frames,
                             "bytes": int(sum(t.element_size() * t.numel() for t in tensors)),
                             "rss_mb": _rss_mb()})


def stage_scale(args: Dict[str, Any]) -> Dict[str, Any]:
    _threads(1)
    import resource

    from asrkt.nnet.config import TeacherConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from asrkt.utils.config import resolve_config

    work = Path(args["work"])
    paths = make_repeated(work, args["times"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recorder = _ScaleRecorder()
    cfg = resolve_config(TeacherConfig, ROOT / args["conf"],
                         dict(args.get("overrides", {}), device="cpu", num_threads=1,
                              max_epochs=1))
    exp = work / "scale" / f"x{args['times']}" / "exp"
    with Clock() as c:
        train_supervised("train-teacher", cfg, paths["data"], exp, LossSpec(1.0, 0.0, 1.0),
                         ali_dir=paths["ali"], hooks=recorder)
    epochs = [{"epoch": e["epoch"], "cpu": e["total"], "wall": e["wall"], "frames": e["frames"]}
              for e in recorder.epochs]
    return {"times": args["times"], "epochs": epochs, "command_cpu": c.cpu,
            "corpora": recorder.corpora, "command_wall": c.wall,
            "rss_after_imports_mb": rss_before,
            "train_frames": epochs[0]["frames"] if epochs else None}


# --------------------------------------------------------------------------------------------
# stream: item 7 (one corpus size per process, streaming in blocks of a fixed size)
# soft: item 8 (bytes per frame of dense vs top-k soft targets; KT with the teacher on the fly)
# --------------------------------------------------------------------------------------------
def _train_epochs(profiler: StepProfiler) -> List[Dict[str, float]]:
    """CPU time, wall time and frames of each training epoch a StepProfiler timed."""
    return [{"epoch": e["epoch"], "cpu": e["total"], "wall": e["wall"], "frames": e["frames"]}
            for e in profiler.epochs if e["train"]]


def stage_stream(args: Dict[str, Any]) -> Dict[str, Any]:
    """One epoch of a small DNN on the synthetic corpus at ``times`` x ``base_utts``
    utterances, the data read in blocks of ``buffer_frames`` (peak RSS: run_stage)."""
    _threads(1)
    from asrkt.nnet.config import TeacherConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    root = Path(args["work"]) / "stream" / f"x{args['times']}"
    with Clock() as made:
        data, ali = make_synthetic_corpus(root / "corpus", num_utts=args["base_utts"] *
                                          args["times"], dim=args["dim"], num_pdfs=48,
                                          min_len=200, max_len=400)
    profiler = StepProfiler(clock=time.process_time)
    cfg = TeacherConfig(device="cpu", num_threads=1, cmvn="utterance", num_layers=2,
                        hidden_dim=128, splice=5, max_epochs=1, cv_fraction=0.05,
                        buffer_frames=args["buffer_frames"])
    with Clock() as c:
        train_supervised("train-teacher", cfg, data, root / "exp", LossSpec(1.0, 0.0, 1.0),
                         ali_dir=ali, hooks=profiler)
    epochs = _train_epochs(profiler)
    shutil.rmtree(root, ignore_errors=True)
    return {"times": args["times"], "epochs": epochs, "command_cpu": c.cpu,
            "command_wall": c.wall, "corpus_seconds": made.wall,
            "train_frames": epochs[0]["frames"] if epochs else None}


def _random_teacher(path: Path, data: Path, num_pdfs: int, dim: int) -> Path:
    """A randomly initialised DNN teacher with ``num_pdfs`` outputs, saved as final.pt."""
    import torch

    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
    from asrkt.nnet.modelio import model_payload
    from asrkt.nnet.models import ModelSpec, build_model

    torch.manual_seed(0)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="utterance")).fit(DataDir(data))
    model = build_model(ModelSpec("dnn", 2, 256, 0, 5, 0), dim, num_pdfs)
    path.mkdir(parents=True, exist_ok=True)
    torch.save(model_payload(model, pipeline, torch.ones(num_pdfs), "bench", {}),
               path / "final.pt")
    return path


def _soft_bytes(teacher: Path, data: Path, post: Path, top_k, frames: int) -> Dict[str, Any]:
    """Disk and memory bytes per frame of a dump (dense, or top-k Posterior)."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
    from asrkt.nnet.corpus import TargetSource, load_corpus
    from asrkt.nnet.inference import dump_posteriors
    from asrkt.nnet.posteriors import SoftTargetTable

    with Clock() as c:
        dump_posteriors(teacher, data, post, top_k=top_k, device="cpu")
    table = SoftTargetTable(post)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="none")).fit(DataDir(data))
    corpus = load_corpus(pipeline, DataDir(data), sources={"soft": TargetSource(table, "")})
    held = sum(t.element_size() * t.numel() for t in corpus.targets.values())
    return {"disk_bytes_per_frame": (post / "post.ark").stat().st_size / frames,
            "memory_bytes_per_frame": held / corpus.num_frames, "dump_cpu": c.cpu}


def stage_soft(args: Dict[str, Any]) -> Dict[str, Any]:
    """Soft-target bytes per frame, dense vs top-k, at each of ``pdfs``; one KT epoch of a
    small LSTM reading a top-k dump vs running the teacher on the fly."""
    _threads(1)
    from asrkt.data.datadir import DataDir
    from asrkt.nnet.config import StudentConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from tests.helpers.synthetic_nnet import make_synthetic_corpus

    root = Path(args["work"]) / "soft"
    data, _ = make_synthetic_corpus(root / "corpus", num_utts=args["utts"], dim=40,
                                    min_len=200, max_len=400)
    frames = sum(DataDir(data).utt2num_frames.values())
    k = args["top_k"]
    res: Dict[str, Any] = {"top_k": k, "frames": frames, "pdfs": {}}
    for pdfs in args["pdfs"]:
        teacher = _random_teacher(root / f"teacher{pdfs}", data, pdfs, 40)
        res["pdfs"][str(pdfs)] = {
            name: _soft_bytes(teacher, data, root / f"post{pdfs}_{name}", top, frames)
            for name, top in (("dense", None), ("top_k", min(k, pdfs)))}
    pdfs = args["pdfs"][-1]
    kt = {}
    for name, source in (("dump", {"post_dir": root / f"post{pdfs}_top_k"}),
                         ("on_the_fly", {"teacher": root / f"teacher{pdfs}"})):
        cfg = StudentConfig(device="cpu", num_threads=1, cmvn="utterance", num_layers=1,
                            hidden_dim=128, proj_dim=64, max_epochs=1, teacher_top_k=k,
                            temperature=1.0)
        profiler = StepProfiler(clock=time.process_time)
        train_supervised("kt-pretrain", cfg, data, root / f"kt_{name}",
                         LossSpec(0.0, 1.0, 1.0), hooks=profiler, **source)
        kt[name] = _train_epochs(profiler)[-1]
    res["kt"] = kt
    shutil.rmtree(root, ignore_errors=True)
    return res


# --------------------------------------------------------------------------------------------
# ddp: item 9 (data-parallel scaling: N processes x 1 thread under torchrun vs 1 x 1)
# --------------------------------------------------------------------------------------------
def _torchrun_epochs(command: List[str], nproc: int, exp: Path) -> List[Dict[str, Any]]:
    """Run ``torchrun --nproc-per-node NPROC -m asrkt COMMAND... EXP`` (one thread per
    process); the training epochs of its train.jsonl (rank 0's wall clock, all ranks' frames).

    Args:
        command: the asrkt command and its arguments before EXP_DIR.
        nproc: processes.
        exp: the experiment directory.
    """
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([str(torchrun), "--nproc-per-node", str(nproc), "--master-addr",
                           "127.0.0.1", "--master-port", str(port), "-m", "asrkt", *command,
                           str(exp)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    if proc.returncode:
        raise RuntimeError(f"torchrun exited with {proc.returncode}: {proc.stdout[-2000:]}"
                           f"{proc.stderr[-2000:]}")
    lines = [json.loads(x) for x in (exp / "train.jsonl").read_text().splitlines()]
    return [x for x in lines if x.get("train_frames")]


def stage_ddp(args: Dict[str, Any]) -> Dict[str, Any]:
    """Training frames/s of 1 and 2 processes (1 thread each; the per-process minibatch of
    the recipe, so 2 processes train on twice the frames per step) for the DNN
    (train-teacher; also with --accum-grad 4: one all-reduce per 4 minibatches) and the LSTMP
    (finetune from scratch) at the recipe sizes; the best epoch of ``epochs`` (the first one
    pays the warm-up)."""
    work = Path(args["work"])
    data, ali = work / "fbank" / "train", work / "exp" / "mono_ali"
    epochs = str(args.get("epochs", 2))
    res: Dict[str, Any] = {}
    for key, command, conf, extra in (
            ("dnn", "train-teacher", "recipes/synth_digits/conf/dnn.yaml", []),
            ("dnn_accum4", "train-teacher", "recipes/synth_digits/conf/dnn.yaml",
             ["--accum-grad", "4"]),
            ("lstm", "finetune", "recipes/synth_digits/conf/lstm.yaml", [])):
        runs = {}
        for nproc in (1, 2):
            exp = work / "ddp" / f"{key}_{nproc}"
            lines = _torchrun_epochs([command, "--config", str(ROOT / conf), "--device", "cpu",
                                      "--num-threads", "1", "--max-epochs", epochs,
                                      "--min-epochs", epochs, *extra, str(data), str(ali)],
                                     nproc, exp)
            best = max(lines, key=lambda x: x["frames_per_s"])
            runs[nproc] = {"frames_per_s": best["frames_per_s"], "epochs": lines}
            shutil.rmtree(exp, ignore_errors=True)
        res[key] = {"one": runs[1], "two": runs[2],
                    "speedup": runs[2]["frames_per_s"] / runs[1]["frames_per_s"]}
    return res


# --------------------------------------------------------------------------------------------
# lmgraph: decoding on a real trigram graph (one search, the LM-weight sweep, Kaldi's search)
# --------------------------------------------------------------------------------------------
def stage_lmgraph_setup(args: Dict[str, Any]) -> Dict[str, Any]:
    """The synthetic trigram task of tests/helpers/lm_graph.py at bench size."""
    _threads(1)
    from asrkt.decode.lattice import load_graph
    from tests.helpers.lm_graph import make_lm_system

    root = Path(args["work"]) / "lmgraph"
    paths = make_lm_system(root, num_words=args["words"], num_sentences=args["sentences"],
                           num_test=args["test_utts"])
    graph = load_graph(paths["graph"] / "HCLG.fst")
    counts = [line.split("=")[1] for line in paths["arpa"].read_text().splitlines()[:5]
              if line.startswith("ngram ")]
    return {"root": str(root), "hclg_states": graph.num_states, "hclg_arcs": graph.num_arcs,
            "hclg_mb": (paths["graph"] / "HCLG.fst").stat().st_size / 2**20,
            "ngrams": [int(c) for c in counts], "words": args["words"]}


def _proc_status_mb(field: str) -> float:
    """A memory figure of /proc/self/status (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: clear_refs 5), so that VmHWM afterwards is
    the peak of what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def stage_lmgraph_decode(args: Dict[str, Any]) -> Dict[str, Any]:
    """Decode the test utterances on a real graph in one mode: ``single`` (asrkt, one LM
    weight), ``sweep`` (asrkt, the LM weights of the decode config from one search), ``kaldi``
    (kaldi-hmm-gmm's LatticeFasterDecoder, one weight) or ``kaldi_binaries`` (latgen-faster-mapped
    + lattice-best-path per weight): CPU time of the decoding loop, resident memory before it
    and its peak during it (VmHWM reset before the loop).

    Two tasks: the synthetic trigram graph of ``lmgraph_setup`` (args ``root``, ``flatten``), or
    with ``loglikes_ark`` a stored archive of per-frame pdf log-likelihoods decoded through
    ``graph_dir`` with ``model_dir``'s transition model and the decode options ``config``
    (``so762_setup``: a recipe's dev set, its GMM's log-likelihoods and graph).

    The toy GMM separates its three phones almost perfectly, which leaves a search nothing to
    prune; its log-likelihoods are scaled by ``flatten`` so that the 2,000 words made of those
    phones compete as words do in real speech (the search then runs at max-active).
    """
    _threads(1)
    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import DecodeConfig, Decoder, gmm_source
    from asrkt.hmm.model import GmmModel

    if "loglikes_ark" in args:
        import kaldiio

        model_dir, graph_dir = Path(args["model_dir"]), Path(args["graph_dir"])
        model = GmmModel.load(model_dir)
        loglikes = {u: np.asarray(m, dtype=np.float32)
                    for u, m in kaldiio.load_ark(args["loglikes_ark"])}
        config = DecodeConfig(**args["config"])
        work = Path(args["work"]) / "so762" / "kaldi_binaries"
    else:
        root = Path(args["root"])
        model_dir, graph_dir = root / "exp", root / "graph"
        model = GmmModel.load(model_dir)
        test = root / "test"
        loglikes = {u: (args["flatten"] * ll).astype(np.float32) for u, ll in gmm_source(
            model, test, model_dir / "feature_pipeline.yaml")(DataDir(test).utterances)}
        config = DecodeConfig()
        work = root / "kaldi_binaries"
    lmwt = int(args.get("lmwt", 12))
    mode = args["mode"]
    if mode == "kaldi_binaries":
        return _kaldi_binaries(work, model_dir / "final.mdl", graph_dir, loglikes, config, lmwt)
    decoder = Decoder(graph_dir, model, config)
    if mode == "kaldi":
        decoder.kaldi_decode(*next(iter(loglikes.items())), 1 / lmwt)  # build the decoder first
    weights = config.weights() if mode == "sweep" else [(str(lmwt), 1 / lmwt)]
    scales = [s for _, s in weights]
    rss_before = _proc_status_mb("VmRSS")
    peak_reset = _reset_peak_rss()
    hyps = {}
    with Clock() as c:
        for utt, ll in loglikes.items():
            if mode == "kaldi":
                hyps[utt] = [decoder.kaldi_decode(utt, ll, 1 / lmwt)[0]]
            else:
                hyps[utt] = decoder.decode(utt, ll, scales) or [None] * len(scales)
    frames = sum(len(ll) for ll in loglikes.values())
    at = [name for name, _ in weights].index(str(lmwt))
    return {"mode": mode, "flatten": args.get("flatten"), "cpu": c.cpu, "wall": c.wall,
            "frames": frames, "utterances": len(loglikes),
            "audio_seconds": frames / 100.0, "rtf_per_core": c.cpu / (frames / 100.0),
            "rss_before_mb": rss_before, "lm_weights": len(scales),
            "peak_rss_mb": _proc_status_mb("VmHWM") if peak_reset else None,
            "search": decoder.search.stats() if mode != "kaldi" else None,
            "hyps_12": {u: h[at] for u, h in hyps.items()},
            "hyps": {name: {u: h[i] for u, h in hyps.items()}
                     for i, (name, _) in enumerate(weights)}}


def kaldi_bin_dir() -> Path:
    """bin/ of the reference Kaldi build (scripts/build_kaldi_reference.sh)."""
    return Path(os.environ.get("ASRKT_KALDI_ROOT", Path.home() / ".cache/asrkt/kaldi")) / "bin"


def _kaldi_binaries(work: Path, mdl: Path, graph: Path, loglikes: Dict[str, np.ndarray],
                    config: Any, lmwt: int) -> Dict[str, Any]:
    """Kaldi's decode.sh + score.sh on the same log-likelihoods and graph: latgen-faster-mapped
    with ``config``'s beams and acoustic scale (determinised lattices as decode.sh writes them;
    its start-up on an empty archive subtracted), then lattice-best-path per LM weight of
    ``config``; CPU and peak RSS of the children. ``lmwt``: the weight whose search + best path
    is the one-weight figure."""
    import resource
    import subprocess

    import kaldiio

    bindir = kaldi_bin_dir()
    if not (bindir / "latgen-faster-mapped").exists():
        return {"skipped": f"no reference Kaldi build at {bindir} "
                           f"(scripts/build_kaldi_reference.sh)"}
    work.mkdir(parents=True, exist_ok=True)
    kaldiio.save_ark(str(work / "loglikes.ark"), loglikes)

    # a child's ru_maxrss counts the forked Python's pages before exec, so each binary's own
    # peak RSS comes from GNU time (absent: not reported)
    gnu_time = shutil.which("time") if Path("/usr/bin/time").exists() else None
    peak_kb = [0]

    def run(cmd, check=True):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        if gnu_time:
            cmd = [gnu_time, "-f", "%M", "-o", str(work / "maxrss.txt"), *cmd]
        subprocess.run(cmd, check=check, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if gnu_time and (work / "maxrss.txt").exists():
            lines = (work / "maxrss.txt").read_text().split()
            if lines and lines[-1].isdigit():
                peak_kb[0] = max(peak_kb[0], int(lines[-1]))
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    def latgen(loglikes_ark: Path, check: bool = True) -> float:
        return run([str(bindir / "latgen-faster-mapped"), f"--beam={config.beam:g}",
                    f"--max-active={config.max_active}", f"--min-active={config.min_active}",
                    f"--lattice-beam={config.lattice_beam:g}",
                    f"--acoustic-scale={config.acoustic_scale:g}",
                    f"--allow-partial={str(config.allow_partial).lower()}", str(mdl),
                    str(graph / "HCLG.fst"), f"ark:{loglikes_ark}", f"ark:{work / 'lat.ark'}"],
                   check)

    # the binary's start-up (reading the model and the graph) measured on no utterances, so
    # that the search time compares with asrkt's loop, which excludes its own loading
    (work / "empty.ark").write_bytes(b"")
    startup = latgen(work / "empty.ark", check=False)  # exit 1: no utterance decoded
    search = latgen(work / "loglikes.ark") - startup
    words = {int(i): w for w, i in (line.split() for line in
                                    (graph / "words.txt").read_text().splitlines())}
    best, best_at = 0.0, {}
    hyps: Dict[str, Dict[str, List[str]]] = {}
    for name, scale in config.weights():
        out = work / f"best_{name}.txt"
        best_at[name] = run([str(bindir / "lattice-best-path"), f"--acoustic-scale={scale}",
                             f"ark:{work / 'lat.ark'}", f"ark,t:{out}"])
        best += best_at[name]
        hyps[name] = {line.split()[0]: [words[int(i)] for i in line.split()[1:]]
                      for line in out.read_text().splitlines()}
    frames = sum(len(ll) for ll in loglikes.values())
    one = search + best_at.get(str(lmwt), 0.0)
    return {"mode": "kaldi_binaries", "search_cpu": search, "startup_cpu": startup,
            "best_path_cpu": best, "lm_weights": len(hyps),
            "cpu": search + best, "frames": frames, "audio_seconds": frames / 100.0,
            "rtf_per_core": (search + best) / (frames / 100.0),
            "one_weight_cpu": one, "one_weight_rtf_per_core": one / (frames / 100.0),
            "peak_rss_mb": peak_kb[0] / 1024.0 if peak_kb[0] else None,
            "hyps_12": hyps.get(str(lmwt), {}), "hyps": hyps}


# --------------------------------------------------------------------------------------------
# so762: decoding speed on speechocean762's dev set, its GMM's log-likelihoods and graph
# --------------------------------------------------------------------------------------------
def stage_so762_setup(args: Dict[str, Any]) -> Dict[str, Any]:
    """The per-frame pdf log-likelihoods of a recipes/speechocean762 work dir's GMM (``gmm``:
    exp/<gmm>, through its saved feature pipeline: CMVN, deltas or splicing + LDA+MLLT, as
    ``asrkt decode`` computes them) on the first ``utts`` utterances of data/mfcc/<set> (0:
    all), written to a Kaldi archive that every decoder of ``so762_decode`` reads; the size of
    exp/<gmm>/graph/HCLG.fst; the decode options of exp/<gmm>/decode_<set>/config.yaml (the
    recipe's beams, acoustic scale and LM weights)."""
    _threads(1)
    import kaldiio
    import yaml

    from asrkt.data.datadir import DataDir
    from asrkt.decode.config import DecodeConfig
    from asrkt.decode.decoder import gmm_source
    from asrkt.decode.lattice import load_graph
    from asrkt.hmm.model import GmmModel

    so762, gmm, dset = Path(args["so762"]), args["gmm"], args["set"]
    model_dir, graph_dir = so762 / "exp" / gmm, so762 / "exp" / gmm / "graph"
    data = so762 / "data" / "mfcc" / dset
    fields = set(DecodeConfig.__dataclass_fields__)
    decode_yaml = model_dir / f"decode_{dset}" / "config.yaml"
    recorded = yaml.safe_load(decode_yaml.read_text()) if decode_yaml.exists() else {}
    config = {k: v for k, v in (recorded or {}).items() if k in fields}
    model = GmmModel.load(model_dir)
    utts = DataDir(data).utterances
    if args.get("utts"):
        utts = utts[: args["utts"]]
    out = Path(args["work"]) / "so762"
    out.mkdir(parents=True, exist_ok=True)
    with Clock() as c:
        loglikes = dict(gmm_source(model, data, model_dir / "feature_pipeline.yaml")(utts))
    kaldiio.save_ark(str(out / "loglikes.ark"), loglikes)
    graph = load_graph(graph_dir / "HCLG.fst")
    frames = sum(len(ll) for ll in loglikes.values())
    lm_order = so762 / "data" / "local" / "lm" / "order"
    return {"so762": str(so762), "gmm": gmm, "set": dset, "loglikes_ark": str(out / "loglikes.ark"),
            "model_dir": str(model_dir), "graph_dir": str(graph_dir), "config": config,
            "config_from": str(decode_yaml) if recorded else "DecodeConfig defaults",
            "utterances": len(loglikes), "frames": frames, "audio_seconds": frames / 100.0,
            "loglikes_cpu": c.cpu, "pdfs": model.num_pdfs, "gaussians": model.num_gauss,
            "hclg_states": graph.num_states, "hclg_arcs": graph.num_arcs,
            "hclg_mb": (graph_dir / "HCLG.fst").stat().st_size / 2**20,
            "words": sum(1 for _ in (graph_dir / "words.txt").open()),
            "lm_order": lm_order.read_text().strip() if lm_order.exists() else "?"}


# --------------------------------------------------------------------------------------------
# tree: issue 21 item 6, tree statistics + build-tree and one train-deltas EM pass vs Kaldi
# --------------------------------------------------------------------------------------------
def _kaldi_cpu(cmd: List[str], check: bool = True) -> float:
    """CPU seconds (user + system) of a Kaldi binary run to completion (its children too);
    ``check``: a non-zero exit is an error."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def stage_tree(args: Dict[str, Any]) -> Dict[str, Any]:
    """Tree statistics + questions + build-tree (acc-tree-stats, cluster-phones,
    compile-questions, build-tree) and one train-deltas EM pass (gmm-acc-stats-ali + gmm-est
    --mix-up) in asrkt and with Kaldi's binaries on the same data: the setup's training set, its
    monophone alignment, the delta features written once to an ark that both sides read (the
    reading is timed on both). The EM pass starts from the model and alignments of
    ``asrkt train-deltas --num-iters 2`` (Kaldi reads asrkt's model, converted to binary
    first). CPU time of this process (asrkt) and of the Kaldi children, the least of
    ``repeats`` runs of each."""
    import kaldiio

    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.align import model_pipeline_path
    from asrkt.hmm.config import TrainDeltasConfig, TreeConfig
    from asrkt.hmm.lang import Lang
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.train_deltas import train_deltas
    from asrkt.hmm.train_mono import Corpus, accumulate, estimate
    from asrkt.hmm.tree import build_tree, cluster_phones, compile_questions, read_int_sets
    from asrkt.hmm.tree_dir import ci_phones, lang_roots
    from asrkt.hmm.tree_stats import TransitionInfo, accumulate_tree_stats
    from asrkt.io.tables import read_table

    _threads(1)
    work = Path(args["work"])
    data, lang_dir = work / "mfcc" / "train", work / "data" / "lang"
    ali_dir = work / "exp" / "mono_ali"
    out = work / "tree_bench"
    out.mkdir(exist_ok=True)
    num_leaves, totgauss = args.get("num_leaves", 2000), args.get("totgauss", 10000)
    repeats = args.get("repeats", 3)
    lang = Lang(lang_dir)
    mono = GmmModel.load(ali_dir)
    pipeline = FeaturePipeline.load(model_pipeline_path(ali_dir))
    feats_ark = out / "feats.ark"
    with kaldiio.WriteHelper(f"ark:{feats_ark}") as writer:
        for utt, feats in pipeline.iter_features(DataDir(data), DataDir(data).utterances):
            writer(utt, feats)
    ali_spec = f"scp:{ali_dir / 'ali.scp'}"
    res: Dict[str, Any] = {"num_leaves": num_leaves, "totgauss": totgauss, "repeats": repeats}
    config = TreeConfig(num_leaves=num_leaves)
    num_classes = mono.topo.get_phone_to_num_pdf_classes()

    def asrkt_stats():
        alignments = dict(read_table(ali_spec, "int-vector"))
        info = TransitionInfo.from_model(mono.tm, mono.topo)
        triples = ((u, np.asarray(alignments[u]), f) for u, f in read_table(f"ark:{feats_ark}")
                   if u in alignments)
        return accumulate_tree_stats(info, triples, ci_phones(lang))

    def asrkt_tree(stats):
        questions = cluster_phones(stats, lang.phone_sets, config.pdf_classes(),
                                   config.kmeans_tries, config.seed)
        questions += read_int_sets(lang_dir / "phones" / "extra_questions.int")
        compiled = compile_questions(questions, max(num_classes), "questions",
                                     list(mono.topo.phones))
        return build_tree(stats, compiled, lang_roots(lang), num_classes, config)

    # asrkt: statistics (reading the features and alignments), questions, tree; best of repeats
    c_stats = c_tree = float("inf")
    for _ in range(repeats):
        with Clock() as c:
            stats = asrkt_stats()
        c_stats = min(c_stats, c.cpu)
        with Clock() as c:
            tree = asrkt_tree(stats)
        c_tree = min(c_tree, c.cpu)
    res["asrkt"] = {"stats_cpu": c_stats, "tree_cpu": c_tree, "events": stats.num_events,
                    "frames": float(stats.counts.sum()), "leaves": tree.num_pdfs}
    # train-deltas to pass 2 (tree, init, convert, one pass): the model and alignments the
    # timed pass starts from
    tri = out / "tri1"
    cfg = TrainDeltasConfig(num_leaves=num_leaves, totgauss=totgauss, num_iters=2)
    train_deltas(data, lang_dir, ali_dir, tri, cfg)
    inc = (totgauss - num_leaves) // cfg.max_iter_inc
    c_em = float("inf")
    for _ in range(repeats):
        model = GmmModel.load(tri)   # the pass changes the model in place
        mixup = model.num_gauss + inc
        with Clock() as c:
            feats = dict(read_table(f"ark:{feats_ark}"))
            utts = [u for u in DataDir(data).utterances if u in feats]
            lengths = [len(feats[u]) for u in utts]
            corpus = Corpus(utts, np.concatenate([feats[u] for u in utts]),
                            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
            index = {u: i for i, u in enumerate(utts)}
            tri_ali = {index[u]: a.tolist() for u, a in read_table(f"scp:{tri / 'ali.scp'}",
                                                                    "int-vector") if u in index}
            acc, trans, like, frames = accumulate(model, corpus, tri_ali)
            estimate(model, acc, trans, cfg, cfg.min_gaussian_occupancy, mixup,
                     np.random.default_rng(0))
        c_em = min(c_em, c.cpu)
    res["asrkt"].update(em_cpu=c_em, em_frames=frames, em_like_per_frame=like / frames,
                        em_gauss_after=model.num_gauss, pdfs=model.num_pdfs)
    bindir = kaldi_bin_dir()
    if not ((bindir / "build-tree").exists() and (bindir / "gmm-est").exists()):
        res["skipped"] = (f"no reference Kaldi build with the tree and GMM training tools at "
                          f"{bindir} (scripts/build_kaldi_reference.sh)")
        return res
    b = {name: str(bindir / name) for name in (
        "acc-tree-stats", "cluster-phones", "compile-questions", "build-tree", "gmm-acc-stats-ali",
        "gmm-est", "gmm-copy")}
    _kaldi_cpu([b["gmm-copy"], str(tri / "final.mdl"), str(out / "start.mdl")])  # binary
    ph = lang_dir / "phones"
    ci = (ph / "context_indep.csl").read_text().strip()
    k_stats = k_tree = k_em = float("inf")
    for _ in range(repeats):
        k_stats = min(k_stats, _kaldi_cpu([
            b["acc-tree-stats"], f"--ci-phones={ci}", str(ali_dir / "final.mdl"),
            f"ark:{feats_ark}", ali_spec, str(out / "treeacc")]))
        t = _kaldi_cpu([b["cluster-phones"], str(out / "treeacc"), str(ph / "sets.int"),
                        str(out / "questions.int")])
        with open(out / "questions.int", "a") as handle:
            handle.write((ph / "extra_questions.int").read_text())
        t += _kaldi_cpu([b["compile-questions"], str(lang_dir / "topo"),
                         str(out / "questions.int"), str(out / "questions.qst")])
        t += _kaldi_cpu([b["build-tree"], f"--max-leaves={num_leaves}", str(out / "treeacc"),
                         str(ph / "roots.int"), str(out / "questions.qst"),
                         str(lang_dir / "topo"), str(out / "tree")])
        k_tree = min(k_tree, t)
        t = _kaldi_cpu([b["gmm-acc-stats-ali"], str(out / "start.mdl"), f"ark:{feats_ark}",
                        f"scp:{tri / 'ali.scp'}", str(out / "1.acc")])
        t += _kaldi_cpu([b["gmm-est"], f"--mix-up={mixup}", f"--power={cfg.power}",
                         str(out / "start.mdl"), str(out / "1.acc"), str(out / "2.mdl")])
        k_em = min(k_em, t)
    # the four tree binaries' process start-up (each run without arguments: usage, exit 1),
    # which Kaldi's times include and asrkt's (calls in this process) do not
    startup = sum(min(_kaldi_cpu([b[name]], check=False) for _ in range(repeats))
                  for name in ("acc-tree-stats", "cluster-phones", "compile-questions",
                               "build-tree"))
    res["kaldi"] = {"stats_cpu": k_stats, "tree_cpu": k_tree, "em_cpu": k_em,
                    "tree_startup_cpu": startup}
    res["ratio_tree"] = (c_stats + c_tree) / (k_stats + k_tree)
    res["ratio_tree_without_kaldi_startup"] = (c_stats + c_tree) / (k_stats + k_tree - startup)
    res["ratio_em"] = c_em / k_em
    return res


STAGES = {"setup": stage_setup, "tree": stage_tree, "train": stage_train, "feats": stage_feats,
          "decode": stage_decode, "scale": stage_scale, "stream": stage_stream,
          "soft": stage_soft, "ddp": stage_ddp, "lmgraph_setup": stage_lmgraph_setup,
          "lmgraph_decode": stage_lmgraph_decode,
          "so762_setup": stage_so762_setup, "so762_decode": stage_lmgraph_decode}

if __name__ == "__main__":
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stage, raw, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    t0 = time.perf_counter()
    result = STAGES[stage](json.loads(raw))
    result["_stage_seconds"] = time.perf_counter() - t0
    from bench_common import write_json

    write_json(out, result)
