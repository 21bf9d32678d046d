"""asrkt's bounded lattice search (asrkt.decode._latgen): on the toy HMM's word loop and on a
trigram LM graph, its one-weight search gives Kaldi's (kaldi-hmm-gmm's LatticeFasterDecoder)
hypotheses and alignments, each LM weight's best path from one lattice equals a separate search
at 1/LMWT, max-active bounds the tokens expanded per frame and the lattice pruning bounds the
memory, and a search can be interrupted."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import toy_hmm

WEIGHTS = list(range(4, 21))


@pytest.fixture(scope="module")
def toy_system(tmp_path_factory):
    """A toy monophone GMM, a word-loop graph and noisy test log-likelihoods (so that the LM
    weight changes some hypotheses)."""
    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import DecodeConfig, Decoder, gmm_source
    from asrkt.decode.graph import make_graph
    from asrkt.hmm.grammar import make_word_loop
    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.model import GmmModel
    from asrkt.hmm.train_mono import TrainMonoConfig, train_mono

    root = tmp_path_factory.mktemp("toy_lattice")
    train = toy_hmm.write_data_dir(root / "train", 24, seed=1)
    test = toy_hmm.write_data_dir(root / "test", 12, seed=2)
    prepare_lang(toy_hmm.write_dict_dir(root / "dict"), root / "lang", oov_word="<SIL>")
    train_mono(train, root / "lang", root / "exp",
               TrainMonoConfig(num_iters=6, max_iter_inc=4, totgauss=40, realign_iters="1 2 4"))
    make_word_loop(root / "lang", root / "lang_loop")
    make_graph(root / "lang_loop", root / "exp", root / "graph")
    model = GmmModel.load(root / "exp")
    source = gmm_source(model, test, root / "exp" / "feature_pipeline.yaml")
    rng = np.random.default_rng(0)
    # flattened and noisy, so that the graph costs decide between competing words; the lattice
    # beam is wider than the default so that every weight's best path is surely in the lattice
    loglikes = {u: (0.02 * ll + rng.normal(0.0, 0.5, ll.shape)).astype(np.float32)
                for u, ll in source(DataDir(test).utterances)}
    return Decoder(root / "graph", model, DecodeConfig(lattice_beam=10.0)), loglikes


def test_lattice_best_paths_equal_separate_searches(toy_system):
    decoder, loglikes = toy_system
    scales = [1.0 / w for w in WEIGHTS]
    changed = 0
    for utt, ll in loglikes.items():
        swept = decoder.decode(utt, ll, scales)
        separate = [decoder.kaldi_decode(utt, ll, s)[0] for s in scales]
        assert swept == separate, utt
        assert [decoder.decode(utt, ll, [s])[0] for s in scales] == separate, utt
        changed += len({tuple(h) for h in swept}) > 1
    assert changed >= len(loglikes) // 2, "the LM weight should change hypotheses in this test"


def test_one_weight_alignment_is_kaldis(toy_system):
    """The one-best transition-ids equal Kaldi's alignment frame by frame."""
    decoder, loglikes = toy_system
    for utt, ll in loglikes.items():
        words, alignment = decoder.kaldi_decode(utt, ll, 0.1)
        (path,) = decoder.search.best_paths(ll, 0.1, [0.1], allow_partial=True)
        assert list(path.tids) == alignment, utt
        assert decoder._words(path.words) == words, utt


def test_lattice_costs_match_the_path(toy_system):
    """A best path's acoustic cost is minus the sum of its own frames' log-likelihoods
    (unscaled), whatever scale it was read at; its cost at that scale is the lowest."""
    decoder, loglikes = toy_system
    for utt, ll in list(loglikes.items())[:4]:
        paths = decoder.search.best_paths(ll, 1 / 12, [0.1, 1 / 12, 0.05], allow_partial=True)
        for path in paths:
            assert len(path.tids) == len(ll)
            expected = -sum(ll[t, decoder.tid2pdf[tid]] for t, tid in enumerate(path.tids))
            assert path.acoustic_cost == pytest.approx(expected, rel=1e-4)
        for s, path in zip([0.1, 1 / 12, 0.05], paths):
            assert all(path.cost(s) <= other.cost(s) + 1e-3 for other in paths), (utt, s)


