#!/usr/bin/env python3
"""Write a recipe's ANCHOR_nnet1.md from its decode directories (never by hand): the Kaldi nnet1
anchor (scripts/kaldi_nnet1.sh) next to asrkt's DNN teachers and the monophone GMM whose
alignments they all train on (issue 22).

Reads, under EXP (a recipe's ``exp/<cond>``):
- ``mono/decode_<set>``: the GMM (its ``wer_<LMWT>`` files; the fixed weight is the one there),
  or with ``--gmms "mono=exp/mono tri2=exp/tri2"`` each of those GMM dirs (speechocean762);
- ``seed<S>/dnn_{rand,rbm}/decode_<set>`` (run.sh's LMWT), ``decode_<set>_sweep`` (LMWT 4..15;
  with ``--asrkt-sweep decode_{set}`` the decode dir itself, as speechocean762's run.sh decodes),
  ``config.yaml`` and ``train.jsonl`` (settings, epochs, CV frame accuracy of the kept model)
  and ``log/train-teacher.log`` (the CV utterances held out); with ``lstm`` among
  ``--kaldi-systems`` also ``seed<S>/lstm_ce`` (the LSTM baseline; ``log/finetune.log``);
- ``nnet1/<system>`` for each of ``--kaldi-systems`` (rand, dbn, lstm): ``decode_<set>`` (Kaldi's
  wer_<LMWT> for LMWT 4..15), ``decode_<set>_asrkt`` (Kaldi's log-likelihoods through asrkt
  decode-nnet), ``nnet.proto``, ``log/iter*.{tr,cv}.log`` (the newbob epochs), ``cv.list``,
  ``dbn/`` (RBMs).

Usage: scripts/nnet1_anchor_table.py --exp exp/full --seed 1 --sets "dev" --nn-lmwt 10
         [--kaldi-systems "rand dbn lstm"] [--min-lmwt 4 --max-lmwt 15] [--gmms "NAME=DIR ..."]
         [--gmm-lmwt 12] [--asrkt-sweep "decode_{set}_sweep"] [--about "..."]
         --command "..." --out ANCHOR_nnet1.md
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from kt_results import final_cv_acc, read_history  # noqa: E402
from results_table import environment, read_sweep  # noqa: E402

LOSS = re.compile(r"AvgLoss:\s+([0-9.eE+-]+)")
ACC = re.compile(r"FRAME_ACCURACY >>\s*([0-9.]+)%")
FRAMES = re.compile(r"after (\d+) frames|Done (\d+) files")
OPTION = re.compile(r"--([a-z0-9-]+)=(\S+)")


def fmt(value: Optional[float], digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def sweep_cell(sweep: Dict[int, float]) -> str:
    """'best (LMWT w)' over a sweep; the lowest weight on ties."""
    if len(sweep) < 2:
        return "-"
    weight = min(sweep, key=lambda w: (sweep[w], w))
    return f"{sweep[weight]:.2f} (LMWT {weight})"


def epochs_kaldi(nnet_dir: Path) -> List[dict]:
    """The newbob epochs of kaldi_nnet1.sh: loss, frame accuracy, learn rate, verdict."""
    out = []
    for tr in sorted((nnet_dir / "log").glob("iter[0-9]*.tr.log")):
        it = tr.name.split(".")[0][4:]
        cv = tr.with_name(f"iter{it}.cv.log")
        tr_text, cv_text = tr.read_text(), cv.read_text() if cv.exists() else ""
        lr = OPTION.findall(tr_text.splitlines()[0])
        kept = list((nnet_dir / "nnet").glob(f"nnet_iter{it}_*"))
        row = {"epoch": int(it), "lr": dict(lr).get("learn-rate"),
               "tr_loss": _last(LOSS, tr_text), "tr_acc": _last(ACC, tr_text),
               "cv_loss": _last(LOSS, cv_text), "cv_acc": _last(ACC, cv_text),
               "accepted": bool(kept) and not kept[0].name.endswith("_rejected")}
        out.append(row)
    return out


def _last(pattern: re.Pattern, text: str) -> Optional[float]:
    found = pattern.findall(text)
    return float(found[-1]) if found else None


def kaldi_options(nnet_dir: Path) -> Dict[str, str]:
    """nnet-train-frmshuff's options of the first epoch (its log's command line)."""
    first = nnet_dir / "log" / "iter01.tr.log"
    return dict(OPTION.findall(first.read_text().splitlines()[0])) if first.exists() else {}


def proto_layers(nnet_dir: Path) -> str:
    """'3 x 512 sigmoid' from nnet.proto (+ the DBN's RBMs), or '2 x LstmProjected (cell 256,
    projection 128) + Tanh'."""
    proto = nnet_dir / "nnet.proto"
    if not proto.exists():
        return "-"
    lines = proto.read_text().splitlines()
    lstm = [ln.split() for ln in lines if ln.startswith("<LstmProjected>")]
    if lstm:
        first = lstm[0]
        cell, proj = first[first.index("<CellDim>") + 1], first[first.index("<OutputDim>") + 1]
        tanh = " + Tanh" if any(ln.startswith("<Tanh>") for ln in lines) else ""
        return f"{len(lstm)} x LstmProjected (cell {cell}, projection {proj}){tanh}"
    hidden = [ln for ln in lines if ln.startswith("<Sigmoid>")]
    dbns = sorted((nnet_dir / "dbn").glob("*.dbn"), key=lambda p: int(p.stem))
    if dbns:
        rbm = (nnet_dir / "dbn" / "1.rbm.proto").read_text().split()
        dim = rbm[rbm.index("<OutputDim>") + 1]
        return f"{len(dbns)} x {dim} sigmoid (DBN of {len(dbns)} RBMs)"
    if not hidden:
        return "-"
    return f"{len(hidden)} x {hidden[0].split()[2]} sigmoid"


def asrkt_cv_count(teacher: Path) -> Optional[int]:
    for name in ("train-teacher.log", "finetune.log"):
        log = teacher / "log" / name
        if log.exists():
            found = re.findall(r"CV set: (\d+) utterances held out", log.read_text())
            return int(found[-1]) if found else None
    return None


def asrkt_settings(cfg: dict) -> str:
    """The network part of an asrkt system's settings line (config.yaml)."""
    if cfg.get("model") == "lstm":
        return (f"{cfg.get('num_layers')} x LSTM (cell {cfg.get('hidden_dim')}, projection "
                f"{cfg.get('proj_dim')}), target delay {cfg.get('target_delay')}, splice "
                f"+-{cfg.get('splice')}, {cfg.get('optimizer')} learning rate "
                f"{cfg.get('learning_rate')}, gradient clip {cfg.get('grad_clip')}, "
                f"{cfg.get('num_streams')} streams x {cfg.get('chunk_len')} frames")
    return (f"{cfg.get('num_layers')} x {cfg.get('hidden_dim')} sigmoid hidden layers, splice "
            f"+-{cfg.get('splice')}, {cfg.get('optimizer')} learning rate "
            f"{cfg.get('learning_rate')}, minibatch {cfg.get('batch_size')}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp", required=True, type=Path, help="exp/<cond> of the recipe")
    parser.add_argument("--seed", default="1", help="seed of the asrkt teachers")
    parser.add_argument("--sets", default="dev", help="evaluation sets")
    parser.add_argument("--nn-lmwt", type=int, default=10, help="the recipe's fixed NN weight")
    parser.add_argument("--command", required=True, help="the command that made the table")
    parser.add_argument("--prior-scales", default="", help="the prior-scale study's scales")
    parser.add_argument("--train-data", default="", help="the training data dir (for the text)")
    parser.add_argument("--title", default="", help="the table's title (default: the exp dir)")
    parser.add_argument("--asrkt-command", default="", help="the command(s) of the asrkt systems")
    parser.add_argument("--kaldi-systems", default="rand dbn",
                        help="the nnet1 systems (rand, dbn, lstm; lstm adds asrkt's lstm_ce)")
    parser.add_argument("--min-lmwt", type=int, default=4, help="the sweep's lowest LM weight")
    parser.add_argument("--max-lmwt", type=int, default=15, help="the sweep's highest LM weight")
    parser.add_argument("--gmms", default="",
                        help="GMM rows as NAME=DIR (default: the monophone GMM EXP/mono)")
    parser.add_argument("--gmm-lmwt", type=int, default=12, help="the GMMs' fixed LM weight")
    parser.add_argument("--asrkt-sweep", default="decode_{set}_sweep",
                        help="the asrkt systems' and GMMs' sweep dir ({set}: the set)")
    parser.add_argument("--about", default="",
                        help="the first sentence of the text: the targets, graph and unit scored")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    exp, seed, lmwt = args.exp, args.seed, args.nn_lmwt
    lo, hi = args.min_lmwt, args.max_lmwt

    def ranged(decode_dir: Path) -> Dict[int, float]:
        """A decode dir's %WER per LM weight, the weights lo..hi only."""
        return {w: v for w, v in read_sweep(decode_dir).items() if lo <= w <= hi}
    gmms = {"monophone GMM": exp / "mono"}
    for item in args.gmms.split():
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            parser.error(f"--gmms: NAME=DIR items, not {item!r}")
        if len(gmms) == 1 and "monophone GMM" in gmms:
            gmms = {}
        gmms[f"{name} GMM"] = Path(path)
    sets = args.sets.split()
    inits = {"rand": "random init", "dbn": "DBN-pretrained", "lstm": "random init (LSTM)"}
    unknown = [k for k in args.kaldi_systems.split() if k not in inits]
    if unknown:
        parser.error(f"--kaldi-systems: rand, dbn or lstm, not {unknown[0]!r}")
    kaldi = {k: inits[k] for k in args.kaldi_systems.split()}
    teachers = {"dnn_rand": "random init", "dnn_rbm": "RBM-pretrained"}
    if "lstm" in kaldi:
        teachers["lstm_ce"] = "random init (LSTM)"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# {args.title or f'Kaldi nnet1 anchor: {exp}'}", "",
           f"Written {now} by `scripts/nnet1_anchor_table.py` from the decode dirs of",
           f"`{args.command}`.", ""]
    if args.asrkt_command:
        out += [f"The GMM and asrkt's teachers: `{args.asrkt_command}`.", ""]
    if args.train_data:
        out += [f"Training data of every network: `{args.train_data}`.", ""]
    about = args.about or ("Every network trains on the same features, monophone alignments and "
                           "CV utterances and decodes through the same HCLG (the monophone GMM's "
                           "graph); %WER over clips (one word per clip).")
    sweep_name = ("nnet1's decode.sh/score.sh range; acoustic scale 0.1, lattice beam 8"
                  if (lo, hi) == (4, 15) else "the recipe's sweep; acoustic scale 0.1")
    out += [f"{about} `fixed`: the recipe's LM weight chosen a priori (GMM {args.gmm_lmwt}, "
            f"networks {lmwt}); `best`: the lowest %WER over LM weights {lo}..{hi} ({sweep_name}) "
            "with its weight: "
            "chosen on the same set, so an oracle, not a result.", ""]
    for set_name in sets:
        out += [f"## {set_name}", "",
                "| system | implementation | init | %WER fixed | %WER best (LMWT) | "
                "CV frame acc % | epochs (accepted) |", "|---|---|---|---|---|---|---|"]
        sweep_dir = args.asrkt_sweep.format(set=set_name)
        for gname, gdir in gmms.items():
            g = read_sweep(gdir / f"decode_{set_name}")
            gfix = g.get(args.gmm_lmwt, g[min(g)] if g else None)
            init = "flat start" if gdir.name == "mono" else "-"
            out.append(f"| {gname} | asrkt | {init} | {fmt(gfix)} | "
                       f"{sweep_cell(ranged(gdir / sweep_dir))} | - | - |")
        for name, init in teachers.items():
            t = exp / f"seed{seed}" / name
            fixed = read_sweep(t / f"decode_{set_name}").get(lmwt)
            hist = read_history(t / "train.jsonl")
            acc = final_cv_acc(hist)
            n_acc = sum(1 for h in hist if h.get("accepted", True))
            out.append(f"| {name} (seed {seed}) | asrkt | {init} | {fmt(fixed)} | "
                       f"{sweep_cell(ranged(t / sweep_dir))} | {fmt(acc)} | "
                       f"{len(hist) or '-'} ({n_acc}) |")
        for name, init in kaldi.items():
            k = exp / "nnet1" / name
            sweep = ranged(k / f"decode_{set_name}")
            epochs = epochs_kaldi(k)
            kept = [e for e in epochs if e["accepted"]]
            acc = kept[-1]["cv_acc"] if kept else None
            out.append(f"| nnet1_{name} | Kaldi nnet1 | {init} | {fmt(sweep.get(lmwt))} | "
                       f"{sweep_cell(sweep)} | {fmt(acc)} | "
                       f"{len(epochs) or '-'} ({len(kept)}) |")
        agree = []
        for name in kaldi:
            k = exp / "nnet1" / name
            a = read_sweep(k / f"decode_{set_name}_asrkt").get(lmwt)
            b = read_sweep(k / f"decode_{set_name}").get(lmwt)
            if a is not None and b is not None:
                agree.append(f"nnet1_{name} {b:.2f} (Kaldi) / {a:.2f} (asrkt)")
        if agree:
            out += ["", f"Decoders on Kaldi's log-likelihoods at LMWT {lmwt} "
                    "(latgen-faster-mapped + lattice-best-path / asrkt decode-nnet): "
                    + "; ".join(agree) + "."]
        rows = [("GMM" if len(gmms) == 1 else n.split()[0], d / sweep_dir)
                for n, d in gmms.items()] + \
            [(n, exp / f"seed{seed}" / n / sweep_dir) for n in teachers] + \
            [(f"nnet1_{n}", exp / "nnet1" / n / f"decode_{set_name}") for n in kaldi]
        sweeps = [(n, ranged(d)) for n, d in rows]
        weights = sorted({w for _, s in sweeps for w in s})
        sweeps = [(n, s) for n, s in sweeps if len(s) > 1]
        if sweeps and weights:
            out += ["", f"%WER per LM weight ({set_name}):", "",
                    "| system | " + " | ".join(str(w) for w in weights) + " |",
                    "|---|" + "---|" * len(weights)]
            for n, s in sweeps:
                out.append(f"| {n} | " + " | ".join(fmt(s.get(w)) for w in weights) + " |")
        scales = ["1.0"] + args.prior_scales.split()
        study = []
        for n in teachers:
            t = exp / f"seed{seed}" / n
            study.append((n, [ranged(t / (sweep_dir if ps == "1.0" else
                                              f"decode_{set_name}_ps{ps}_sweep"))
                              for ps in scales]))
        for n in kaldi:
            k = exp / "nnet1" / n
            study.append((f"nnet1_{n}", [ranged(k / (f"decode_{set_name}" if ps == "1.0"
                                                         else f"decode_{set_name}_ps{ps}"))
                                         for ps in scales]))
        study = [(n, sw) for n, sw in study if any(len(x) > 1 for x in sw[1:])]
        if study:
            out += ["", f"Prior scale ({set_name}; log-likelihood = log-posterior - S x "
                    f"log-prior): %WER at LMWT {lmwt} / best over LMWT {lo}..{hi} (weight):", "",
                    "| system | " + " | ".join(f"S = {ps}" for ps in scales) + " |",
                    "|---|" + "---|" * len(scales)]
            for n, sw in study:
                out.append(f"| {n} | " + " | ".join(f"{fmt(x.get(lmwt))} / {sweep_cell(x)}"
                                                    for x in sw) + " |")
        out.append("")

    out += ["## Settings", ""]
    for name in teachers:
        cfg_path = exp / f"seed{seed}" / name / "config.yaml"
        if not cfg_path.exists():
            continue
        cfg = yaml.safe_load(cfg_path.read_text())
        out.append(f"- asrkt {name}: {asrkt_settings(cfg)}, newbob max "
                   f"{cfg.get('max_epochs')} epochs, CMVN "
                   f"{cfg.get('cmvn')} (norm_vars {cfg.get('norm_vars')}), global_norm "
                   f"{cfg.get('global_norm')}, seed {cfg.get('seed')}; CV "
                   f"{asrkt_cv_count(exp / f'seed{seed}' / name) or '-'} utterances held out.")
    for name in kaldi:
        k = exp / "nnet1" / name
        if not (k / "nnet.proto").exists():
            continue
        opts = kaldi_options(k)
        epochs = epochs_kaldi(k)
        cmvn = (k / "cmvn_opts").read_text().strip() if (k / "cmvn_opts").exists() else "none"
        splice = next(iter(sorted(k.glob("splice*.proto")) + sorted(k.glob("dbn/splice*.proto"))),
                      None)
        splice_txt = splice.read_text().split("<BuildVector>")[1].split()[0] if splice else "?"
        cv = len((k / "cv.list").read_text().split()) if (k / "cv.list").exists() else None
        tr = len((k / "train.scp").read_text().splitlines()) if (k / "train.scp").exists() else None
        lrs = " -> ".join(dict.fromkeys(e["lr"] for e in epochs if e["lr"]))
        delay = next(iter(sorted(k.glob("delay*.proto"))), None)
        if delay:   # --network-type lstm: the target delay instead of splicing
            transform = (f"target delay {delay.read_text().split('<BuildVector>')[1].split()[0]} "
                         "(<Splice> of one offset, no splicing)")
            batches = (f"nnet-train-multistream {opts.get('num-streams', '-')} streams x "
                       f"{opts.get('batch-size', '-')} frames (truncated BPTT)")
        else:
            transform = f"splice {splice_txt}"
            batches = (f"minibatch {opts.get('minibatch-size', '-')}, randomizer "
                       f"{opts.get('randomizer-size', '-')} frames, seed "
                       f"{opts.get('randomizer-seed', '-')}")
        line = (f"- Kaldi nnet1_{name}: {proto_layers(k)}, softmax; {transform} + global "
                f"CMVN (cmvn-to-nnet); apply-cmvn {cmvn}; SGD learn rate {lrs or '-'} "
                f"(newbob), momentum {opts.get('momentum', '-')}, {batches}; {len(epochs)} epochs; "
                f"{tr or '-'} training / {cv or '-'} CV utterances.")
        rbm_logs = sorted((k / "dbn" / "log").glob("rbm.*.log"))
        if rbm_logs:
            first = [dict(OPTION.findall(p.read_text().splitlines()[0])) for p in rbm_logs]
            line += (" RBMs: " + ", ".join(f"{i + 1}: lrate {o.get('learn-rate')}, "
                                          f"{o.get('num-iters')} epochs"
                                          for i, o in enumerate(first)) +
                     f", L2 {first[0].get('l2-penalty')} (rbm-train-cd1-frmshuff).")
        out.append(line)
    out += ["", f"Environment: {environment()}.", ""]
    write_text_atomic(args.out, "\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
