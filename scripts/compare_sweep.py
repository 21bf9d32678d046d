#!/usr/bin/env python3
"""The LM-weight sweep from one lattice search vs one search per weight, on a GMM or NN system.

For every utterance of DATA_DIR, decodes each LM weight of [--min-lmwt, --max-lmwt] twice: by
one LatticeFasterDecoder search per weight (acoustic scale 1/LMWT, what `asrkt decode` did
before the lattice sweep and still does for one weight) and by `Decoder.sweep` (one lattice
search, a best path per weight). The log-likelihoods are the GMM's on DATA_DIR's features, or
with --loglikes a matrix table of a neural net's (what `decode-nnet` reads; MODEL_DIR is then the
GMM whose transition model built the graph). Prints the utterance-weight pairs whose hypotheses
differ and the CPU time of both against one search at --acoustic-scale. Exit status 1 when any
differ.

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
    parser.add_argument("--sweep-beam", type=float, default=None,
                        help="the sweep search's beam (default: DecodeConfig's)")
    parser.add_argument("--loglikes", default=None,
                        help="rspecifier of [T, num_pdfs] log-likelihoods (default: the GMM's)")
    args = parser.parse_args(argv)

    from asrkt.data.datadir import DataDir
    from asrkt.decode.config import DecodeConfig
    from asrkt.decode.decoder import Decoder, gmm_source, table_source
    from asrkt.hmm.model import GmmModel

    changes = {} if args.sweep_beam is None else {"sweep_beam": args.sweep_beam}
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
    cpu = {"per weight": 0.0, "one search": 0.0, "sweep": 0.0}
    differ = 0
    for utt in utts:
        ll = loglikes[utt]
        start = time.process_time()
        separate = [decoder.decode(utt, ll, s)[0] for s in scales]
        cpu["per weight"] += time.process_time() - start
        start = time.process_time()
        decoder.decode(utt, ll, config.acoustic_scale)
        cpu["one search"] += time.process_time() - start
        start = time.process_time()
        swept = decoder.sweep(utt, ll, scales) or [None] * len(scales)
        cpu["sweep"] += time.process_time() - start
        for (name, _), a, b in zip(config.weights(), separate, swept, strict=True):
            if a != b:
                differ += 1
                print(f"{utt} LMWT {name}: per weight {a}, sweep {b}")
    one = cpu["one search"]
    print(f"{args.data_dir}: {len(utts)} utterances x {len(scales)} LM weights "
          f"({args.min_lmwt}-{args.max_lmwt}), sweep beam {config.sweep_beam:g}: "
          f"{differ} pairs differ; CPU one search {one:.2f} s, per-weight sweep "
          f"{cpu['per weight']:.2f} s ({cpu['per weight'] / one:.2f}x), lattice sweep "
          f"{cpu['sweep']:.2f} s ({cpu['sweep'] / one:.2f}x)")
    return 1 if differ else 0


if __name__ == "__main__":
    from asrkt.errors import AsrktError

    try:
        sys.exit(main())
    except AsrktError as err:  # bad input: one line, as the asrkt commands print it
        sys.exit(f"compare_sweep.py: error: {err}")