@pytest.mark.parametrize("allow_partial", [True, False])
def test_short_and_empty_utterances_as_kaldi(toy_system, allow_partial):
    """Too short to reach a final state: a partial path or a failure, as LatticeFasterDecoder."""
    import dataclasses

    from asrkt.decode.decoder import Decoder

    decoder, loglikes = toy_system
    decoder = Decoder(decoder.graph_dir, decoder.model,
                      dataclasses.replace(decoder.config, allow_partial=allow_partial))
    utt, ll = next(iter(loglikes.items()))
    assert decoder.decode(utt, ll[:0], [0.1, 0.2]) is None
    for frames in (1, 3):
        separate = [decoder.kaldi_decode(utt, ll[:frames], s)[0] for s in (0.1, 0.2)]
        swept = decoder.decode(utt, ll[:frames], [0.1, 0.2])
        assert swept == (None if separate[0] is None else separate)
    short = decoder.decode(utt, ll[:1], [0.1, 0.2])
    assert (short is None) == (not allow_partial)


def test_run_decode_sweep_writes_every_weight(toy_system, tmp_path):
    """The sweep's DECODE_DIR/scoring/<LMWT>.txt equal one-weight decodes of the same data."""
    from asrkt.decode.config import DecodeConfig
    from asrkt.decode.decoder import run_decode

    decoder, loglikes = toy_system
    utts = sorted(loglikes)

    def source(wanted):
        for u in wanted:
            yield u, loglikes[u]

    run_decode(decoder.graph_dir, decoder.model, utts, source, tmp_path / "sweep",
               DecodeConfig(min_lmwt=6, max_lmwt=9))
    for w in (6, 9):
        run_decode(decoder.graph_dir, decoder.model, utts, source, tmp_path / f"one{w}",
                   DecodeConfig(min_lmwt=w, max_lmwt=w))
        assert ((tmp_path / "sweep" / "scoring" / f"{w}.txt").read_text()
                == (tmp_path / f"one{w}" / "scoring" / f"{w}.txt").read_text())
    assert sorted(p.name for p in (tmp_path / "sweep" / "scoring").glob("*.txt")) == \
        ["6.txt", "7.txt", "8.txt", "9.txt"]


# --- a trigram LM graph ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def lm_system(tmp_path_factory):
    """300 random words over the toy phones, a Kneser-Ney trigram, HCLG of ~85k states; the
    toy test utterances' log-likelihoods, flattened so that many words compete."""
    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import DecodeConfig, Decoder, gmm_source
    from asrkt.hmm.model import GmmModel
    from tests.helpers.lm_graph import make_lm_system

    paths = make_lm_system(tmp_path_factory.mktemp("lm_graph"))
    model = GmmModel.load(paths["exp"])
    source = gmm_source(model, paths["test"], paths["exp"] / "feature_pipeline.yaml")
    loglikes = {u: (0.3 * ll).astype(np.float32)
                for u, ll in source(DataDir(paths["test"]).utterances)}
    return Decoder(paths["graph"], model, DecodeConfig()), loglikes


def test_lm_graph_sweep_equals_kaldi_per_weight_searches(lm_system):
    decoder, loglikes = lm_system
    scales = [1.0 / w for w in range(7, 18)]
    for utt, ll in loglikes.items():
        assert decoder.decode(utt, ll, scales) == \
            [decoder.kaldi_decode(utt, ll, s)[0] for s in scales], utt


def test_max_active_bounds_the_search(lm_system):
    """Tokens expanded per frame stay at max-active (Kaldi's cutoff keeps the token at the
    max-active-th position and every token that ties with it), and lattice pruning every 25
    frames recycles most tokens and links: the pools' peaks are a fraction of what the search
    created (what an unpruned lattice would hold), and per frame they stay bounded as the
    utterance doubles."""
    from asrkt.decode.lattice import LatticeSearch, load_graph

    decoder, loglikes = lm_system
    graph = load_graph(decoder.graph_dir / "HCLG.fst")
    long = np.concatenate(list(loglikes.values()))  # one long utterance
    for max_active in (50, 400):
        search = LatticeSearch(graph, decoder.tid2pdf, beam=40.0, max_active=max_active,
                               min_active=20, lattice_beam=6.0)
        peaks = []
        for ll in (long, np.concatenate([long, long])):
            assert search.best_paths(ll, 0.1, [0.1, 0.05], allow_partial=True) is not None
            stats = search.stats()
            assert max_active // 2 < stats["max_expanded_per_frame"] <= 1.1 * max_active + 2, \
                stats
            peaks.append(stats)
        for name in ("token", "link"):
            assert peaks[1][f"{name}_pool"] < 0.25 * peaks[1][f"{name}s_created"], peaks
            assert peaks[1][f"{name}_pool"] < 2.2 * peaks[0][f"{name}_pool"], peaks


