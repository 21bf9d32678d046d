"""One bounded lattice search per utterance, and the best path at every LM weight taken from it.

Kaldi's steps/decode.sh searches once at acoustic scale ``acwt`` (1/12) with
LatticeFasterDecoder (beam, max-active, min-active, lattice beam) and writes lattices;
local/score.sh then takes, for each LM weight, ``lattice-scale --inv-acoustic-scale=LMWT`` and
``lattice-best-path``. :class:`LatticeSearch` does both in one call: the search is asrkt's own
C++ module ``asrkt.decode._latgen`` (the wheels bind no raw lattice from a search that
max-active bounds), written after LatticeFasterDecoder's behaviour: per-frame cutoffs from the
beam, max-active and min-active with Kaldi's adaptive beam, the token/link lattice pruned with
the lattice beam every 25 frames and once more with the final costs. Each link keeps its graph
cost and its acoustic cost apart, so the best path at another acoustic scale s is a shortest
path over graph + (s / search scale) * acoustic; one pass over the pruned lattice gives every
scale's best path.

A path that a separate search at 1/LMWT would find but that lies outside the lattice beam at
the search's scale is missed (Kaldi has the same property); ``scripts/compare_sweep.py``
measures that against one search per weight. One LM weight is the same search at 1/LMWT with
the best path at that scale: Kaldi's one-best.

Time and memory per frame are bounded by the active tokens (max-active, or min-active when
that is larger) and by the lattice kept between prunings (25 frames of links of those tokens
plus what survives the lattice beam), whatever the graph's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.decode import _latgen
from asrkt.errors import AsrktError

PathLike = Union[str, Path]


@dataclass(frozen=True)
class BestPath:
    """One best path of a lattice.

    Args:
        words: word ids (epsilons removed).
        tids: transition-ids, one per frame.
        graph_cost: the path's graph cost (HCLG weights, the final weight included).
        acoustic_cost: its acoustic cost (minus the log-likelihood, unscaled).
    """

    words: Tuple[int, ...]
    tids: Tuple[int, ...]
    graph_cost: float
    acoustic_cost: float

    def cost(self, scale: float) -> float:
        """The path's cost at acoustic scale ``scale``."""
        return self.graph_cost + scale * self.acoustic_cost


def load_graph(path: PathLike):
    """A decoding graph for :class:`LatticeSearch` (OpenFst binary, vector or const FST).

    Args:
        path: the HCLG.fst file.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: FST file does not exist")
    try:
        return _latgen.Graph(str(path))
    except ValueError as exc:
        raise AsrktError(f"cannot read the decoding graph: {exc}") from None


class LatticeSearch:
    """Bounded lattice searches over one graph, best paths at several acoustic scales.

    Args:
        graph: from :func:`load_graph`.
        tid2pdf: pdf of each transition-id (index 0 unused): column of the log-likelihoods
            that the graph's input label reads.
        beam: search beam.
        max_active: at most this many tokens continue from a frame.
        min_active: at least this many (when the beam would keep fewer).
        lattice_beam: lattice beam (at the search's scale).
    """

    def __init__(self, graph, tid2pdf: np.ndarray, beam: float, max_active: int,
                 min_active: int, lattice_beam: float):
        if graph.max_ilabel >= len(tid2pdf):
            raise AsrktError(f"the graph reads transition-ids up to {graph.max_ilabel}, the "
                             f"model has {len(tid2pdf) - 1} (rebuild it with make-graph)")
        config = _latgen.SearchConfig()
        config.beam, config.max_active = beam, max_active
        config.min_active, config.lattice_beam = min_active, lattice_beam
        self.columns = np.asarray(tid2pdf, dtype=np.int32).copy()
        self.columns[0] = 0
        self.num_pdfs = int(self.columns[1:].max()) + 1 if len(self.columns) > 1 else 0
        self._search = _latgen.LatticeSearch(graph, config)

    def best_paths(self, pdf_loglikes: np.ndarray, search_scale: float,
                   scales: Sequence[float], allow_partial: bool,
                   interrupt: Optional[Callable[[], None]] = None
                   ) -> Optional[List[Optional[BestPath]]]:
        """Search one utterance at ``search_scale``; the best path at each of ``scales``.

        Args:
            pdf_loglikes: [T, num_pdfs] float32 log-likelihoods (unscaled).
            search_scale: acoustic scale of the search (its beams act at this scale).
            scales: acoustic scales of the paths wanted (1/LMWT each).
            allow_partial: when no final state is reached, take the best path to any state of
                the last frame (as Kaldi's decoders with --allow-partial).
            interrupt: called every 16 frames; an exception it raises ends the search.

        Returns:
            One path per scale (None where the lattice has none), or None when the search
            failed (no frames, every token pruned, or no final state without allow_partial).
        """
        ok, paths = self._search.decode(pdf_loglikes, self.columns, search_scale, list(scales),
                                        allow_partial, interrupt)
        if paths is None:
            return None
        return [None if p is None else BestPath(tuple(p[0]), tuple(p[1]), p[2], p[3])
                for p in paths]

    def stats(self) -> dict:
        """Sizes of the last search: max_tokens_per_frame (tokens of a frame),
        max_expanded_per_frame (those within the frame's cutoff, whose arcs were followed),
        tokens_created and links_created (over the whole search),
        token_pool and link_pool (peak sizes of the pools), lattice_tokens and lattice_links
        (what the final pruning kept)."""
        return dict(self._search.stats())
