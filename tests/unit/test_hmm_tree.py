"""Tree statistics (acc-tree-stats) and tree building (cluster-phones, compile-questions,
build-tree) on small synthetic data where the right answer is known; the built tree as Kaldi's
ContextDependency bytes; roots and extra questions from prepare-lang."""

from __future__ import annotations

import itertools
from typing import Dict, List, Tuple

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.hmm.config import TreeConfig
from asrkt.hmm.kaldi import khg
from asrkt.hmm.lang import make_topo, prepare_lang
from asrkt.hmm.tree import (
    Leaf,
    Root,
    Split,
    Table,
    Tree,
    build_tree,
    cluster_phones,
    compile_questions,
    read_roots,
)
from asrkt.hmm.tree_stats import (
    TransitionInfo,
    TreeStats,
    accumulate_tree_stats,
    gauss_objf,
    split_to_phones,
    sum_tree_stats,
)

SIL, PHONES = 1, [2, 3, 4, 5]


def topology():
    topo = khg.HmmTopology()
    topo.read(make_topo(PHONES, [SIL]))
    return topo


def mono_info():
    topo = topology()
    cd = khg.monophone_context_dependency([SIL] + PHONES, topo.get_phone_to_num_pdf_classes())
    return TransitionInfo.from_model(khg.TransitionModel(cd, topo), topo), topo


def tid(info: TransitionInfo, phone: int, state: int, dest: int) -> int:
    """The transition-id of a phone's HMM state ``state`` going to ``dest``."""
    first = next(t for t in range(1, info.num_transition_ids + 1)
                 if info.phone[t] == phone and info.hmm_state[t] == state)
    dests = [d for d, _ in topology().topology_for_phone(phone)[state].transitions]
    return first + dests.index(dest)


def phone_frames(info: TransitionInfo, phone: int, durations: List[int]) -> List[int]:
    """A reordered alignment of one phone: each state's forward transition, then self-loops."""
    out = []
    last = len(durations) - 1
    for s, d in enumerate(durations):
        out.append(tid(info, phone, s, s + 1))
        out += [tid(info, phone, s, s)] * (d - 1)
    assert info.final[out[-d]] and not info.final[out[0]] or len(durations) == 1
    del last
    return out


def exact_stats(rows: List[Tuple[Tuple[int, ...], float, np.ndarray, np.ndarray]]) -> TreeStats:
    """Statistics with exactly the given count, mean and variance per event (no noise)."""
    events = np.array([r[0] for r in rows], dtype=np.int64)
    counts = np.array([r[1] for r in rows])
    means = np.array([r[2] for r in rows])
    var = np.array([r[3] for r in rows])
    return TreeStats(events, counts, counts[:, None] * means,
                     counts[:, None] * (var + means * means))


def triphone_stats(mean_of, count: float = 100.0, dim: int = 2) -> TreeStats:
    """Every triphone of PHONES (contexts: all phones and 0) for every pdf-class, and silence
    without context; ``mean_of(left, c, r, k)`` gives the mean, unit variance."""
    rows = []
    for left, c, r in itertools.product([0, SIL] + PHONES, PHONES, [0, SIL] + PHONES):
        for k in range(3):
            rows.append(((k, left, c, r), count, np.asarray(mean_of(left, c, r, k), float),
                         np.ones(dim)))
    for k in range(5):
        rows.append(((k, -1, SIL, -1), count * 5, np.full(dim, -20.0 - 3 * k), np.ones(dim)))
    return exact_stats(rows)


def base_mean(left, c, r, k):
    return [10.0 * c + 3.0 * k, 0.0]


def context_stats(seed: int) -> TreeStats:
    """Triphone statistics whose means move with a random offset per (left, right) context."""
    rng = np.random.default_rng(seed)
    offsets = {key: rng.normal(size=2) for key in itertools.product(range(7), range(7))}
    return triphone_stats(lambda left, c, r, k: np.add(base_mean(left, c, r, k),
                                                       offsets[(left, r)]))


def all_roots() -> List[Root]:
    return [Root((p,)) for p in [SIL] + PHONES]


def build(stats, questions=None, **config) -> Tree:
    topo = topology()
    questions = questions or compile_questions([[p] for p in [SIL] + PHONES]
                                               + [[SIL] + PHONES], 5)
    return build_tree(stats, questions, all_roots(), topo.get_phone_to_num_pdf_classes(),
                      TreeConfig(**{"round_num_leaves": False, **config}))


