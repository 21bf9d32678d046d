"""Configuration dataclasses of make-graph and decode/decode-nnet (fields declared with
:func:`asrkt.utils.config.option`; the click options are generated from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from asrkt.errors import AsrktError
from asrkt.nnet.config import ForwardConfig
from asrkt.utils.config import option


@dataclass
class GraphConfig:
    """``asrkt make-graph`` (utils/mkgraph.sh scales)."""

    self_loop_scale: float = option(0.1, ge=0, help="Scale of the self-loop log-probabilities "
                                                    "in HCLG.")
    transition_scale: float = option(1.0, ge=0, help="Scale of the other transition "
                                                     "log-probabilities in HCLG.")


@dataclass
class DecodeConfig:
    """Decoder options (Kaldi names; defaults of steps/decode.sh).

    ``min_lmwt``..``max_lmwt`` are swept (score.sh: acoustic scale 1/LMWT per hypothesis set):
    one search per utterance at ``acoustic_scale`` (decode.sh's --acwt) into a lattice, each
    weight's best path from it. One weight (min = max) is one search at 1/LMWT; both 0: one
    search at ``acoustic_scale``. Every search is bounded by ``beam``, ``max_active`` and
    ``min_active`` (LatticeFasterDecoder's pruning) and keeps a lattice within
    ``lattice_beam``.
    """

    beam: float = option(13.0, gt=0, help="Decoding beam.")
    max_active: int = option(7000, ge=1, help="Max active states per frame.")
    min_active: int = option(200, ge=0, help="Min active states per frame.")
    lattice_beam: float = option(6.0, gt=0, help="Lattice beam (the LM-weight sweep takes its "
                                                 "best paths from this lattice).")
    min_lmwt: int = option(7, ge=0, help="Smallest LM weight swept.")
    max_lmwt: int = option(17, ge=0, help="Largest LM weight swept (0 with min-lmwt 0: one "
                                          "decode at acoustic-scale).")
    acoustic_scale: float = option(0.083333, gt=0, help="Acoustic scale of the sweep's lattice "
                                                        "search, and of the one decode when "
                                                        "min-lmwt and max-lmwt are 0.")
    allow_partial: bool = option(True, help="Output the best partial path when no final state "
                                            "is reached.")

    def validate(self) -> None:
        if self.max_lmwt < self.min_lmwt:
            raise AsrktError("need min_lmwt <= max_lmwt")

    def weights(self) -> List[Tuple[str, float]]:
        """(name, acoustic scale) per hypothesis set."""
        if self.max_lmwt == 0:
            return [("0", self.acoustic_scale)]
        return [(str(w), 1.0 / w) for w in range(max(self.min_lmwt, 1), self.max_lmwt + 1)]


@dataclass
class HybridDecodeConfig(DecodeConfig, ForwardConfig):
    """``asrkt decode-hybrid``: ``forward``'s options (priors, device, threads) and the
    decoder's, for a network run inside the decoding jobs."""
