"""Loaders: every frame exactly once per epoch; chunks of a stream follow their utterance;
splicing replicates edge frames as splice-feats."""

import numpy as np
import pytest
import torch

from asrkt.nnet.corpus import _assemble
from asrkt.nnet.loaders import ChunkedSequenceLoader, FrameShuffleLoader, gather_inputs


def _corpus(lengths=(1, 7, 20, 21, 40, 3, 59, 13), dim=3):
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, dim)).astype(np.float32) for n in lengths]
    pdfs = [np.arange(n) % 4 for n in lengths]
    return _assemble([f"u{i}" for i in range(len(lengths))], feats, {"pdf": pdfs})


@pytest.mark.parametrize("streams,chunk", [(3, 5), (4, 20), (16, 7), (1, 1)])
def test_chunked_loader_covers_every_frame_once(streams, chunk):
    corpus = _corpus()
    loader = ChunkedSequenceLoader(corpus, [0], num_streams=streams, chunk_len=chunk, seed=3)
    for epoch in (1, 2):
        seen = []
        for batch in loader.batches(epoch):
            assert batch.inputs.shape[1] == chunk
            seen.append(batch.targets["pdf"].numel())
            assert batch.num_frames == int(batch.mask.sum())
            assert batch.capacity == streams * chunk or streams > len(corpus.lengths)
        index, reset = loader._chunk_schedule(epoch)
        frames = index[index >= 0]
        assert sorted(frames.tolist()) == list(range(corpus.num_frames))
        assert sum(seen) == corpus.num_frames
        # a stream's frames run consecutively; a new utterance starts exactly at a reset
        for s in range(index.shape[1]):
            row = index[:, s, :].reshape(-1)
            starts = set(corpus.starts.tolist())
            for b in range(index.shape[0]):
                first = index[b, s, 0]
                assert reset[b, s] == (first >= 0 and first in starts)
            valid = row[row >= 0]
            jumps = np.nonzero(np.diff(valid) != 1)[0] + 1
            assert all(valid[j] in starts for j in jumps)


def test_chunked_loader_orders_differ_by_epoch_and_are_reproducible():
    corpus = _corpus()
    a = ChunkedSequenceLoader(corpus, [0], 3, 5, seed=1)._chunk_schedule(1)[0]
    b = ChunkedSequenceLoader(corpus, [0], 3, 5, seed=1)._chunk_schedule(1)[0]
    c = ChunkedSequenceLoader(corpus, [0], 3, 5, seed=1)._chunk_schedule(2)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_whole_utterance_batches_cover_every_frame_once():
    corpus = _corpus()
    loader = ChunkedSequenceLoader(corpus, [0], num_streams=3, chunk_len=None)
    frames = np.concatenate([i[i >= 0] for i in loader.schedule(1)])
    assert sorted(frames.tolist()) == list(range(corpus.num_frames))
    for batch in loader.batches(1):
        assert batch.lengths.tolist() == batch.mask.sum(1).tolist()
        assert batch.capacity == 0   # no fixed size: the trainer weighs them 1


def test_frame_shuffle_loader_covers_every_frame_once():
    corpus = _corpus()
    loader = FrameShuffleLoader(corpus, [-1, 0, 1], batch_size=16, seed=5)
    targets = torch.cat([b.targets["pdf"] for b in loader.batches(1)])
    assert {b.capacity for b in loader.batches(1)} == {16}
    assert targets.numel() == corpus.num_frames
    assert sorted(targets.tolist()) == sorted(corpus.targets["pdf"].tolist())
    order = loader.order(1)
    assert sorted(order.tolist()) == list(range(corpus.num_frames))


def test_gather_splices_with_edge_replication_like_splice_feats():
    from asrkt.feats.pipeline import splice_frames

    corpus = _corpus()
    u = 2
    start, length = int(corpus.starts[u]), int(corpus.lengths[u])
    utt = corpus.feats[start:start + length].numpy()
    idx = torch.arange(start, start + length)
    spliced = gather_inputs(corpus, idx, list(range(-3, 4))).numpy()
    assert np.array_equal(spliced, splice_frames(utt, 3))
    delayed = gather_inputs(corpus, idx, [2]).numpy()
    assert np.array_equal(delayed[:-2], utt[2:]) and np.array_equal(delayed[-1], utt[-1])


@pytest.mark.parametrize("block_frames", [16, 40, 4096])
def test_frame_shuffle_blocks_and_prefetch_give_the_batches_of_the_order(monkeypatch,
                                                                         block_frames):
    import asrkt.nnet.loaders as loaders

    monkeypatch.setattr(loaders, "BLOCK_FRAMES", block_frames)
    corpus = _corpus()
    for offsets in ([-2, -1, 0, 1, 2], [0]):
        plain = FrameShuffleLoader(corpus, offsets, batch_size=16, seed=5, prefetch=False)
        ahead = FrameShuffleLoader(corpus, offsets, batch_size=16, seed=5, prefetch=True)
        for epoch in (1, 2):
            order = plain.order(epoch)
            for loader in (plain, ahead):
                batches = list(loader.batches(epoch))
                assert len(batches) == len(loader)
                for k, batch in enumerate(batches):  # batch k is frames order[16k:16k+16]
                    idx = order[16 * k:16 * k + 16]
                    assert batch.num_frames == idx.numel()
                    assert torch.equal(batch.inputs, gather_inputs(corpus, idx, offsets))
                    assert torch.equal(batch.targets["pdf"], corpus.targets["pdf"][idx])
            if epoch == 1:
                built = ahead._offsets
        assert ahead._offsets is built  # built once per loader, not per batch or epoch
    # a consumer that stops early (the generator is closed with a block in flight)
    batches = FrameShuffleLoader(corpus, [-1, 0, 1], batch_size=16, seed=5).batches(1)
    assert next(batches).num_frames == 16
    batches.close()
