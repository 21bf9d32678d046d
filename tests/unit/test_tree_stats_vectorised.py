"""The tree statistics of all utterances at once (split_all_to_phones, runs of frames summed
per event) against a straightforward per-utterance reference: Kaldi's SplitToPhones on each
alignment, then every frame added to its event, on random alignments with ci phones, both
transition orders, empty utterances and bad alignments of every kind."""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.hmm import tree as tree_module
from asrkt.hmm import tree_stats
from asrkt.hmm.tree import (
    _bottom_up,
    _bottom_up_to_n,
    _first_of_each,
    _kmeans2,
    _kmeans2_assignment,
    _kmeans2_start,
    _merge_within_stub,
    _pairs,
    _renumber,
    compile_questions,
    map_rows,
)
from asrkt.hmm.tree_stats import (
    ABSENT,
    accumulate_tree_stats,
    gauss_objf,
    split_all_to_phones,
    split_to_phones,
)
from tests.unit.test_hmm_tree import PHONES, SIL, build, context_stats, mono_info, tid


def reference_stats(info, utterances, ci_phones, n=3, p=1):
    """Per utterance: split, context window of each phone, each frame added to its event."""
    sums: Dict[Tuple[int, ...], List[np.ndarray]] = {}
    for _, ali, feats in utterances:
        tids = np.asarray(ali, dtype=np.int64)
        segments = split_to_phones(info, tids)
        if not segments:
            continue
        phones = [int(info.phone[tids[a]]) for a, _ in segments]
        for k, (a, b) in enumerate(segments):
            window = [phones[k + j - p] if 0 <= k + j - p < len(phones) else 0
                      for j in range(n)]
            if phones[k] in ci_phones:
                window = [w if j == p else ABSENT for j, w in enumerate(window)]
            for t in range(a, b):
                event = (int(info.pdf_class[tids[t]]),) + tuple(window)
                acc = sums.setdefault(event, [0.0, np.zeros(feats.shape[1]),
                                              np.zeros(feats.shape[1])])
                x = feats[t].astype(np.float64)
                acc[0] += 1
                acc[1] += x
                acc[2] += x * x
    return sums


def random_alignment(info, rng, num_phones: int, reordered: bool) -> List[int]:
    out: List[int] = []
    for _ in range(num_phones):
        phone = int(rng.choice([SIL] + PHONES))
        num_states = 5 if phone == SIL else 3
        for s in range(num_states):
            forward, loop = tid(info, phone, s, s + 1), tid(info, phone, s, s)
            d = int(rng.integers(1, 5))
            out += [forward] + [loop] * (d - 1) if reordered else [loop] * (d - 1) + [forward]
    return out


def spoil(info, ali: List[int], rng, how: int) -> List[int]:
    ali = list(ali)
    if how == 0:    # ends inside a phone
        return ali[:-2]
    if how == 1:    # the phone changes without a final transition: a phone loses its last state
        finals = [t for t, x in enumerate(ali) if info.final[x]]
        if len(finals) > 1:
            cut = finals[0]
            return ali[:cut] + ali[finals[0] + 1:]
        return ali[:-1]
    if how == 2:    # a phone starts in HMM state 1
        return [tid(info, 2, 1, 2)] + ali
    # a self-loop of another state after a final transition (reordered alignment)
    finals = [t for t, x in enumerate(ali) if info.final[x]]
    return ali[:finals[0] + 1] + [tid(info, 3, 0, 0)] + ali[finals[0] + 1:]


