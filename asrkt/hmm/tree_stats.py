"""Decision-tree statistics from alignments: Kaldi's acc-tree-stats, in numpy.

Every frame of an alignment adds its feature vector to the Gaussian statistics (count,
sum x, sum x^2) of its *event*: the phones of the context window around the frame's phone
(width N, central position P; phone 0 beyond the utterance edges) and the frame's pdf-class
(Kaldi's key ``kPdfClass`` = -1). For a context-independent phone (``--ci-phones``: the
silence phones) the event holds only the central phone and the pdf-class, as Kaldi's
AccumulateTreeStats does: the other context keys are left out, so no question can ever ask
about them. In :class:`TreeStats` an absent key is stored as -1.

Alignments are split into phones as Kaldi's SplitToPhones does (a phone ends at its transition
into the final state, plus the self-loops that follow it in a reordered alignment); an
alignment that does not split cleanly is skipped with a warning, as in Kaldi.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.hmm import kaldi_binary as kb
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.tree_stats")
LOG_2PI = float(np.log(2.0 * np.pi))
ABSENT = -1  # value stored for a context key that is not part of an event (ci-phones)


@dataclass
class TransitionInfo:
    """Per-transition-id facts of a TransitionModel that the bindings do not expose directly.

    Arrays are indexed by transition-id (index 0 unused): ``phone``, ``hmm_state``,
    ``pdf_class``, ``state`` (transition state), ``self_loop``, ``final`` (transition into
    the final state); ``initial_emitting[phone]``: the phone's HMM state 0 emits.
    """

    phone: np.ndarray
    hmm_state: np.ndarray
    pdf_class: np.ndarray
    state: np.ndarray
    self_loop: np.ndarray
    final: np.ndarray
    initial_emitting: np.ndarray

    @property
    def num_transition_ids(self) -> int:
        return len(self.phone) - 1

    @classmethod
    def from_model(cls, tm, topo) -> TransitionInfo:
        """Read the tables from a khg.TransitionModel and its khg.HmmTopology.

        Args:
            tm: the transition model the alignments were made with.
            topo: its topology.
        """
        n = tm.num_transition_ids
        state = np.asarray(tm.id2state, dtype=np.int64)
        tuples = transition_states(str(tm))
        if len(tuples) != tm.num_transition_states:
            raise AsrktError(f"transition model lists {len(tuples)} transition states, "
                             f"expected {tm.num_transition_states}")
        entries: Dict[int, list] = {}
        phone = np.zeros(n + 1, dtype=np.int64)
        hmm_states = np.zeros(n + 1, dtype=np.int64)
        pdf_class = np.zeros(n + 1, dtype=np.int64)
        self_loop = np.zeros(n + 1, dtype=bool)
        final = np.zeros(n + 1, dtype=bool)
        for tid in range(1, n + 1):
            ph, hmm_state = tuples[state[tid] - 1][:2]
            if ph not in entries:
                entries[ph] = topo.topology_for_phone(ph)
            hmm = entries[ph][hmm_state]
            self_loop[tid] = tm.is_self_loop(tid)
            final[tid] = tm.is_final(tid)
            phone[tid] = ph
            hmm_states[tid] = hmm_state
            pdf_class[tid] = hmm.self_loop_pdf_class if self_loop[tid] else hmm.forward_pdf_class
        initial = np.zeros(int(phone.max()) + 1, dtype=bool)
        for ph, entry in entries.items():
            initial[ph] = entry[0].forward_pdf_class != -1  # kNoPdf: a non-emitting start
        return cls(phone, hmm_states, pdf_class, state, self_loop, final, initial)


def transition_states(text: str) -> List[Tuple[int, int, int, int]]:
    """(phone, hmm-state, forward pdf, self-loop pdf) of every transition state (1, 2, ...)
    from a TransitionModel's text form (``str(tm)``; Kaldi's older ``<Triples>`` have one pdf)."""
    match = re.search(r"<(Triples|Tuples)>\s*(\d+)\s(.*?)</\1>", text, re.S)
    if match is None:
        raise AsrktError("cannot read the transition states of the transition model")
    width = 3 if match.group(1) == "Triples" else 4
    numbers = [int(x) for x in match.group(3).split()]
    count = int(match.group(2))
    if len(numbers) != count * width:
        raise AsrktError("transition model: malformed transition-state table")
    return [(numbers[i], numbers[i + 1], numbers[i + 2], numbers[i + width - 1])
            for i in range(0, len(numbers), width)]


def split_to_phones(info: TransitionInfo, tids: np.ndarray) -> Optional[List[Tuple[int, int]]]:
    """Phone segments [start, end) of an alignment, as Kaldi's SplitToPhones; None when bad.

    Args:
        info: transition tables of the model.
        tids: transition-ids, one per frame.
    """
    n = len(tids)
    if n == 0:
        return []
    state, loop = info.state[tids], info.self_loop[tids]
    finals = np.flatnonzero(info.final[tids])
    if _is_reordered(state, loop):
        # a phone ends after its final transition and the self-loops that follow it
        not_loop = np.flatnonzero(~loop)
        after = np.searchsorted(not_loop, finals, side="right")
        ends = np.where(after < len(not_loop), not_loop[np.minimum(after, len(not_loop) - 1)],
                        n)
    else:
        ends = finals + 1
    if len(ends) == 0 or ends[-1] != n:
        return None  # the alignment does not end with a phone's final transition
    starts = np.concatenate([[0], ends[:-1]])
    segment = np.repeat(np.arange(len(ends)), ends - starts)
    phones = info.phone[tids]
    if np.any(phones != phones[starts][segment]):
        return None  # the phone changes without a final transition
    tail = np.zeros(n, dtype=bool)  # self-loops after a final transition
    tail[finals] = True
    owner = np.maximum.accumulate(np.where(tail, np.arange(n), -1))
    after_final = loop & (owner >= starts[segment])
    if np.any(state[after_final] != state[owner[after_final]]):
        return None
    first = tids[starts]
    if np.any(info.initial_emitting[info.phone[first]] & (info.hmm_state[first] != 0)):
        return None  # Kaldi: a phone whose first HMM state emits starts in that state
    return list(zip(starts.tolist(), ends.tolist()))


def _is_reordered(state: np.ndarray, loop: np.ndarray) -> bool:
    """Kaldi's IsReordered: at the first change of transition state next to a self-loop,
    a self-loop before the change means reordered (self-loops after the forward transition)."""
    for i in np.flatnonzero(state[:-1] != state[1:]):
        if loop[i]:
            return True
        if loop[i + 1]:
            return False
    if loop[0]:
        return False
    return bool(loop[-1])


@dataclass
class TreeStats:
    """Summed Gaussian statistics per event (Kaldi's BuildTreeStatsType of GaussClusterable).

    Attributes:
        events: int64 [E, 1 + N]: column 0 the pdf-class, column 1 + j the phone at context
            position j (0: outside the utterance; -1: key absent, ci-phone contexts).
        counts: float64 [E] frame counts.
        sum_x: float64 [E, D] sums of the features.
        sum_x2: float64 [E, D] sums of their squares.
        context_width: N.
        central_position: P.
        var_floor: variance floor of the Gaussian objective (acc-tree-stats --var-floor).
    """

    events: np.ndarray
    counts: np.ndarray
    sum_x: np.ndarray
    sum_x2: np.ndarray
    context_width: int = 3
    central_position: int = 1
    var_floor: float = 0.01

    @property
    def dim(self) -> int:
        return int(self.sum_x.shape[1])

    @property
    def num_events(self) -> int:
        return int(len(self.counts))

    def stacked(self) -> np.ndarray:
        """[E, 1 + 2D]: count, sum x, sum x^2 side by side (the form the tree code sums)."""
        return np.concatenate([self.counts[:, None], self.sum_x, self.sum_x2], axis=1)

    def event(self, i: int) -> List[Tuple[int, int]]:
        """Event ``i`` as Kaldi's sorted (key, value) pairs (kPdfClass = -1 first)."""
        row = self.events[i]
        pairs = [(-1, int(row[0]))]
        pairs += [(j, int(v)) for j, v in enumerate(row[1:]) if v != ABSENT]
        return pairs

    def objf(self) -> float:
        """Sum of the events' Gaussian log-likelihoods (Kaldi's SumObjf)."""
        return float(np.sum(gauss_objf(self.stacked(), self.var_floor)))

    def save(self, path: PathLike) -> None:
        """Write the statistics as .npz (atomically).

        Args:
            path: output file.
        """
        arrays = dict(events=self.events, counts=self.counts, sum_x=self.sum_x,
                      sum_x2=self.sum_x2, context=np.array([self.context_width,
                                                            self.central_position]),
                      var_floor=np.array(self.var_floor))
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: PathLike) -> TreeStats:
        """Read statistics written by :meth:`save`.

        Args:
            path: the .npz file.
        """
        path = Path(path)
        if not path.is_file():
            raise AsrktError(f"{path}: tree statistics file does not exist")
        try:
            with np.load(path) as data:
                n, p = (int(x) for x in data["context"])
                stats = cls(data["events"].astype(np.int64), data["counts"].astype(np.float64),
                            data["sum_x"].astype(np.float64), data["sum_x2"].astype(np.float64),
                            n, p, float(data["var_floor"]))
        except (KeyError, ValueError, OSError, TypeError) as exc:
            raise AsrktError(f"{path}: not asrkt tree statistics ({exc})") from None
        e = stats.num_events
        if (stats.events.shape != (e, 1 + n) or stats.sum_x.ndim != 2
                or stats.sum_x.shape != stats.sum_x2.shape or stats.sum_x.shape[0] != e
                or not 0 <= p < n):
            raise AsrktError(f"{path}: tree statistics have inconsistent shapes")
        return stats

    def write_kaldi(self, path: PathLike, binary: bool = True) -> None:
        """Write Kaldi's treeacc (``BTS`` of ``GCL`` GaussClusterables), as acc-tree-stats
        writes it, for Kaldi's sum-tree-stats, cluster-phones and build-tree.

        Args:
            path: output file.
            binary: Kaldi's binary form (its default) or text.
        """
        order = sorted(range(self.num_events), key=self.event)  # Kaldi's std::map order
        if binary:
            out = [b"\x00B", kb.token("BTS"), kb.uint32(self.num_events)]
            for i in order:
                pairs = self.event(i)
                out += [kb.token("EV"), kb.uint32(len(pairs))]
                out += [kb.int32(v) for pair in pairs for v in pair]
                out += [b"T", kb.token("GCL"), kb.float64(self.counts[i]),
                        kb.float32(self.var_floor),
                        kb.double_matrix(np.stack([self.sum_x[i], self.sum_x2[i]]))]
            with atomic_output(path) as tmp:
                tmp.write_bytes(b"".join(out))
            return
        lines = [f"BTS {self.num_events} "]
        for i in order:
            pairs = self.event(i)
            ev = " ".join(f"{k} {v}" for k, v in pairs)
            row_x = " ".join(f"{v:.17g}" for v in self.sum_x[i])
            row_x2 = " ".join(f"{v:.17g}" for v in self.sum_x2[i])
            lines.append(f"EV {len(pairs)} {ev} \nT GCL {self.counts[i]:.17g} "
                         f"{self.var_floor:g}  [\n  {row_x} \n  {row_x2} ]\n")
        with atomic_output(path) as tmp:
            tmp.write_text("".join(lines) + "\n")

    @classmethod
    def read_kaldi(cls, path: PathLike, context_width: int = 3,
                   central_position: int = 1) -> TreeStats:
        """Read Kaldi's treeacc (acc-tree-stats / sum-tree-stats output, binary or text).

        Args:
            path: the file.
            context_width: N the statistics were accumulated with.
            central_position: P.
        """
        path = Path(path)
        if not path.is_file():
            raise AsrktError(f"{path}: tree statistics file does not exist")
        data, binary = kb.split_header(path.read_bytes())
        reader = kb.KaldiReader(data, binary, str(path), "treeacc")
        reader.expect("BTS")
        size = reader.integer(signed=False)
        if size > len(data):
            raise reader.fail(f"{size} statistics announced")
        events = np.full((size, 1 + context_width), ABSENT, dtype=np.int64)
        counts, rows, floors = np.zeros(size), [], set()
        for i in range(size):
            reader.expect("EV")
            num = reader.integer(signed=False)
            if num > 1 + context_width:
                raise reader.fail(f"event of {num} keys for context width {context_width}")
            for _ in range(num):
                key, value = reader.integer(), reader.integer()
                if not -1 <= key < context_width:
                    raise reader.fail(f"key {key} outside the context window")
                events[i, key + 1] = value
            if events[i, 0] == ABSENT or events[i, 1 + central_position] == ABSENT:
                raise reader.fail("event without pdf-class or central phone")
            if not reader.boolean():
                raise reader.fail("statistics without a GaussClusterable")
            reader.expect("GCL")
            counts[i] = reader.real()
            floors.add(reader.real())
            matrix = reader.matrix(2)
            if matrix.shape[0] != 2 or (rows and matrix.shape[1] != rows[0].shape[1]):
                raise reader.fail("statistics of inconsistent dimension")
            rows.append(matrix)
        if not reader.at_end():
            raise reader.fail("trailing data")
        stacked = np.stack(rows) if rows else np.zeros((0, 2, 0))
        return cls(events, counts, stacked[:, 0], stacked[:, 1], context_width,
                   central_position, float(floors.pop()) if floors else 0.01)


