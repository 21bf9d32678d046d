"""Mini-batch loaders over an in-memory :class:`~asrkt.nnet.corpus.Corpus`.

- :class:`FrameShuffleLoader`: frame-level shuffled minibatches (nnet1's nnet-train-frmshuff) for
  frame models (DNN, RBM).
- :class:`ChunkedSequenceLoader`: truncated BPTT over fixed-length chunks with many streams per
  minibatch (nnet1's multistream training). Each stream plays a sequence of utterances chunk by
  chunk; the recurrent state is carried between consecutive chunks of a stream and reset when a
  new utterance starts. For models with ``resets_within_chunk`` (the LSTMP) a stream's utterances
  run back to back and ``Batch.reset`` is a [streams, chunk] mask marking each utterance's first
  frame (padding only where a stream has run out of utterances); otherwise every utterance starts
  a chunk and its last chunk is padded (masked). Every frame is used exactly once per epoch and
  memory does not grow with utterance length. With ``chunk_len=None`` (for bidirectional models)
  each batch holds whole utterances of similar length.
- :class:`BlockLoader`: one of the above per block of a
  :class:`~asrkt.nnet.corpus.BlockReader` (streaming training data; one kept block in memory).

Inputs are built by one gather per batch (:func:`gather_inputs`; FrameShuffleLoader gathers
blocks of consecutive batches, the next block in a background thread on CPU): splicing and
target delay are frame offsets clamped to the utterance, as splice-feats replicates edge frames.
Shuffling uses a generator seeded by (seed, epoch), so an epoch's order does not depend on
earlier epochs (resume gives the same batches).
"""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch

from asrkt.nnet.corpus import BLOCK_KEY, Corpus


@dataclass
class Batch:
    """One minibatch.

    inputs: [B, D'] (frames) or [S, C, D'] (streams x chunk). targets: per valid frame, [M] /
    [M, P]. mask: [S, C] valid positions (None: all valid); positions: their flat indices in
    [S * C] (selecting outputs without a device sync). reset: [S] streams starting a new
    utterance at the chunk's first position, or [S, C] positions where a new utterance starts
    (packed chunks). lengths: [S] valid lengths (whole-utterance batches). num_frames: M.
    capacity: the frames a full minibatch of its loader holds (``batch_size``; streams x chunk),
    0 where batches have no fixed size (whole utterances); the trainer weights an update by
    ``num_frames / capacity``, so a batch with few valid frames (the last streams of an epoch
    playing out alone) moves the model as little as those frames should.
    """

    inputs: torch.Tensor
    targets: Dict[str, torch.Tensor]
    mask: Optional[torch.Tensor] = None
    positions: Optional[torch.Tensor] = None
    reset: Optional[torch.Tensor] = None
    lengths: Optional[torch.Tensor] = None
    num_frames: int = 0
    capacity: int = 0


def gather_inputs(corpus: Corpus, index: torch.Tensor,
                  offsets: Union[Sequence[int], torch.Tensor]) -> torch.Tensor:
    """Spliced inputs for frames ``index`` (any shape): [..., len(offsets) * D].

    Args:
        corpus: the features.
        index: global frame indices (long, on the corpus device).
        offsets: frame offsets to stack, clamped to each frame's utterance (a list, or a long
            tensor on the corpus device, e.g. from :func:`offsets_tensor`, built once).
    """
    if not isinstance(offsets, torch.Tensor):
        if list(offsets) == [0]:
            return corpus.feats.index_select(0, index.reshape(-1)).view(*index.shape, corpus.dim)
        offsets = offsets_tensor(offsets, index.device)
    elif offsets.numel() == 1 and int(offsets[0]) == 0:
        return corpus.feats.index_select(0, index.reshape(-1)).view(*index.shape, corpus.dim)
    flat = index.reshape(-1)
    pos = torch.clamp(flat.unsqueeze(-1) + offsets,
                      corpus.frame_lo.index_select(0, flat).unsqueeze(-1),
                      corpus.frame_hi.index_select(0, flat).unsqueeze(-1))
    rows = corpus.feats.index_select(0, pos.view(-1))
    return rows.view(*index.shape, offsets.numel() * corpus.dim)