def contexts():
    topo = topology()
    ncls = topo.get_phone_to_num_pdf_classes()
    for left, c, r in itertools.product([0, SIL] + PHONES, [SIL] + PHONES, [0, SIL] + PHONES):
        for k in range(ncls[c]):
            yield [left, c, r], k


# ---- statistics ---------------------------------------------------------------------------
def test_stats_of_a_tiny_alignment_equal_a_hand_computation():
    info, _ = mono_info()
    ali = (phone_frames(info, SIL, [1, 1, 1, 1, 2]) + phone_frames(info, 2, [2, 1, 3])
           + phone_frames(info, 3, [1, 2, 1]) + phone_frames(info, SIL, [1, 1, 2, 1, 1]))
    feats = np.random.default_rng(0).normal(size=(len(ali), 3))
    stats = accumulate_tree_stats(info, [("u1", ali, feats)], ci_phones=[SIL])
    # by hand: phone sequence SIL 2 3 SIL; events (pdf-class, left, central, right)
    labels = ([(k, -1, SIL, -1) for k in [0, 1, 2, 3, 4, 4]]
              + [(k, SIL, 2, 3) for k in [0, 0, 1, 2, 2, 2]]
              + [(k, 2, 3, SIL) for k in [0, 1, 1, 2]]
              + [(k, -1, SIL, -1) for k in [0, 1, 2, 2, 3, 4]])
    want: Dict[tuple, list] = {}
    for f, label in enumerate(labels):
        want.setdefault(label, []).append(feats[f])
    got = {tuple(int(v) for v in e): i for i, e in enumerate(stats.events)}
    assert set(got) == set(want)
    for label, rows in want.items():
        i = got[label]
        assert stats.counts[i] == len(rows)
        np.testing.assert_allclose(stats.sum_x[i], np.sum(rows, axis=0))
        np.testing.assert_allclose(stats.sum_x2[i], np.sum(np.square(rows), axis=0))
    assert stats.event(got[(0, -1, SIL, -1)]) == [(-1, 0), (1, SIL)]  # Kaldi's event vector
    assert stats.event(got[(0, SIL, 2, 3)]) == [(-1, 0), (0, SIL), (1, 2), (2, 3)]


def test_alignment_without_reordering_gives_the_same_stats():
    info, _ = mono_info()
    durations = [(SIL, [1, 2, 1, 1, 3]), (2, [2, 3, 1]), (4, [1, 1, 4]), (SIL, [2, 1, 1, 1, 1])]
    reordered, plain = [], []
    for phone, ds in durations:
        for s, d in enumerate(ds):
            forward, loop = tid(info, phone, s, s + 1), tid(info, phone, s, s)
            reordered += [forward] + [loop] * (d - 1)
            plain += [loop] * (d - 1) + [forward]
    feats = np.random.default_rng(2).normal(size=(len(plain), 2))
    a = accumulate_tree_stats(info, [("u", reordered, feats)], [SIL])
    b = accumulate_tree_stats(info, [("u", plain, feats)], [SIL])
    np.testing.assert_array_equal(a.events, b.events)
    np.testing.assert_allclose(a.sum_x2, b.sum_x2)
    assert {tuple(e) for e in a.events.tolist()} >= {(0, SIL, 2, 4), (2, 2, 4, SIL)}


def test_utterance_edges_are_phone_zero_and_ci_phones_get_context_without_the_option():
    info, _ = mono_info()
    ali = phone_frames(info, 2, [1, 1, 1]) + phone_frames(info, SIL, [1, 1, 1, 1, 1])
    stats = accumulate_tree_stats(info, [("u", ali, np.zeros((len(ali), 1)))])
    events = {tuple(int(v) for v in e) for e in stats.events}
    assert (0, 0, 2, SIL) in events and (0, 2, SIL, 0) in events


def test_bad_alignment_is_skipped_and_a_wrong_length_is_an_error(caplog):
    info, _ = mono_info()
    good = phone_frames(info, 2, [1, 1, 1])
    bad = phone_frames(info, 2, [1, 1, 1])[:2]  # ends inside the phone
    assert split_to_phones(info, np.array(bad)) is None
    stats = accumulate_tree_stats(info, [("good", good, np.ones((3, 1))),
                                         ("bad", bad, np.ones((2, 1)))])
    assert stats.counts.sum() == 3 and "bad" in caplog.text
    with pytest.raises(AsrktError, match="'good': 3 alignment frames but features"):
        accumulate_tree_stats(info, [("good", good, np.ones((4, 1)))])