def gauss_objf(stacked: np.ndarray, var_floor: float) -> np.ndarray:
    """Kaldi's GaussClusterable::Objf for rows of summed statistics [..., 1 + 2D].

    count * (-0.5 * sum_d var_d / floored_d - 0.5 * (sum_d log floored_d + D log 2 pi)),
    with floored = max(var, var_floor); 0 for a count <= 0.

    Args:
        stacked: count, sum x, sum x^2 side by side.
        var_floor: variance floor.
    """
    dim = (stacked.shape[-1] - 1) // 2
    count = stacked[..., 0]
    safe = np.where(count > 0, count, 1.0)[..., None]
    mean = stacked[..., 1:1 + dim] / safe
    var = stacked[..., 1 + dim:] / safe
    np.multiply(mean, mean, out=mean)
    var -= mean
    floored = np.maximum(var, var_floor)
    np.divide(var, floored, out=var)
    np.log(floored, out=floored)
    per_frame = (-0.5 * var.sum(axis=-1)
                 - 0.5 * (floored.sum(axis=-1) + dim * LOG_2PI))
    return np.where(count > 0, per_frame * count, 0.0)


def split_all_to_phones(info: TransitionInfo, tids: np.ndarray, lengths: np.ndarray
                        ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`split_to_phones` of many utterances at once.

    Args:
        info: transition tables of the model.
        tids: the utterances' transition-ids, concatenated.
        lengths: frames per utterance.

    Returns:
        (start frame of every phone segment of the good utterances, in ``tids``; the
        utterance of each segment; per utterance, True where its alignment is bad)
    """
    num_utt, total = len(lengths), len(tids)
    bad = np.zeros(num_utt, dtype=bool)
    empty = np.zeros(0, dtype=np.int64)
    if total == 0:
        return empty, empty, bad
    offsets = np.zeros(num_utt + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    first_frame, utt_end = offsets[:-1], offsets[1:]
    utt_of = np.repeat(np.arange(num_utt), lengths)
    state, loop = info.state[tids], info.self_loop[tids]
    nonempty = lengths > 0
    # Kaldi's IsReordered per utterance (see _is_reordered)
    reordered = np.zeros(num_utt, dtype=bool)
    ne = np.flatnonzero(nonempty)
    reordered[ne] = ~loop[first_frame[ne]] & loop[utt_end[ne] - 1]
    change = np.flatnonzero((state[:-1] != state[1:]) & (utt_of[:-1] == utt_of[1:])
                            & (loop[:-1] | loop[1:]))
    if len(change):
        cu = utt_of[change]
        first = np.ones(len(change), dtype=bool)
        first[1:] = cu[1:] != cu[:-1]
        reordered[cu[first]] = loop[change[first]]
    # phone ends: after the final transition (and, reordered, the self-loops that follow it)
    finals = np.flatnonzero(info.final[tids])
    f_utt = utt_of[finals]
    not_loop = np.flatnonzero(~loop)
    after = np.searchsorted(not_loop, finals, side="right")
    nxt = np.where(after < len(not_loop), not_loop[np.minimum(after, len(not_loop) - 1)], total)
    ends = np.where(reordered[f_utt], np.minimum(nxt, utt_end[f_utt]), finals + 1)
    last = np.searchsorted(finals, utt_end, side="left") - 1  # last final of each utterance
    has = last >= np.searchsorted(finals, first_frame, side="left")
    bad[nonempty & ~has] = True
    bad[has] |= ends[last[has]] != utt_end[has]
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = first_frame[f_utt[0]]
        same = f_utt[1:] == f_utt[:-1]
        starts[1:] = np.where(same, ends[:-1], first_frame[f_utt[1:]])
    # checks of every frame against its segment (a frame outside its utterance's segments
    # belongs to a bad utterance already)
    if len(starts):
        # each frame's segment: the last start at or before it (the first for earlier frames),
        # counted along the frames (starts are sorted)
        seg = np.cumsum(np.bincount(starts, minlength=total)) - 1
        np.maximum(seg, 0, out=seg)
        seg_start = starts[seg]
        phones = info.phone[tids]
        wrong = phones != phones[seg_start]  # the phone changes without a final transition
        tail = np.zeros(total, dtype=bool)
        tail[finals] = True
        owner = np.maximum.accumulate(np.where(tail, np.arange(total), -1))
        after_final = loop & (owner >= seg_start)
        wrong[after_final] |= state[after_final] != state[owner[after_final]]
        bad[utt_of[wrong]] = True
        head = tids[starts]  # Kaldi: a phone whose first HMM state emits starts in that state
        bad[f_utt[info.initial_emitting[info.phone[head]] & (info.hmm_state[head] != 0)]] = True
    good = ~bad[f_utt]
    return starts[good], f_utt[good], bad


def _check_tids(info: TransitionInfo, names: Sequence[str], alis: Sequence[np.ndarray],
                tids: Optional[np.ndarray] = None) -> None:
    """The first utterance with a transition-id outside the model's range is an error
    (``tids``: the alignments concatenated as int64, when already done)."""
    if not alis:
        return
    if tids is None:
        tids = np.concatenate(alis, dtype=np.int64, casting="unsafe")
    out = (tids < 1) | (tids > info.num_transition_ids)
    if out.any():
        lengths = np.array([len(a) for a in alis])
        i = int(np.searchsorted(np.cumsum(lengths), int(np.argmax(out)), side="right"))
        raise AsrktError(f"utterance '{names[i]}': transition-ids outside 1.."
                         f"{info.num_transition_ids} (alignment from another model?)")


def accumulate_tree_stats(info: TransitionInfo,
                          utterances: Iterable[Tuple[str, Sequence[int], np.ndarray]],
                          ci_phones: Sequence[int] = (), context_width: int = 3,
                          central_position: int = 1, var_floor: float = 0.01) -> TreeStats:
    """Kaldi's acc-tree-stats over utterances: Gaussian statistics per context event.

    All alignments are split into phones at once (:func:`split_all_to_phones`); the frames are
    summed per run of one phone segment and pdf-class, and the runs per event.

    Args:
        info: transition tables of the model that made the alignments
            (:meth:`TransitionInfo.from_model`).
        utterances: (utterance id, transition-ids, features [T, D]) triples.
        ci_phones: context-independent phones (no context keys in their events).
        context_width: N (3: triphones).
        central_position: P (1).
        var_floor: variance floor stored with the statistics.
    """
    if not 0 <= central_position < context_width:
        raise AsrktError(f"central position {central_position} is outside the context window "
                         f"of width {context_width}")
    n, p = context_width, central_position
    ci = np.zeros(int(info.phone.max()) + 2, dtype=bool)
    ci[[c for c in ci_phones if 0 <= c < len(ci)]] = True
    names: List[str] = []
    alis: List[np.ndarray] = []
    feat_list: List[np.ndarray] = []
    dim = None
    for utt, ali, feats in utterances:
        tids = np.asarray(ali)  # made int64 when concatenated
        feats = np.asarray(feats)
        if feats.ndim != 2 or len(feats) != len(tids):
            _check_tids(info, names, alis)  # an earlier utterance's error comes first
            raise AsrktError(f"utterance '{utt}': {len(tids)} alignment frames but features of "
                             f"shape {feats.shape}")
        if dim is None:
            dim = feats.shape[1]
        elif feats.shape[1] != dim:
            _check_tids(info, names, alis)
            raise AsrktError(f"utterance '{utt}': feature dimension {feats.shape[1]}, "
                             f"earlier utterances {dim}")
        names.append(utt)
        alis.append(tids)
        feat_list.append(feats)
    lengths = np.array([len(a) for a in alis], dtype=np.int64)
    # as np.asarray(ali, dtype=np.int64) of each utterance would give (casting="unsafe")
    tids = (np.concatenate(alis, dtype=np.int64, casting="unsafe") if alis
            else np.zeros(0, dtype=np.int64))
    _check_tids(info, names, alis, tids)
    seg_starts, seg_utt, bad = split_all_to_phones(info, tids, lengths)
    for i in np.flatnonzero(bad).tolist():
        logger.warning("utterance '%s': alignment appears to be bad, not using it", names[i])
    if bad.any():
        logger.warning("%d alignment(s) could not be split into phones and were skipped",
                       int(bad.sum()))
    if len(seg_starts) == 0:
        raise AsrktError("no usable alignments to accumulate tree statistics from")
    # the context window of every segment (phone 0 beyond its utterance's edges)
    phones = info.phone[tids[seg_starts]]
    num_seg = len(seg_starts)
    windows = np.zeros((num_seg, n), dtype=np.int64)
    for j in range(n):
        other = np.arange(num_seg) + (j - p)
        ok = np.flatnonzero((other >= 0) & (other < num_seg))
        ok = ok[seg_utt[other[ok]] == seg_utt[ok]]
        windows[ok, j] = phones[other[ok]]
    windows[ci[phones]] = np.where(np.arange(n) == p, windows[ci[phones]], ABSENT)
    # runs of frames of one segment and pdf-class; the frames of bad alignments are in runs
    # of their own, left out
    total = len(tids)
    pdf = info.pdf_class[tids]
    boundary = np.zeros(total, dtype=bool)
    boundary[seg_starts] = True
    utt_starts = np.cumsum(lengths) - lengths
    boundary[utt_starts[lengths > 0]] = True
    boundary[1:] |= pdf[1:] != pdf[:-1]
    run_starts = np.flatnonzero(boundary)
    run_len = np.diff(np.append(run_starts, total))
    run_seg = np.searchsorted(seg_starts, run_starts, side="right") - 1
    utt_of_run = np.searchsorted(np.cumsum(lengths), run_starts, side="right")
    use = ~bad[utt_of_run]
    run_events = np.concatenate([pdf[run_starts][use, None], windows[run_seg[use]]], axis=1)
    keys, inverse = _unique_rows(run_events)
    counts = np.bincount(inverse, weights=run_len[use], minlength=len(keys))
    # the frames in event order (stable: each event's frames in time order, as Kaldi adds
    # them), gathered run by run; then one sequential sum per event
    order = np.argsort(inverse, kind="stable")
    first, length = run_starts[use][order], run_len[use][order]
    within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    frames = np.repeat(first, length) + within
    # one feature dimension per row: numpy sums each event's stretch of a row as it sums a
    # column of [frames, D] (the same pairwise summation, bit for bit), much faster; whole
    # events at a time, about _BLOCK frames, so that x stays in cache for both sums
    every = np.concatenate(feat_list)
    sizes = counts.astype(np.int64)
    ends = np.cumsum(sizes)
    begins = ends - sizes
    sx, sx2 = np.empty((len(sizes), dim)), np.empty((len(sizes), dim))
    x = np.empty((dim, min(len(frames), max(_BLOCK, int(sizes.max(initial=0))))))
    e = 0
    while e < len(sizes):
        f = max(int(np.searchsorted(ends, begins[e] + _BLOCK, side="right")), e + 1)
        lo, hi = int(begins[e]), int(ends[f - 1])
        block = x[:, :hi - lo]
        for j in range(lo, hi, _BLOCK):  # gathered and transposed in cache-sized pieces
            block[:, j - lo:j - lo + _BLOCK] = every[frames[j:min(j + _BLOCK, hi)]].T
        at = begins[e:f] - lo
        sx[e:f] = np.add.reduceat(block, at, axis=1).T
        np.multiply(block, block, out=block)
        sx2[e:f] = np.add.reduceat(block, at, axis=1).T
        e = f
    return TreeStats(keys.astype(np.int64), counts, sx, sx2, n, p, float(var_floor))


_BLOCK = 8192  # frames per block of accumulate_tree_stats' sums


def _unique_rows(events: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Sorted unique rows of small integers (>= -1) and each row's index among them; rows
    are packed into one int64 each when they fit (much faster than ``unique(axis=0)``)."""
    base = int(events.max()) + 2
    if base ** events.shape[1] >= 2 ** 62:
        keys, inverse = np.unique(events, axis=0, return_inverse=True)
        return keys, inverse.reshape(-1)
    packed = np.zeros(len(events), dtype=np.int64)
    for j in range(events.shape[1]):
        packed = packed * base + (events[:, j] + 1)
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    return events[first], inverse.reshape(-1)


def sum_tree_stats(parts: Sequence[TreeStats]) -> TreeStats:
    """Kaldi's sum-tree-stats: add statistics of the same events.

    Args:
        parts: statistics with equal context window, dimension and variance floor.
    """
    if not parts:
        raise AsrktError("no tree statistics to sum")
    first = parts[0]
    for other in parts[1:]:
        if (other.context_width, other.central_position, other.dim) != (
                first.context_width, first.central_position, first.dim):
            raise AsrktError("tree statistics differ in context window or feature dimension")
    events = np.concatenate([s.events for s in parts])
    stacked = np.concatenate([s.stacked() for s in parts])
    keys, inverse = _unique_rows(events)
    summed = np.zeros((len(keys), stacked.shape[1]))
    np.add.at(summed, inverse, stacked)
    d = first.dim
    return TreeStats(keys, summed[:, 0], summed[:, 1:1 + d], summed[:, 1 + d:],
                     first.context_width, first.central_position, first.var_floor)
