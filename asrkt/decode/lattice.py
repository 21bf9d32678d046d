"""One lattice search per utterance, and every LM weight's best path taken from that lattice.

Kaldi's steps/decode.sh searches once at acoustic scale ``acwt`` (1/12) and writes lattices;
local/score.sh then takes, for each LM weight, ``lattice-scale --inv-acoustic-scale=LMWT`` and
``lattice-best-path``. The wheels cannot determinise lattices, but a best path needs none: the
raw (state-level) lattice of kaldi-decoder's LatticeSimpleDecoder keeps a graph cost and an
acoustic cost on every arc (``LatticeWeight``: value1 graph, value2 acoustic times the search's
acoustic scale), so each weight's best path is a shortest path over the rescaled lattice.

The search's beams act at one acoustic scale, so a path that a separate search at 1/LMWT would
have found but that fell outside the lattice beam at the search's scale is missed (Kaldi has the
same property); with the default beams the hypotheses equal per-weight searches in practice.

Not every weight needs a shortest path: a path's cost at acoustic scale s is g + s * a (graph
cost g, unscaled acoustic cost a), linear in s, so a path that is best at two scales is best at
every scale between them, and when two paths are best at the ends of a range a single shortest
path at the scale where their costs cross shows whether a third is best somewhere inside (and
if so, which: the range splits there). :func:`sweep_best_paths` needs about one shortest path
per distinct best path over the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asrkt.hmm.kaldi import kaldifst, kdec

# two graph costs of the same transition-id and word sequence that differ by less than this are
# taken as the same path (the lattice stores float32 costs)
GRAPH_COST_TOLERANCE = 1e-3
# relative: a path cheaper than the two known ones by less than this at their crossing is a tie
COST_TOLERANCE = 1e-5


@dataclass(frozen=True)
class BestPath:
    """One best path of a lattice.

    Args:
        words: word ids (epsilons removed).
        tids: transition-ids, one per frame.
        graph_cost: the path's graph cost (HCLG weights).
        acoustic_cost: its acoustic cost (minus the log-likelihood, unscaled).
    """

    words: Tuple[int, ...]
    tids: Tuple[int, ...]
    graph_cost: float
    acoustic_cost: float

    def cost(self, scale: float) -> float:
        """The path's cost at acoustic scale ``scale``."""
        return self.graph_cost + scale * self.acoustic_cost

    def same_path(self, other: BestPath) -> bool:
        """Same labels and graph cost, hence the same cost at every acoustic scale."""
        return (self.tids == other.tids and self.words == other.words
                and abs(self.graph_cost - other.graph_cost) <= GRAPH_COST_TOLERANCE)


class LatticeSearch:
    """Raw lattices of [T, num_tids] acoustic log-likelihood matrices (column i: tid i+1).

    Args:
        fst: the decoding graph (kaldifst.StdVectorFst, input labels transition-ids).
        beam: search beam.
        lattice_beam: lattice beam (both at the scale of the matrices given to :meth:`search`).
    """

    def __init__(self, fst, beam: float, lattice_beam: float):
        opts = kdec.LatticeSimpleDecoderConfig(beam=beam, lattice_beam=lattice_beam,
                                               determinize_lattice=False)
        self.decoder = kdec.LatticeSimpleDecoder(fst, opts)

    def search(self, scaled_loglikes: np.ndarray, allow_partial: bool):
        """The raw lattice of one utterance, or None when decoding failed.

        Args:
            scaled_loglikes: [T, num_tids] float32 log-likelihoods times the acoustic scale.
            allow_partial: keep the lattice when no final state was reached (its last frame's
                states are then final, as Kaldi's GetRawLattice does).
        """
        if scaled_loglikes.shape[0] == 0:
            return None
        self.decoder.decode(kdec.DecodableCtc(scaled_loglikes))
        reached_final = np.isfinite(self.decoder.final_relative_cost())
        if not reached_final and not allow_partial:
            return None
        ok, lattice = self.decoder.get_raw_lattice(use_final_probs=True)
        if not ok or lattice.num_states == 0:
            return None
        return lattice