def test_objective_is_kaldis_gauss_clusterable():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4)) * [1.0, 0.01, 3.0, 0.05]
    stacked = np.concatenate([[30.0], x.sum(0), (x * x).sum(0)])
    kaldi = khg.GaussClusterable(x.sum(0), (x * x).sum(0), 0.01, 30.0)
    assert gauss_objf(stacked, 0.01) == pytest.approx(kaldi.objf(), rel=1e-5)
    assert gauss_objf(np.zeros(9), 0.01) == 0.0


def test_stats_save_load_and_sum(tmp_path):
    stats = triphone_stats(base_mean)
    stats.save(tmp_path / "s.npz")
    again = TreeStats.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(again.events, stats.events)
    np.testing.assert_array_equal(again.sum_x2, stats.sum_x2)
    twice = sum_tree_stats([stats, again])
    count_of = {tuple(e): c for e, c in zip(twice.events.tolist(), twice.counts)}
    assert count_of == {tuple(e): 2 * c for e, c in zip(stats.events.tolist(), stats.counts)}
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(AsrktError, match="bad.npz: not asrkt tree statistics"):
        TreeStats.load(tmp_path / "bad.npz")
    stats.write_kaldi(tmp_path / "treeacc.txt", binary=False)
    text = (tmp_path / "treeacc.txt").read_text()
    assert text.startswith(f"BTS {stats.num_events} ") and "EV 2 -1 0 1 1 \nT GCL 500" in text
    stats.write_kaldi(tmp_path / "treeacc")
    assert (tmp_path / "treeacc").read_bytes().startswith(b"\x00BBTS \xfc")
    for name in ("treeacc", "treeacc.txt"):
        kaldi = TreeStats.read_kaldi(tmp_path / name)
        # written in the order of Kaldi's std::map of event vectors
        assert [kaldi.event(i) for i in range(kaldi.num_events)] == sorted(
            stats.event(i) for i in range(stats.num_events))
        same = sum_tree_stats([kaldi])
        np.testing.assert_array_equal(same.events, sum_tree_stats([stats]).events)
        np.testing.assert_array_equal(same.sum_x2, sum_tree_stats([stats]).sum_x2)
        assert kaldi.var_floor == pytest.approx(0.01)
    data = (tmp_path / "treeacc").read_bytes()
    (tmp_path / "cut").write_bytes(data[:len(data) // 3])
    with pytest.raises(AsrktError, match="cut: not a valid Kaldi treeacc"):
        TreeStats.read_kaldi(tmp_path / "cut")


# ---- questions ----------------------------------------------------------------------------
def test_cluster_phones_separates_groups_and_keeps_every_set():
    far = {2: 0.0, 3: 0.5, 4: 50.0, 5: 50.5}
    stats = triphone_stats(lambda left, c, r, k: [far[c], 0.0])
    questions = cluster_phones(stats, [[SIL], [2], [3], [4], [5]])
    assert (2, 3) in questions and (4, 5) in questions
    assert (SIL, 2, 3, 4, 5) in questions and all((p,) in questions for p in [SIL] + PHONES)
    assert (2, 4) not in questions and (3, 4) not in questions
    assert questions == sorted(set(questions))


def test_compile_questions_sorts_deduplicates_and_adds_pdf_class_questions():
    q = compile_questions([[3, 2], [2, 3], [4]], 5)
    assert q.phone == [(2, 3), (4,)]
    assert q.pdf_class == [(0,), (0, 1), (0, 1, 2), (0, 1, 2, 3)]
    with pytest.raises(AsrktError, match="question 1 repeats a phone"):
        compile_questions([[2, 2]], 3)
    with pytest.raises(AsrktError, match="question 2 asks about phone 9, which is not in the"):
        compile_questions([[2], [3, 9]], 3, phones=[1, 2, 3])


# ---- building -----------------------------------------------------------------------------
def test_right_context_that_changes_the_mean_is_split_on():
    def mean(left, c, r, k):
        m = base_mean(left, c, r, k)
        if c == 2 and k == 1 and r in (4, 5):
            m[1] = 8.0
        return m

    stats = triphone_stats(mean)
    questions = compile_questions([[p] for p in [SIL] + PHONES] + [[4, 5], [2, 3]], 5)
    tree = build(stats, questions, num_leaves=100, thresh=1.0, cluster_thresh=0)
    # the only context split: right context (key 2) on {4, 5} for phone 2's pdf-class 1
    def splits(node):
        if isinstance(node, Split):
            return [node] + splits(node.yes) + splits(node.no)
        return []

    ctx = [s for s in splits(tree.root) if s.key in (0, 2)]
    assert [(s.key, s.yes_set) for s in ctx] == [(2, (4, 5))]
    assert tree.compute([3, 2, 4], 1) == tree.compute([0, 2, 5], 1)
    assert tree.compute([3, 2, 4], 1) != tree.compute([3, 2, 3], 1)
    assert tree.compute([3, 2, 4], 0) == tree.compute([3, 2, 3], 0)
    # every pdf-class of every phone has its own leaf, plus the one split: 4 * 3 + 5 + 1
    assert tree.num_pdfs == 18


def test_num_leaves_is_respected():
    stats = context_stats(3)
    for wanted in (17, 25, 40):
        tree = build(stats, num_leaves=wanted, thresh=0.0, cluster_thresh=0)
        assert tree.num_pdfs == wanted
        assert tree.summary["leaves_after_split"] == wanted
    clustered = build(stats, num_leaves=40, thresh=0.0)
    assert clustered.num_pdfs <= 40


def test_split_gains_add_up_to_the_likelihood_of_the_tree():
    stats = context_stats(6)
    tree = build(stats, num_leaves=35, thresh=0.0, cluster_thresh=0)
    stacked = stats.stacked()

    def objf_of(groups):
        return sum(float(gauss_objf(stacked[groups == g].sum(0), 0.01))
                   for g in np.unique(groups))

    leaves_of = np.array([tree.compute(list(e[1:]) if e[1] >= 0 else [0, e[2], 0], e[0])
                          for e in stats.events])
    per_root = stats.events[:, 2]  # one stub leaf per phone (shared roots)
    gain = (objf_of(leaves_of) - objf_of(per_root)) / stats.counts.sum()
    assert gain == pytest.approx(tree.summary["split_gain_per_frame"], rel=1e-9)
    assert TreeConfig().thresh == 300.0 and TreeConfig().cluster_thresh == -1.0
    assert TreeConfig().var_floor == 0.01 and TreeConfig().round_num_leaves


def test_thresh_stops_splitting():
    stats = triphone_stats(base_mean)  # no context effect; pdf-classes differ a lot
    low = build(stats, num_leaves=0, thresh=1.0, cluster_thresh=0)
    assert low.num_pdfs == 4 * 3 + 5  # split to pdf-classes, nothing on context
    high = build(stats, num_leaves=0, thresh=1e12, cluster_thresh=0)
    assert high.num_pdfs == 5  # one leaf per root: no split gains 1e12
    assert high.summary["splits"] == 0


def test_leaf_clustering_merges_leaves_whose_merge_costs_less_than_cluster_thresh():
    # phone 2 pdf-class 0: right contexts 3 and 4 almost equal, 5 far; the questions only
    # single out one phone at a time, so the tree puts 3 and 4 on different leaves
    shift = {3: 0.0, 4: 0.3, 5: 9.0}

    def mean(left, c, r, k):
        m = base_mean(left, c, r, k)
        if c == 2 and k == 0:
            m[1] = shift.get(r, 20.0)
        return m

    stats = triphone_stats(mean)
    questions = compile_questions([[p] for p in [SIL] + PHONES] + [[SIL] + PHONES], 5)
    split_only = build(stats, questions, num_leaves=0, thresh=1.0, cluster_thresh=0)
    assert split_only.compute([0, 2, 3], 0) != split_only.compute([0, 2, 4], 0)
    # the cost of merging the two leaves, computed from the statistics themselves
    ev = stats.events
    a, b = (stats.stacked()[(ev[:, 0] == 0) & (ev[:, 2] == 2) & (ev[:, 3] == r)].sum(0)
            for r in (3, 4))
    cost = gauss_objf(a, 0.01) + gauss_objf(b, 0.01) - gauss_objf(a + b, 0.01)
    assert cost > 0
    merged = build(stats, questions, num_leaves=0, thresh=1.0, cluster_thresh=cost * 1.01)
    assert merged.compute([0, 2, 3], 0) == merged.compute([0, 2, 4], 0)
    assert merged.compute([0, 2, 3], 0) != merged.compute([0, 2, 5], 0)
    assert merged.num_pdfs == split_only.num_pdfs - 1
    kept = build(stats, questions, num_leaves=0, thresh=1.0, cluster_thresh=cost * 0.99)
    assert kept.num_pdfs == split_only.num_pdfs


def test_bottom_up_merging_stops_at_the_threshold_after_merges():
    from asrkt.hmm.tree import _bottom_up

    def point(mean, n=100.0):
        return np.array([n, n * mean, n * (1.0 + mean * mean)])

    # a and b merge for free; (a+b) with c costs more than thresh: three points, two clusters
    a, b, c = point(0.0), point(0.0), point(0.4)
    merged = a + b
    cost = gauss_objf(merged, 0.01) + gauss_objf(c, 0.01) - gauss_objf(merged + c, 0.01)
    thresh = cost / 2
    single = gauss_objf(a, 0.01) + gauss_objf(c, 0.01) - gauss_objf(a + c, 0.01)
    assert single > thresh  # c is not merged with a alone either
    assert list(_bottom_up(np.stack([a, b, c]), thresh, 0.01)) == [0, 0, 1]
    assert list(_bottom_up(np.stack([a, b, c]), cost * 1.01, 0.01)) == [0, 0, 0]
    assert list(_bottom_up(np.stack([c, a, b]), thresh, 0.01)) == [0, 1, 1]


def test_default_cluster_thresh_is_the_smallest_split():
    stats = context_stats(4)
    tree = build(stats, num_leaves=40, thresh=0.0)
    assert tree.summary["leaves_after_split"] == 40
    assert tree.summary["cluster_thresh"] > 0
    assert tree.num_pdfs == 40 - tree.summary["leaves_merged"]
    assert tree.summary["cluster_change_per_frame"] <= 0


def test_round_num_leaves_merges_the_cheapest_pairs_within_roots_down_to_a_multiple_of_8():
    """build-tree's default --round-num-leaves: after the threshold clustering, the cheapest
    merges of two leaves of one root (over all roots) until the count is a multiple of 8."""
    from asrkt.hmm.tree import _bottom_up_to_n

    stats = context_stats(4)
    plain = build(stats, num_leaves=43, thresh=0.0, cluster_thresh=0)
    assert plain.num_pdfs == 43
    rounded = build(stats, num_leaves=43, thresh=0.0, cluster_thresh=0, round_num_leaves=True)
    assert rounded.num_pdfs == 40 and rounded.summary["leaves_rounded"] == 3
    # it only merges: every leaf of the rounded tree is a union of leaves of the plain one
    ctx = list(contexts())
    pairs = {(plain.compute(c, k), rounded.compute(c, k)) for c, k in ctx}
    assert len({p for p, _ in pairs}) == 43 and len(pairs) == 43
    assert rounded.summary["cluster_change_per_frame"] < 0
    default = build(stats, num_leaves=43, thresh=0.0, round_num_leaves=True)
    merged = default.summary["leaves_merged"]
    assert default.num_pdfs == ((43 - merged) // 8) * 8
    assert default.summary["leaves_rounded"] == 43 - merged - default.num_pdfs

    def point(mean, n=100.0):
        return np.array([n, n * mean, n * (1.0 + mean * mean)])

    # two roots: the cheapest merge is in the second, then the first's; never across roots
    first = np.stack([point(0.0), point(0.5), point(3.0)])
    second = np.stack([point(1.0), point(1.1)])
    a, b = _bottom_up_to_n([first, second], 4, 0.01)
    assert list(a) == [0, 1, 2] and list(b) == [0, 0]
    a, b = _bottom_up_to_n([first, second], 3, 0.01)
    assert list(a) == [0, 0, 1] and list(b) == [0, 0]
    a, b = _bottom_up_to_n([first, second], 1, 0.01)  # one cluster per root is the least
    assert list(a) == [0, 0, 0] and list(b) == [0, 0]


def test_built_tree_is_kaldis_context_dependency_and_makes_a_transition_model(tmp_path):
    stats = context_stats(5)
    tree = build(stats, num_leaves=30, thresh=0.0)
    cd = tree.context_dependency()
    assert cd.num_pdfs == tree.num_pdfs and cd.context_width == 3 and cd.central_position == 1
    assert bytes(b & 255 for b in cd.__getstate__()[0]) == tree.to_bytes()
    for window, k in contexts():
        ok, pdf = cd.compute(window, k)
        assert ok and pdf == tree.compute(window, k), (window, k)
    tm = khg.TransitionModel(cd, topology())
    assert tm.num_pdfs == tree.num_pdfs
    for binary in (True, False):
        path = tmp_path / f"tree{int(binary)}"
        cd.write(binary, str(path))
        assert Tree.read(path).root == tree.root
        tree.write(tmp_path / "ours", binary)
        assert (tmp_path / "ours").read_bytes() == path.read_bytes()


def test_truncated_or_foreign_tree_bytes_are_one_error_line(tmp_path):
    tree = build(triphone_stats(base_mean), num_leaves=20, thresh=1.0)
    data = b"\x00B" + tree.to_bytes()
    for cut in (5, 40, len(data) // 2, len(data) - 3):
        (tmp_path / "tree").write_bytes(data[:cut])
        with pytest.raises(AsrktError) as err:
            Tree.read(tmp_path / "tree")
        assert str(err.value).startswith(f"{tmp_path / 'tree'}: not a valid Kaldi tree")
        assert "\n" not in str(err.value)
    (tmp_path / "tree").write_text("<TransitionModel> 1 2 3")
    with pytest.raises(AsrktError, match="expected 'ContextDependency'"):
        Tree.read(tmp_path / "tree")


def test_tree_that_misses_a_phone_context_is_refused(tmp_path):
    ncls = topology().get_phone_to_num_pdf_classes()
    # a table over the central phone without an entry for phone 5
    table = Table(1, (None, Table(-1, tuple(Leaf(i) for i in range(5))))
                  + tuple(Table(-1, tuple(Leaf(5 + 3 * j + k) for k in range(3)))
                          for j in range(3)))
    with pytest.raises(AsrktError, match="phone 5 pdf-class 0 with central phone = 5 has no pdf"):
        Tree(3, 1, table).check(ncls)
    # right context 5 lacks an answer below a table on key 2
    full = Table(1, (None, Table(-1, tuple(Leaf(i) for i in range(5))))
                 + tuple(Table(-1, tuple(Leaf(5 + 3 * j + k) for k in range(3)))
                         for j in range(4)))
    Tree(3, 1, full).check(ncls)
    Tree(3, 1, table).write(tmp_path / "tree")
    with pytest.raises(AsrktError, match=f"{tmp_path / 'tree'}: phone 5 pdf-class 0"):
        Tree.read(tmp_path / "tree", ncls)
    holes = map_right_context_table(full)
    with pytest.raises(AsrktError, match="context position 2 = 5 has no pdf"):
        Tree(3, 1, holes).check(ncls)
    gap = Table(1, full.table[:-1] + (Table(-1, (Leaf(14), Leaf(15), Leaf(99))),))
    with pytest.raises(AsrktError, match="pdf 16 is not reached"):
        Tree(3, 1, gap).check(ncls)
    # a leaf only below an answer no phone gives (central phone 99) is unreachable
    dead = Split(1, (99,), Leaf(17), full)
    with pytest.raises(AsrktError, match="pdf 17 is not reached"):
        Tree(3, 1, dead).check(ncls)
    # a corrupt answer: refused without building a table of two billion pdfs
    huge = Split(1, (99,), Leaf(2 ** 31 - 1), full)
    with pytest.raises(AsrktError, match="pdf 17 is not reached .* of 2147483648 pdfs"):
        Tree(3, 1, huge).check(ncls)
    with pytest.raises(AsrktError, match="negative pdf-id -3"):
        Tree(3, 1, Split(1, (99,), Leaf(-3), full)).check(ncls)


def map_right_context_table(full: Table) -> Table:
    right = Table(2, tuple(Leaf(14) for _ in range(5)))  # values 0..4: phone 5 missing
    last = full.table[-1]
    return Table(1, full.table[:-1] + (Table(-1, (last.table[0], last.table[1], right)),))


def test_ci_phone_sharing_a_root_is_never_asked_about_its_context():
    # as in Kaldi: a key that some events of a node lack (the ci-phone's contexts) is not
    # asked there; the root splits on the central phone first, then phone 2 on its context
    def mean(left, c, r, k):
        m = base_mean(left, c, r, k)
        if c == 2 and r == 4:
            m[1] = 6.0
        return m

    stats = triphone_stats(mean)
    roots = [Root((SIL, 2))] + [Root((p,)) for p in PHONES[1:]]
    q = compile_questions([[p] for p in [SIL] + PHONES], 5)
    tree = build_tree(stats, q, roots, topology().get_phone_to_num_pdf_classes(),
                      TreeConfig(num_leaves=0, thresh=1.0, cluster_thresh=0,
                                 round_num_leaves=False))
    for k in range(5):
        assert len({tree.compute([left, SIL, r], k) for left in [0, 2, 4] for r in [0, 3, 5]}) == 1
    assert tree.compute([0, 2, 4], 0) != tree.compute([0, 2, 3], 0)


def test_phone_with_stats_missing_from_roots_is_an_error():
    q = compile_questions([[p] for p in [SIL] + PHONES], 5)
    with pytest.raises(AsrktError, match="phone 5 has statistics but is not in the roots"):
        build_tree(triphone_stats(base_mean), q, all_roots()[:-1],
                   topology().get_phone_to_num_pdf_classes(), TreeConfig())


def test_not_shared_not_split_root_keeps_one_leaf_per_pdf_class():
    stats = triphone_stats(base_mean)
    roots = [Root((SIL,), shared=False, split=False)] + [Root((p,)) for p in PHONES]
    q = compile_questions([[p] for p in [SIL] + PHONES], 5)
    tree = build_tree(stats, q, roots, topology().get_phone_to_num_pdf_classes(),
                      TreeConfig(num_leaves=0, thresh=1.0, cluster_thresh=0,
                                 round_num_leaves=False))
    assert len({tree.compute([0, SIL, 0], k) for k in range(5)}) == 5
    assert tree.num_pdfs == 5 + 4 * 3


# ---- lang dir -----------------------------------------------------------------------------
def write_dict(path, extra: str = ""):
    path.mkdir()
    (path / "lexicon.txt").write_text("<SIL> SIL\nYES A B\nNO C\n")
    (path / "silence_phones.txt").write_text("SIL\n")
    (path / "optional_silence.txt").write_text("SIL\n")
    (path / "nonsilence_phones.txt").write_text("A\nB\nC\n")
    if extra:
        (path / "extra_questions.txt").write_text(extra)
    return path


def test_prepare_lang_writes_roots_and_extra_questions(tmp_path):
    lang = prepare_lang(write_dict(tmp_path / "dict", "A B\n"), tmp_path / "lang")
    phones = lang.path / "phones"
    assert (phones / "roots.txt").read_text() == ("shared split SIL\nshared split A\n"
                                                  "shared split B\nshared split C\n")
    assert [r.phones for r in read_roots(phones / "roots.int")] == [(1,), (2,), (3,), (4,)]
    assert (phones / "extra_questions.txt").read_text() == "A B\n"
    assert (phones / "extra_questions.int").read_text() == "2 3\n"
    pos = prepare_lang(write_dict(tmp_path / "dict2", "A B\n"), tmp_path / "lang2",
                       position_dependent=True)
    roots = (pos.path / "phones" / "roots.txt").read_text().splitlines()
    assert roots[0] == "shared split SIL SIL_B SIL_E SIL_I SIL_S"
    assert roots[1] == "shared split A_B A_E A_I A_S"
    extra = (pos.path / "phones" / "extra_questions.txt").read_text().splitlines()
    assert extra[0] == "A_B A_E A_I A_S B_B B_E B_I B_S"
    assert extra[1:5] == [f"A{s} B{s} C{s}" for s in ("_B", "_E", "_I", "_S")]
    assert extra[5:] == ["SIL", "SIL_B", "SIL_E", "SIL_I", "SIL_S"]
    with pytest.raises(AsrktError, match="extra_questions.txt:1: phone"):
        prepare_lang(write_dict(tmp_path / "dict3", "A Q\n"), tmp_path / "lang3")


def test_bad_roots_file_is_one_error_line(tmp_path):
    (tmp_path / "roots.int").write_text("shared split 1\nshared 2 3\n")
    with pytest.raises(AsrktError, match="roots.int:2: expected"):
        read_roots(tmp_path / "roots.int")
