"""One lattice search per utterance scores every LM weight: on the toy HMM, each weight's best
path from the raw lattice equals a separate LatticeFasterDecoder search at acoustic scale 1/LMWT,
and the envelope/bisection shortcut equals a shortest path at every weight."""

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
        swept = decoder.sweep(utt, ll, scales)
        separate = [decoder.decode(utt, ll, s)[0] for s in scales]
        assert swept == separate, utt
        changed += len({tuple(h) for h in swept}) > 1
    assert changed >= len(loglikes) // 2, "the LM weight should change hypotheses in this test"


def test_envelope_shortcut_equals_every_shortest_path(toy_system):
    from asrkt.decode.lattice import LatticeSearch, ScaledLattice, sweep_best_paths

    decoder, loglikes = toy_system
    search_scale = decoder.config.acoustic_scale
    search = LatticeSearch(decoder.fst, decoder.config.beam, decoder.config.lattice_beam)
    scales = [1.0 / w for w in WEIGHTS]
    total = 0
    for utt, ll in loglikes.items():
        mat = decoder.tid_matrix(utt, ll, search_scale)
        lattice = search.search(mat, allow_partial=True)
        every = ScaledLattice(lattice.copy(), search_scale)
        brute = [every.best_path(s) for s in scales]
        swept, count = sweep_best_paths(lattice, search_scale, scales)
        assert [p.words for p in swept] == [p.words for p in brute], utt
        # equally good paths (alignments may tie)
        for s, p, q in zip(scales, swept, brute, strict=True):
            assert p.cost(s) == pytest.approx(q.cost(s), rel=1e-5), (utt, s)
        total += count
    assert total < len(scales) * len(loglikes) / 2, total


def test_lattice_costs_match_the_path(toy_system):
    """A best path's graph and acoustic costs are those of its own transition-ids: the acoustic
    cost is minus the sum of its frames' log-likelihoods, unscaled."""
    from asrkt.decode.lattice import LatticeSearch, ScaledLattice

    decoder, loglikes = toy_system
    search_scale = decoder.config.acoustic_scale
    search = LatticeSearch(decoder.fst, decoder.config.beam, decoder.config.lattice_beam)
    for utt, ll in list(loglikes.items())[:4]:
        lattice = search.search(decoder.tid_matrix(utt, ll, search_scale), allow_partial=True)
        path = ScaledLattice(lattice, search_scale).best_path(0.1)
        assert len(path.tids) == len(ll)
        expected = -sum(ll[t, decoder.tid2pdf[tid]] for t, tid in enumerate(path.tids))
        assert path.acoustic_cost == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("allow_partial", [True, False])
def test_short_and_empty_utterances_as_separate_searches(toy_system, allow_partial):
    """Too short to reach a final state: a partial path or a failure, as LatticeFasterDecoder."""
    import dataclasses

    from asrkt.decode.decoder import Decoder

    decoder, loglikes = toy_system
    decoder = Decoder(decoder.graph_dir, decoder.model,
                      dataclasses.replace(decoder.config, allow_partial=allow_partial))
    utt, ll = next(iter(loglikes.items()))
    assert decoder.sweep(utt, ll[:0], [0.1, 0.2]) is None
    for frames in (1, 3):
        separate = [decoder.decode(utt, ll[:frames], s)[0] for s in (0.1, 0.2)]
        swept = decoder.sweep(utt, ll[:frames], [0.1, 0.2])
        assert swept == (None if separate[0] is None else separate)
    short = decoder.sweep(utt, ll[:1], [0.1, 0.2])
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