def corpus(seed: int, num_utts: int = 60, dim: int = 3):
    info, _ = mono_info()
    rng = np.random.default_rng(seed)
    utts = []
    for u in range(num_utts):
        ali = random_alignment(info, rng, int(rng.integers(1, 6)), bool(rng.random() < 0.7))
        if u % 9 == 4:
            ali = spoil(info, ali, rng, u % 4)
        if u % 17 == 8:
            ali = []
        feats = rng.normal(size=(len(ali), dim)).astype(np.float32)
        utts.append((f"utt{u}", ali, feats))
    return info, utts


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ci", [(), (SIL,), (SIL, 3)])
def test_vectorised_stats_equal_the_per_utterance_reference(seed, ci, caplog):
    info, utts = corpus(seed)
    stats = accumulate_tree_stats(info, utts, ci)
    want = reference_stats(info, utts, ci)
    got = {tuple(int(v) for v in e): i for i, e in enumerate(stats.events)}
    assert set(got) == set(want)
    for event, (count, sx, sx2) in want.items():
        i = got[event]
        assert stats.counts[i] == count
        np.testing.assert_allclose(stats.sum_x[i], sx, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(stats.sum_x2[i], sx2, rtol=1e-12, atol=1e-12)
    bad = [u for u, ali, _ in utts if split_to_phones(info, np.asarray(ali, np.int64)) is None]
    assert bad, "the corpus has bad alignments"
    for u in bad:
        assert f"utterance '{u}': alignment appears to be bad" in caplog.text
    assert f"{len(bad)} alignment(s) could not be split" in caplog.text


@pytest.mark.parametrize("seed", range(6))
def test_split_all_equals_split_to_phones_on_random_transition_ids(seed):
    """Random transition-id sequences (mostly bad), random alignments and spoilt ones: the
    same good/bad verdict and the same segments as the per-utterance split."""
    info, utts = corpus(seed, num_utts=40)
    rng = np.random.default_rng(100 + seed)
    alis = [np.asarray(a, dtype=np.int64) for _, a, _ in utts]
    for _ in range(40):
        alis.append(rng.integers(1, info.num_transition_ids + 1, size=int(rng.integers(0, 8))))
    alis = [alis[i] for i in rng.permutation(len(alis))]
    lengths = np.array([len(a) for a in alis])
    starts, seg_utt, bad = split_all_to_phones(info, np.concatenate(alis), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for u, ali in enumerate(alis):
        segments = split_to_phones(info, ali)
        assert bad[u] == (segments is None), (u, ali.tolist())
        mine = (starts[seg_utt == u] - offsets[u]).tolist()
        assert mine == ([a for a, _ in segments] if segments else [])


def test_transition_id_and_shape_errors_name_the_first_bad_utterance():
    info, utts = corpus(3, num_utts=10)
    utts = [u for u in utts if len(u[1])]
    wrong = list(utts)
    wrong[2] = (wrong[2][0], [info.num_transition_ids + 1] + list(wrong[2][1][1:]), wrong[2][2])
    with pytest.raises(AsrktError, match=f"'{wrong[2][0]}': transition-ids outside 1"):
        accumulate_tree_stats(info, wrong)
    # a later utterance of the wrong shape: the earlier transition-id error comes first
    wrong[4] = (wrong[4][0], wrong[4][1], wrong[4][2][:-1])
    with pytest.raises(AsrktError, match=f"'{wrong[2][0]}': transition-ids outside 1"):
        accumulate_tree_stats(info, wrong)
    shape = list(utts)
    shape[4] = wrong[4]
    with pytest.raises(AsrktError, match=f"'{shape[4][0]}': .* alignment frames but features"):
        accumulate_tree_stats(info, shape)
    with pytest.raises(AsrktError, match="no usable alignments"):
        accumulate_tree_stats(info, [("e", [], np.zeros((0, 2)))])


def reference_kmeans2(points, var_floor, tries, rng, num_iters=20, refine_iters=100):
    """Kaldi's ClusterKMeans with two clusters, one point at a time (the loop the vectorised
    _kmeans2 replaced), from the same start."""
    n = len(points)
    total = gauss_objf(points.sum(axis=0), var_floor)
    best_gain, best_assign = None, None
    for _ in range(tries):
        assign, sums = _kmeans2_start(points, rng)
        objf = gauss_objf(sums, var_floor)
        for _ in range(num_iters):
            moved = False
            for _ in range(refine_iters):
                changed = False
                for p in range(n):
                    own, other = assign[p], 1 - assign[p]
                    before = objf[0] + objf[1]
                    moved_sums = np.stack([sums[own] - points[p], sums[other] + points[p]])
                    new = gauss_objf(moved_sums, var_floor)
                    if new[0] + new[1] > before + 1e-9 * abs(before):
                        sums[own], sums[other] = moved_sums[0], moved_sums[1]
                        objf[own], objf[other] = new[0], new[1]
                        assign[p] = other
                        changed = moved = True
                if not changed:
                    break
            if not moved:
                break
        gain = float(gauss_objf(sums, var_floor).sum() - total)
        if best_gain is None or gain > best_gain:
            best_gain, best_assign = gain, assign.copy()
    return best_gain, best_assign


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_kmeans2_equals_the_point_by_point_loop(seed):
    rng = np.random.default_rng(seed)
    n, dim = int(rng.integers(2, 30)), 3
    centres = rng.normal(size=(3, dim)) * 4
    points = []
    for i in range(n):
        x = centres[i % 3] + rng.normal(size=(int(rng.integers(5, 40)), dim))
        points.append(np.concatenate([[len(x)], x.sum(0), (x * x).sum(0)]))
    points = np.array(points)
    want = reference_kmeans2(points, 0.01, 5, np.random.default_rng(seed))
    got = _kmeans2(points, 0.01, 5, np.random.default_rng(seed))
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("block", [1, 3, 8, 50])
def test_sums_do_not_depend_on_the_block_of_frames(block, monkeypatch):
    """Events summed in blocks of whole events (one event longer than a block alone, in
    pieces): the same bits as one block of everything."""
    info, utts = corpus(4, num_utts=80, dim=5)
    utts = utts + [("long", utts[0][1] * 30, np.tile(utts[0][2], (30, 1)))]
    monkeypatch.setattr(tree_stats, "_BLOCK", 1 << 30)
    whole = accumulate_tree_stats(info, utts, (SIL,))
    monkeypatch.setattr(tree_stats, "_BLOCK", block)
    blocked = accumulate_tree_stats(info, utts, (SIL,))
    assert int(whole.counts.max()) > 3 * block
    for a, b in ((whole.events, blocked.events), (whole.counts, blocked.counts),
                 (whole.sum_x, blocked.sum_x), (whole.sum_x2, blocked.sum_x2)):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7])