def test_min_active_keeps_states_beyond_the_beam(lm_system):
    """A beam of 0.5 alone keeps a handful of tokens; min-active keeps at least that many."""
    from asrkt.decode.lattice import LatticeSearch, load_graph

    decoder, loglikes = lm_system
    graph = load_graph(decoder.graph_dir / "HCLG.fst")
    ll = next(iter(loglikes.values()))
    search = LatticeSearch(graph, decoder.tid2pdf, beam=0.5, max_active=7000, min_active=300,
                           lattice_beam=6.0)
    search.best_paths(ll, 0.1, [0.1], allow_partial=True)
    assert search.stats()["max_expanded_per_frame"] >= 300


def test_interrupt_stops_a_search_and_the_search_is_reusable(lm_system):
    from asrkt.decode.lattice import LatticeSearch, load_graph

    decoder, loglikes = lm_system
    graph = load_graph(decoder.graph_dir / "HCLG.fst")
    search = LatticeSearch(graph, decoder.tid2pdf, 13.0, 7000, 200, 6.0)
    ll = np.concatenate(list(loglikes.values()))
    calls = []

    class Stop(Exception):
        pass

    def interrupt():
        calls.append(1)
        if len(calls) == 3:
            raise Stop()

    with pytest.raises(Stop):
        search.best_paths(ll, 0.1, [0.1], allow_partial=True, interrupt=interrupt)
    calls.clear()
    first = next(iter(loglikes.values()))
    assert search.best_paths(first, 0.1, [0.1], True, lambda: calls.append(1)) is not None
    assert len(calls) == (len(first) + 15) // 16


def test_graph_files_vector_const_and_bad(lm_system, tmp_path):
    """A const FST reads as the vector one; truncated or foreign files are one-line errors."""
    from asrkt.decode.lattice import load_graph
    from asrkt.errors import AsrktError
    from asrkt.hmm.kaldi import kaldifst

    decoder, _ = lm_system
    path = decoder.graph_dir / "HCLG.fst"
    vector = load_graph(path)
    const = kaldifst.StdConstFst(kaldifst.StdVectorFst.read(str(path)))
    const.write(str(tmp_path / "const.fst"))
    other = load_graph(tmp_path / "const.fst")
    assert (other.num_states, other.num_arcs, other.start, other.max_ilabel) == \
        (vector.num_states, vector.num_arcs, vector.start, vector.max_ilabel)
    data = path.read_bytes()
    (tmp_path / "cut.fst").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.fst").write_text("0 1 2 3\n")
    for name, message in (("cut.fst", "truncated"), ("text.fst", "not an OpenFst"),
                          ("missing.fst", "does not exist")):
        with pytest.raises(AsrktError, match=message):
            load_graph(tmp_path / name)


def _epsilon_into_a_pruned_token(path) -> None:
    """Start 0; frame 1 reaches state 1 (B, final cost 100) by the first arc and state 2 (A,
    final 0) by the second, and A has an epsilon arc into B: B's token is created first, so A's
    comes first in the frame's list, and final pruning looks at A's link into B before B's
    extra cost becomes infinite (beyond the lattice beam)."""
    from asrkt.hmm.kaldi import kaldifst

    fst = kaldifst.StdVectorFst()
    for _ in range(3):
        fst.add_state()
    fst.start = 0
    fst.add_arc(0, kaldifst.StdArc(1, 1, 0.0, 1))
    fst.add_arc(0, kaldifst.StdArc(2, 2, 0.0, 2))
    fst.add_arc(2, kaldifst.StdArc(0, 0, 0.0, 1))
    fst.set_final(1, 100.0)
    fst.set_final(2, 0.0)
    fst.write(str(path))


def test_final_pruning_deletes_the_links_into_the_tokens_it_deletes(tmp_path):
    """Regression: a token's extra cost going to infinity in the final pruning counted as no
    change (a relative tolerance scaled by |inf|), so the pass stopped while an epsilon link
    still entered the deleted token; the best paths then indexed their cost arrays by -1
    (heap corruption, `munmap_chunk(): invalid pointer` on speechocean762's sample). Now the
    link is pruned, and such a link would be an error, never an out-of-bounds access."""
    from asrkt.decode.lattice import LatticeSearch, load_graph

    _epsilon_into_a_pruned_token(tmp_path / "g.fst")
    graph = load_graph(tmp_path / "g.fst")
    search = LatticeSearch(graph, np.array([0, 0, 1]), beam=50.0, max_active=100, min_active=1,
                           lattice_beam=2.0)
    loglikes = np.array([[0.0, -1.0]], dtype=np.float32)     # B's arc cheaper than A's
    paths = search.best_paths(loglikes, 1.0, [1.0, 0.5], allow_partial=False)
    assert [p.words for p in paths] == [(2,), (2,)]          # A: its final cost is 0
    assert search.stats()["lattice_tokens"] == 2               # start and A; B pruned