class ScaledLattice:
    """A raw lattice whose acoustic costs are rescaled in place between shortest paths.

    Args:
        lattice: raw lattice (kaldifst.Lattice), owned from now on (modified in place).
        lattice_scale: the acoustic scale of its acoustic costs (the search's).
    """

    def __init__(self, lattice, lattice_scale: float):
        self.lattice = lattice
        self.lattice_scale = lattice_scale
        self.ratio = 1.0  # current acoustic costs / the search's
        self.shortest_paths = 0

    def best_path(self, scale: float) -> Optional[BestPath]:
        """Best path at acoustic scale ``scale`` (None when the lattice has no path).

        Rescaling in place (a factor on the current scale) costs a fraction of a copy.
        """
        ratio = scale / self.lattice_scale
        if ratio != self.ratio:
            kaldifst.scale_lattice([[1.0, 0.0], [0.0, ratio / self.ratio]], self.lattice)
            self.ratio = ratio
        self.shortest_paths += 1
        path = kaldifst.shortest_path(self.lattice)
        if path.num_states == 0:
            return None
        ok, tids, words, weight = kaldifst.get_linear_symbol_sequence(path)
        if not ok:
            return None
        return BestPath(tuple(w for w in words if w), tuple(t for t in tids if t), weight.value1,
                        weight.value2 / ratio / self.lattice_scale)


def _crossing(a: BestPath, b: BestPath) -> Optional[float]:
    """The acoustic scale at which two paths' costs are equal (None when parallel)."""
    if a.acoustic_cost == b.acoustic_cost:
        return None
    return (b.graph_cost - a.graph_cost) / (a.acoustic_cost - b.acoustic_cost)


def _settle(lattice: ScaledLattice, scales: Sequence[float], found: Dict[int, Optional[BestPath]],
            span: Tuple[float, Optional[BestPath], float, Optional[BestPath], List[int]]
            ) -> List[tuple]:
    """Best paths at the sweep indices strictly inside one span of scales (x, a, y, b, inside),
    where ``a`` is best at scale x and ``b`` at scale y.

    Equal end paths fill the span; otherwise one shortest path at the crossing of their costs
    either shows that no third path is best inside (the lower of the two lines then decides each
    scale) or yields that path, and the span splits there (the parametric shortest path).

    Returns:
        The spans left to settle.
    """
    x, a, y, b, inside = span
    if not inside:
        return []
    if a is None or b is None or a.same_path(b):
        found.update({i: a for i in inside})
        return []
    cross = _crossing(a, b)
    if len(inside) == 1 or cross is None or not min(x, y) < cross < max(x, y):
        i = inside[len(inside) // 2]
        found[i] = lattice.best_path(scales[i])
        return [(x, a, scales[i], found[i], [j for j in inside if j < i]),
                (scales[i], found[i], y, b, [j for j in inside if j > i])]
    c = lattice.best_path(cross)
    tent = a.cost(cross)
    if c is None or c.same_path(a) or c.same_path(b) or \
            c.cost(cross) >= tent - COST_TOLERANCE * max(1.0, abs(tent)):
        found.update({i: a if a.cost(scales[i]) <= b.cost(scales[i]) else b for i in inside})
        return []
    near_x = [i for i in inside if (scales[i] - cross) * (x - cross) > 0]
    near_y = [i for i in inside if (scales[i] - cross) * (y - cross) > 0]
    found.update({i: c for i in inside if scales[i] == cross})
    return [(x, a, cross, c, near_x), (cross, c, y, b, near_y)]


def sweep_best_paths(lattice, lattice_scale: float, scales: Sequence[float]
                     ) -> Tuple[List[Optional[BestPath]], int]:
    """The best path at each acoustic scale of a monotonic sequence (e.g. 1/LMWT for a sweep).

    Computes the paths at the two ends, then settles the scales between them from the
    crossings of path costs (:func:`_settle`): about one shortest path per distinct best path.

    Args:
        lattice: raw lattice searched at ``lattice_scale`` (rescaled in place).
        lattice_scale: the acoustic scale of the lattice's acoustic costs.
        scales: acoustic scales, increasing or decreasing.

    Returns:
        (one path, or None when the lattice has no path, per scale; shortest paths computed).
    """
    scaled = ScaledLattice(lattice, lattice_scale)
    if not scales:
        return [], 0
    last = len(scales) - 1
    found: Dict[int, Optional[BestPath]] = {0: scaled.best_path(scales[0])}
    found[last] = found[0] if last == 0 else scaled.best_path(scales[last])
    spans = [(scales[0], found[0], scales[last], found[last], list(range(1, last)))]
    while spans:
        if scaled.shortest_paths > 3 * len(scales):  # guard: finish one scale at a time
            for i in spans.pop()[4]:
                found[i] = scaled.best_path(scales[i])
            continue
        spans += _settle(scaled, scales, found, spans.pop())
    return [found[i] for i in range(len(scales))], scaled.shortest_paths
