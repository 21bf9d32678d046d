"""Base class of acoustic models: maps feature frames to pdf logits.

Inputs are gathered by the loaders at the frame offsets :meth:`AcousticModel.input_offsets`
(splicing ±``splice`` frames, shifted by ``target_delay`` for unidirectional recurrent models,
edge frames replicated within the utterance), so splicing costs one tensor gather per batch.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import torch
from torch import nn

from asrkt.errors import AsrktError
from asrkt.nnet.config import ModelSpec  # noqa: F401 (defined with the configs it is part of)


class AcousticModel(nn.Module):
    """Frame-level (``recurrent = False``) or sequence (``recurrent = True``) acoustic model.

    Args:
        spec: the architecture.
        input_dim: per-frame feature dimension before splicing.
        num_pdfs: output dimension.
    """

    recurrent: bool = False

    def __init__(self, spec: ModelSpec, input_dim: int, num_pdfs: int,
                 bidirectional: bool = False):
        super().__init__()
        if input_dim < 1 or num_pdfs < 1 or spec.num_layers < 0 or spec.hidden_dim < 1:
            raise AsrktError(f"model '{spec.name}': invalid sizes (input {input_dim}, pdfs "
                             f"{num_pdfs}, layers {spec.num_layers}, hidden {spec.hidden_dim})")
        if spec.splice < 0 or spec.target_delay < 0:
            raise AsrktError(f"model '{spec.name}': splice and target_delay must be >= 0")
        if not 0 <= spec.dropout < 1:
            raise AsrktError(f"model '{spec.name}': dropout must be in [0, 1), got {spec.dropout}")
        self.spec = spec
        self.input_dim = input_dim
        self.num_pdfs = num_pdfs
        self.bidirectional = bidirectional

    def input_offsets(self) -> List[int]:
        """Frame offsets stacked at the input for output frame t."""
        delay = self.spec.target_delay if self.recurrent and not self.bidirectional else 0
        return list(range(delay - self.spec.splice, delay + self.spec.splice + 1))

    @property
    def spliced_dim(self) -> int:
        return self.input_dim * len(self.input_offsets())

    def flops_per_frame(self) -> int:
        """Forward FLOPs per frame of the matrix products (2 per weight-matrix entry: every
        weight of a linear or recurrent layer does one multiply-add per frame); a training
        step costs about 3x this. Element-wise ops are not counted."""
        return 2 * sum(p.numel() for p in self.parameters() if p.dim() == 2)

    def forward(self, inputs: torch.Tensor, state: Any = None,
                reset: Optional[torch.Tensor] = None,
                lengths: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Any]:
        """Logits for ``inputs`` [..., spliced_dim] (recurrent: [batch, time, spliced_dim]).

        Args:
            inputs: spliced input frames.
            state: recurrent state carried from the previous chunk (None = zeros).
            reset: [batch] bool, streams whose state restarts (new utterance) at the first
                position; or [batch, time], a new utterance at any position (models with
                ``resets_within_chunk``).
            lengths: [batch] valid lengths (bidirectional models pack the padded batch).

        Returns:
            (logits [..., num_pdfs], new state or None).
        """
        raise NotImplementedError


def _mask_state(state: Any, keep: torch.Tensor) -> Any:
    if isinstance(state, tuple):
        return tuple(_mask_state(s, keep) for s in state)
    return state * keep.to(state.dtype)[None, :, None]


def detach_state(state: Any) -> Any:
    """Cut the graph between chunks (truncated BPTT)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class RecurrentModel(AcousticModel):
    """torch.nn recurrent layers (cuDNN/fused kernels) followed by a linear output layer.

    Subclasses set :meth:`make_rnn`; ``proj_dim`` is honoured where the layer supports it.
    """

    recurrent = True
    supports_projection = False
    # whether ``reset`` may be [batch, time] (the loader then packs utterances back to back)
    resets_within_chunk = False

    def __init__(self, spec: ModelSpec, input_dim: int, num_pdfs: int,
                 bidirectional: bool = False):
        super().__init__(spec, input_dim, num_pdfs, bidirectional)
        if spec.num_layers < 1:
            raise AsrktError(f"model '{spec.name}': needs at least one recurrent layer")
        kwargs = dict(input_size=self.spliced_dim, hidden_size=spec.hidden_dim,
                      num_layers=spec.num_layers, batch_first=True, bidirectional=bidirectional)
        out = spec.hidden_dim
        if self.supports_projection and spec.proj_dim > 0:
            if spec.proj_dim >= spec.hidden_dim:
                raise AsrktError(f"model '{spec.name}': proj_dim must be < hidden_dim")
            kwargs["proj_size"] = spec.proj_dim
            out = spec.proj_dim
        self.rnn = self.make_rnn(**kwargs)
        self.output = nn.Linear(out * (2 if bidirectional else 1), num_pdfs)

    def make_rnn(self, **kwargs) -> nn.Module:
        raise NotImplementedError

    def forward(self, inputs, state=None, reset=None, lengths=None):
        if reset is not None and reset.dim() != 1:
            raise AsrktError(f"model '{self.spec.name}': reset must be [batch] (one flag per "
                             f"stream), got {tuple(reset.shape)}")
        if state is not None and reset is not None:
            state = _mask_state(state, ~reset)
        if lengths is not None and self.bidirectional:
            packed = nn.utils.rnn.pack_padded_sequence(
                inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
            hidden, state = self.rnn(packed, state)
            hidden, _ = nn.utils.rnn.pad_packed_sequence(
                hidden, batch_first=True, total_length=inputs.shape[1])
        else:
            hidden, state = self.rnn(inputs, state)
        return self.output(hidden), state