def test_kmeans2_skips_repeated_starts_with_the_same_result_and_draws(n):
    """Few points have few coprime strides, so tries repeat a start; skipping them gives the
    result of running every try and leaves the generator where running them would."""
    rng = np.random.default_rng(n)
    points = []
    for i in range(n):
        x = rng.normal(size=(int(rng.integers(5, 40)), 3)) + (i % 2) * 3
        points.append(np.concatenate([[len(x)], x.sum(0), (x * x).sum(0)]))
    points = np.array(points)
    ref_rng, rng = np.random.default_rng(7), np.random.default_rng(7)
    want = reference_kmeans2(points, 0.01, 10, ref_rng)
    got = _kmeans2(points, 0.01, 10, rng)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
    assert rng.integers(1 << 30) == ref_rng.integers(1 << 30)


def test_merged_and_renumbered_answers_are_those_of_the_new_tree():
    """build_tree carries each event's answer through leaf merging and renumbering instead
    of mapping the events through every new tree: the carried answers are the tree's."""
    stats = context_stats(0)
    questions = compile_questions([[p] for p in PHONES] + [PHONES[:2], [SIL]], 3)
    split = build(stats, questions, cluster_thresh=0.0, round_num_leaves=False)
    answers = map_rows(split.root, stats.events)
    groups = np.zeros(len(stats.events), dtype=np.int64)  # one group: merges across roots
    for merge in (lambda g: [_bottom_up(x, 1e9, stats.var_floor) for x in g],
                  lambda g: _bottom_up_to_n(g, 2, stats.var_floor)):
        tree, merged, removed = _merge_within_stub(split.root, answers, stats.stacked(),
                                                   groups, merge)
        assert removed > 0
        np.testing.assert_array_equal(merged, map_rows(tree, stats.events))
        tree, renumbered = _renumber(tree, merged)
        assert sorted(set(renumbered.tolist())) == list(range(len(set(merged.tolist()))))
        np.testing.assert_array_equal(renumbered, map_rows(tree, stats.events))


def test_kmeans2_start_visits_the_points_along_the_stride_as_kaldi():
    """The vectorised initial assignment: the k-th point along the coprime stride gets k % 2,
    with one draw per call, as the point-by-point loop."""
    for n in range(1, 31):
        rng, ref_rng = np.random.default_rng(n), np.random.default_rng(n)
        for _ in range(4):
            got = _kmeans2_assignment(n, rng)
            skip = 1 if n == 1 else int(ref_rng.integers(1, n))
            while np.gcd(skip, n) != 1:
                skip = skip % (n - 1) + 1
            want, i = np.zeros(n, dtype=np.int64), 0
            for count in range(n):
                want[i] = count % 2
                i = (i + skip) % n
            np.testing.assert_array_equal(got, want)


def test_splitters_answers_are_the_split_trees(monkeypatch):
    """build_tree takes each event's answer in the split tree from the splitters' leaves
    (and the stub leaf for roots not split) instead of mapping the events through the tree:
    at the first merge the answers are map_rows' of the tree being merged."""
    stats = context_stats(1)
    questions = compile_questions([[p] for p in PHONES] + [PHONES[:2], [SIL]], 3)
    seen = []

    def checked(tree, leaf_of, *args):
        if not seen:
            np.testing.assert_array_equal(leaf_of, map_rows(tree, stats.events))
        seen.append(len(set(leaf_of.tolist())))
        return _merge_within_stub(tree, leaf_of, *args)

    monkeypatch.setattr(tree_module, "_merge_within_stub", checked)
    build(stats, questions, cluster_thresh=1e9, round_num_leaves=False)
    assert seen and seen[0] > 2  # a tree with splits was merged


@pytest.mark.parametrize("seed", range(6))
def test_first_of_each_and_pairs_equal_numpys(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, size=int(rng.integers(1, 40))).astype(np.float64)
    want = np.sort(np.unique(values, return_index=True)[1])
    np.testing.assert_array_equal(_first_of_each(values), want)
    n = int(rng.integers(0, 12))
    for got, expected in zip(_pairs(n), np.tril_indices(n, -1)):
        np.testing.assert_array_equal(got, expected)
        assert not got.flags.writeable
