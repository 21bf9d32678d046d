#!/usr/bin/env python3
"""The LM-weight sweep from one lattice search vs one search per weight, on a GMM or NN system.

For every utterance of DATA_DIR, decodes each LM weight of [--min-lmwt, --max-lmwt] three ways:
Kaldi's own one-best search per weight (kaldi-hmm-gmm's LatticeFasterDecoder at acoustic scale
1/LMWT), asrkt's search per weight (what `asrkt decode` does for one weight), and asrkt's sweep
(one lattice search at --acoustic-scale, a best path per weight: what `asrkt decode` does for a
range). The log-likelihoods are the GMM's on DATA_DIR's features, or with --loglikes a matrix
table of a neural net's (what `decode-nnet` reads; MODEL_DIR is then the GMM whose transition
model built the graph). Prints the utterance-weight pairs whose hypotheses differ from Kaldi's
per-weight searches, and the CPU time of each against one search at --acoustic-scale. Exit
status 1 when any differ.

Usage: scripts/compare_sweep.py [options] MODEL_DIR GRAPH_DIR DATA_DIR
  e.g. scripts/compare_sweep.py --min-lmwt 7 --max-lmwt 17 exp/mono exp/mono/graph data/mfcc/dev
       scripts/compare_sweep.py --acoustic-scale 0.1 \\
         --loglikes scp:exp/dnn/loglikes_dev/loglikes.scp exp/mono exp/mono/graph data/fbank/dev
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("graph_dir")
    parser.add_argument("data_dir")
    parser.add_argument("--min-lmwt", type=int, default=7)
    parser.add_argument("--max-lmwt", type=int, default=17)
    parser.add_argument("--acoustic-scale", type=float, default=0.083333)
    parser.add_argument("--lattice-beam", type=float, default=None,
                        help="the lattice beam (default: DecodeConfig's)")
    parser.add_argument("--loglikes", default=None,
                        help="rspecifier of [T, num_pdfs] log-likelihoods (default: the GMM's)")
    args = parser.parse_args(argv)

    from asrkt.data.datadir import DataDir
    from asrkt.decode.config import DecodeConfig
    from asrkt.decode.decoder import Decoder, gmm_source, table_source
    from asrkt.hmm.model import GmmModel

    changes = {} if args.lattice_beam is None else {"lattice_beam": args.lattice_beam}
    config = DecodeConfig(min_lmwt=args.min_lmwt, max_lmwt=args.max_lmwt,
                          acoustic_scale=args.acoustic_scale, **changes)
    model = GmmModel.load(args.model_dir)
    decoder = Decoder(args.graph_dir, model, config)
    utts = DataDir(args.data_dir).utterances
    if args.loglikes:
        source = table_source(args.loglikes)
    else:
        source = gmm_source(model, args.data_dir, Path(args.model_dir) / "feature_pipeline.yaml")
    loglikes = dict(source(utts))
    scales = [scale for _, scale in config.weights()]
    cpu = {"kaldi one search": 0.0, "kaldi per weight": 0.0, "one search": 0.0,
           "per weight": 0.0, "sweep": 0.0}
    differ = {"per weight": 0, "sweep": 0}

    def kaldi_per_weight(utt, ll):
        return [decoder.kaldi_decode(utt, ll, s)[0] for s in scales]

    def per_weight(utt, ll):
        return [(decoder.decode(utt, ll, [s]) or [None])[0] for s in scales]

    runs = [("kaldi per weight", kaldi_per_weight),
            ("kaldi one search", lambda u, x: decoder.kaldi_decode(u, x, config.acoustic_scale)),
            ("per weight", per_weight),
            ("one search", lambda u, x: decoder.decode(u, x, [config.acoustic_scale])),
            ("sweep", lambda u, x: decoder.decode(u, x, scales) or [None] * len(scales))]
    for utt in utts:
        out = {}
        for name, fn in runs:
            start = time.process_time()
            out[name] = fn(utt, loglikes[utt])
            cpu[name] += time.process_time() - start
        kaldi, ours, swept = out["kaldi per weight"], out["per weight"], out["sweep"]
        for (name, _), ref, one, sw in zip(config.weights(), kaldi, ours, swept, strict=True):
            for what, hyp in (("per weight", one), ("sweep", sw)):
                if hyp != ref:
                    differ[what] += 1
                    print(f"{utt} LMWT {name}: Kaldi {ref}, asrkt {what} {hyp}")
    pairs = len(utts) * len(scales)
    print(f"{args.data_dir}: {len(utts)} utterances x {len(scales)} LM weights "
          f"({args.min_lmwt}-{args.max_lmwt}), lattice beam {config.lattice_beam:g}: pairs "
          f"differing from Kaldi's per-weight searches: asrkt per weight {differ['per weight']} "
          f"of {pairs}, asrkt sweep {differ['sweep']} of {pairs}")
    one = cpu["one search"]
    print("CPU seconds: " + ", ".join(f"{name} {value:.2f} ({value / one:.2f}x)"
                                      for name, value in cpu.items())
          + " (ratios to asrkt's one search)")
    return 1 if any(differ.values()) else 0


if __name__ == "__main__":
    from asrkt.errors import AsrktError

    try:
        sys.exit(main())
    except AsrktError as err:  # bad input: one line, as the asrkt commands print it
        sys.exit(f"compare_sweep.py: error: {err}")