def host_to_device(array: np.ndarray, device) -> torch.Tensor:
    """``array`` as a tensor on ``device``: on CUDA copied from pinned memory without blocking
    (a copy from pageable memory would wait for the GPU every batch), on CPU shared as is.

    Args:
        array: host data.
        device: torch device.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if torch.device(device).type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def offsets_tensor(offsets: Sequence[int], device=None) -> torch.Tensor:
    """Frame offsets as the long tensor :func:`gather_inputs` adds to frame indices.

    Args:
        offsets: frame offsets.
        device: torch device (default CPU).
    """
    return torch.as_tensor(list(offsets), dtype=torch.long, device=device)


# FrameShuffleLoader gathers this many frames (whole batches) at a time: fewer, larger gathers,
# and in a background thread the next block is ready long before it is needed
BLOCK_FRAMES = 4096


def epoch_generator(seed: int, epoch: int, *extra: int, block: int = 0) -> np.random.Generator:
    """The shuffling generator of one epoch (and of one block of it: block 0, the only block
    of an in-memory corpus, uses the epoch's own generator).

    Args:
        seed: the run's seed.
        epoch: the epoch.
        extra: further entropy words (one generator per purpose).
        block: the block of :class:`asrkt.nnet.corpus.BlockReader`.
    """

    tail = [BLOCK_KEY, block] if block else []
    return np.random.default_rng([seed, epoch, *extra, *tail])


class FrameShuffleLoader:
    """Frame minibatches, shuffled per epoch (or in order when ``shuffle`` is False).

    Consecutive batches are gathered together in blocks of about ``BLOCK_FRAMES`` frames; on
    CPU the next block is gathered in a background thread while the caller trains on this one
    (the gathers release the GIL). The permutation is drawn in the caller's thread and the
    background thread draws no random numbers, so the batches and their order are the same
    with or without prefetching (and on resume).

    Args:
        corpus: features and targets.
        offsets: input frame offsets (the model's splicing).
        batch_size: frames per minibatch.
        shuffle: shuffle frames each epoch.
        seed: shuffling seed.
        prefetch: build the next batch in a background thread (CPU corpora only).
        block: which block of an epoch ``corpus`` is (seeds its shuffling).
    """

    def __init__(self, corpus: Corpus, offsets: Sequence[int], batch_size: int = 256,
                 shuffle: bool = True, seed: int = 777, prefetch: bool = True, block: int = 0):
        self.corpus, self.offsets = corpus, list(offsets)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.prefetch, self.block = prefetch, block
        self._offsets: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return -(-self.corpus.num_frames // self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        n = self.corpus.num_frames
        if not self.shuffle:
            return torch.arange(n)
        return torch.from_numpy(epoch_generator(self.seed, epoch, block=self.block).permutation(n))

    def _offsets_on(self, device) -> Optional[torch.Tensor]:
        """The offsets tensor (built once per loader and device; None for no splicing)."""
        if self.offsets == [0]:
            return None
        if self._offsets is None or self._offsets.device != device:
            self._offsets = offsets_tensor(self.offsets, device)
        return self._offsets

    def _block(self, order: torch.Tensor, start: int, stop: int,
               offsets: Optional[torch.Tensor]) -> List[Batch]:
        """The minibatches of frames ``order[start:stop]`` (consecutive batches), gathered
        together: one gather per block instead of per batch, the same values.

        Args:
            order: the epoch's frame order.
            start: first position in ``order`` (a multiple of ``batch_size``).
            stop: end position.
            offsets: from :meth:`_offsets_on`.
        """
        idx = order[start:stop]
        inputs = gather_inputs(self.corpus, idx, [0] if offsets is None else offsets)
        targets = {k: v.index_select(0, idx) for k, v in self.corpus.targets.items()}
        sizes = [min(self.batch_size, stop - s) for s in range(start, stop, self.batch_size)]
        split = {k: v.split(sizes) for k, v in targets.items()}
        return [Batch(inputs=x, targets={k: v[b] for k, v in split.items()}, num_frames=size,
                      capacity=self.batch_size)
                for b, (x, size) in enumerate(zip(inputs.split(sizes), sizes))]

    def batches(self, epoch: int) -> Iterator[Batch]:
        """Yield the minibatches of ``epoch``."""
        device = self.corpus.feats.device
        order = self.order(epoch).to(device)  # drawn in the caller's thread
        offsets = self._offsets_on(device)
        total = order.numel()
        step = self.batch_size * max(1, BLOCK_FRAMES // self.batch_size)
        blocks = [(s, min(s + step, total)) for s in range(0, total, step)]
        if not self.prefetch or device.type != "cpu" or len(blocks) < 2:
            for start, stop in blocks:
                yield from self._block(order, start, stop, offsets)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="asrkt-loader") as pool:
            pending = pool.submit(self._block, order, *blocks[0], offsets)
            for following in blocks[1:] + [None]:
                block = pending.result()
                if following is not None:
                    pending = pool.submit(self._block, order, *following, offsets)
                yield from block


class ChunkedSequenceLoader:
    """Multistream truncated-BPTT chunks (or whole-utterance batches when ``chunk_len`` is None).

    Args:
        corpus: features and targets.
        offsets: input frame offsets (splicing and target delay).
        num_streams: streams (sequences) per minibatch.
        chunk_len: frames per chunk; None = whole utterances (bidirectional models).
        shuffle: shuffle utterances each epoch.
        seed: shuffling seed.
        block: which block of an epoch ``corpus`` is (seeds its shuffling).
        pack: play each stream's utterances back to back (a new utterance may start at any
            position of a chunk; ``Batch.reset`` is then [S, C]); for models with
            ``resets_within_chunk``.
    """

    def __init__(self, corpus: Corpus, offsets: Sequence[int], num_streams: int = 64,
                 chunk_len: Optional[int] = 20, shuffle: bool = True, seed: int = 777,
                 block: int = 0, pack: bool = False):
        self.corpus, self.offsets = corpus, list(offsets)
        self.num_streams, self.chunk_len = num_streams, chunk_len
        self.shuffle, self.seed, self.block = shuffle, seed, block
        self.pack = pack
        self._offsets: Optional[torch.Tensor] = None

    def utterance_order(self, epoch: int) -> np.ndarray:
        count = len(self.corpus.lengths)
        if not self.shuffle:
            return np.arange(count)
        return epoch_generator(self.seed, epoch, block=self.block).permutation(count)

    def schedule(self, epoch: int) -> List[np.ndarray]:
        """Frame indices of each batch, [S, C] with -1 for padding (chunked) or [S', L]."""
        if self.chunk_len is None:
            return self._utterance_batches(epoch)
        return list(self._chunk_schedule(epoch)[0])

    def _chunk_schedule(self, epoch: int):
        """(index [num_batches, S, C], reset [num_batches, S]): streams balanced greedily.
        Packed (``pack``): reset is [num_batches, S, C], see :meth:`_packed_schedule`."""
        if self.pack:
            return self._packed_schedule(epoch)
        c, lengths, starts = self.chunk_len, self.corpus.lengths, self.corpus.starts
        chunks = -(-lengths // c)
        streams = min(self.num_streams, len(lengths))
        heap = [(0, s) for s in range(streams)]
        plan: List[List[int]] = [[] for _ in range(streams)]
        for u in self.utterance_order(epoch):
            load, s = heapq.heappop(heap)
            plan[s].append(int(u))
            heapq.heappush(heap, (load + int(chunks[u]), s))
        num_batches = max(load for load, _ in heap)
        index = np.full((streams, num_batches * c), -1, dtype=np.int64)
        reset = np.zeros((streams, num_batches), dtype=bool)
        for s, utts in enumerate(plan):
            pos = 0
            for u in utts:
                first = pos * c
                index[s, first:first + lengths[u]] = np.arange(starts[u], starts[u] + lengths[u])
                reset[s, pos] = True
                pos += int(chunks[u])
        return index.reshape(streams, num_batches, c).transpose(1, 0, 2), reset.T

    def _packed_schedule(self, epoch: int):
        """(index [num_batches, S, C], reset [num_batches, S, C]): each stream plays its
        utterances back to back, reset True at each one's first frame. Utterances go in the
        epoch's order to the stream with the fewest frames so far; the last ``2 S`` of them
        longest first, so the streams end close together and padding is mostly the rest of the
        last chunk."""
        c, lengths, starts = self.chunk_len, self.corpus.lengths, self.corpus.starts
        order = [int(u) for u in self.utterance_order(epoch)]
        streams = min(self.num_streams, len(lengths))
        cut = max(len(order) - 2 * streams, 0)
        tail = sorted(order[cut:], key=lambda u: -int(lengths[u]))  # stable: ties keep order
        heap = [(0, s) for s in range(streams)]
        plan: List[List[int]] = [[] for _ in range(streams)]
        for u in order[:cut] + tail:
            load, s = heapq.heappop(heap)
            plan[s].append(u)
            heapq.heappush(heap, (load + int(lengths[u]), s))
        num_batches = -(-max(load for load, _ in heap) // c)
        index = np.full((streams, num_batches * c), -1, dtype=np.int64)
        reset = np.zeros((streams, num_batches * c), dtype=bool)
        for s, utts in enumerate(plan):
            pos = 0
            for u in utts:
                index[s, pos:pos + lengths[u]] = np.arange(starts[u], starts[u] + lengths[u])
                reset[s, pos] = True
                pos += int(lengths[u])
        return (index.reshape(streams, num_batches, c).transpose(1, 0, 2),
                reset.reshape(streams, num_batches, c).transpose(1, 0, 2))

    def _utterance_batches(self, epoch: int) -> List[np.ndarray]:
        order = self.utterance_order(epoch)
        lengths, starts = self.corpus.lengths, self.corpus.starts
        by_length = order[np.argsort(lengths[order], kind="stable")]
        groups = [by_length[i:i + self.num_streams]
                  for i in range(0, len(by_length), self.num_streams)]
        if self.shuffle:
            shuffled = epoch_generator(self.seed, epoch, 1, block=self.block).permutation(
                len(groups))
            groups = [groups[i] for i in shuffled]
        out = []
        for group in groups:
            index = np.full((len(group), int(lengths[group].max())), -1, dtype=np.int64)
            for row, u in enumerate(group):
                index[row, :lengths[u]] = np.arange(starts[u], starts[u] + lengths[u])
            out.append(index)
        return out

    def __len__(self) -> int:
        return len(self.schedule(0))

    def batches(self, epoch: int) -> Iterator[Batch]:
        """Yield the minibatches of ``epoch`` in stream order (state carries between them)."""
        device = self.corpus.feats.device
        if self.offsets == [0]:
            offsets = [0]
        else:
            if self._offsets is None or self._offsets.device != device:
                self._offsets = offsets_tensor(self.offsets, device)
            offsets = self._offsets
        if self.chunk_len is None:  # independent batches: no state is carried (reset None)
            plan = [(idx, None) for idx in self._utterance_batches(epoch)]
        else:
            index, reset = self._chunk_schedule(epoch)
            plan = zip(index, (np.ascontiguousarray(r) for r in reset), strict=True)
        for idx_np, reset_np in plan:
            mask_np = idx_np >= 0
            positions = np.flatnonzero(mask_np)
            idx = host_to_device(np.maximum(idx_np, 0), device)
            valid = host_to_device(idx_np.reshape(-1)[positions], device)
            lengths = torch.from_numpy(mask_np.sum(axis=1)) if self.chunk_len is None else None
            yield Batch(inputs=gather_inputs(self.corpus, idx, offsets),
                        targets={k: v.index_select(0, valid)
                                 for k, v in self.corpus.targets.items()},
                        mask=host_to_device(mask_np, device),
                        positions=host_to_device(positions, device),
                        reset=None if reset_np is None else host_to_device(reset_np, device),
                        lengths=lengths, num_frames=int(positions.size),
                        capacity=0 if self.chunk_len is None else int(idx_np.size))


def make_loader(corpus: Corpus, model, batch_size: int, num_streams: int,
                chunk_len: int, shuffle: bool, seed: int, block: int = 0):
    """The loader a model trains with: frame shuffling for frame models, chunked BPTT for
    unidirectional recurrent models (utterances back to back for models with
    ``resets_within_chunk``), whole utterances for bidirectional ones.

    Args:
        corpus: features and targets (one block).
        model: the acoustic model (its splicing, recurrence, direction).
        batch_size: frames per minibatch (frame models).
        num_streams: streams per minibatch (recurrent models).
        chunk_len: BPTT chunk length.
        shuffle: shuffle each epoch.
        seed: shuffling seed.
        block: which block of the epoch ``corpus`` is.
    """
    offsets = model.input_offsets()
    if not model.recurrent:
        return FrameShuffleLoader(corpus, offsets, batch_size, shuffle, seed, block=block)
    return ChunkedSequenceLoader(corpus, offsets, num_streams,
                                 None if model.bidirectional else chunk_len, shuffle, seed,
                                 block=block, pack=getattr(model, "resets_within_chunk", False))


class BlockLoader:
    """Minibatches over the blocks of a :class:`asrkt.nnet.corpus.BlockReader`: each block gets
    the loader :func:`make_loader` builds for it (frames shuffled inside the block for frame
    models, as nnet-train-frmshuff's --randomizer-size; streams built inside the block for
    recurrent ones). A new block restarts every stream, so its first batch carries no state.
    With one kept block (the in-memory path) the batches are those of that block's loader.

    Args:
        reader: the block reader.
        model: the acoustic model.
        device: where the blocks go.
        batch_size / num_streams / chunk_len / shuffle / seed: as :func:`make_loader`.
    """

    def __init__(self, reader, model, device, batch_size: int, num_streams: int,
                 chunk_len: int, shuffle: bool, seed: int):
        self.reader, self.model, self.device = reader, model, device
        self.settings = dict(batch_size=batch_size, num_streams=num_streams,
                             chunk_len=chunk_len, shuffle=shuffle, seed=seed)
        self._kept = None  # the in-memory path's loader

    def _loader(self, corpus: Corpus, block: int):
        if self.reader.in_memory:
            if self._kept is None or self._kept.corpus is not corpus:
                self._kept = make_loader(corpus.to(self.device), self.model, **self.settings)
            return self._kept
        return make_loader(corpus.to(self.device), self.model, block=block, **self.settings)

    def __len__(self) -> int:
        """Batches per epoch (exact in memory; an estimate from the frame count otherwise)."""
        if self.reader.in_memory:
            return len(self._loader(next(self.reader.blocks(0)), 0))
        frames = self.reader.num_frames
        if not self.model.recurrent:
            return -(-frames // self.settings["batch_size"])
        streams = self.settings["num_streams"]
        if self.model.bidirectional:
            return -(-len(self.reader.utts) // streams)
        return -(-frames // (streams * self.settings["chunk_len"]))

    def num_batches(self, epoch: int) -> int:
        """Batches of ``epoch``: exact in memory, the estimate of ``len`` when streaming
        (what data-parallel ranks agree on; :meth:`asrkt.nnet.trainer.Trainer.agreed_steps`)."""
        if not self.reader.in_memory:
            return len(self)
        loader = self._loader(next(self.reader.blocks(epoch)), 0)
        return len(loader.schedule(epoch)) if hasattr(loader, "schedule") else len(loader)

    def batches(self, epoch: int) -> Iterator[Batch]:
        """Yield the minibatches of ``epoch``, block after block."""
        for block, corpus in enumerate(self.reader.blocks(epoch)):
            for number, batch in enumerate(self._loader(corpus, block).batches(epoch)):
                if block and not number:
                    batch.reset = None  # every stream starts an utterance: no state carried
                yield batch
