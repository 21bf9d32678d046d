"""LSTM students: ``lstm`` (LSTMP when ``proj_dim`` > 0, as Kaldi nnet1 / Sak et al. 2014) and
the bidirectional ``blstm``.

The unidirectional LSTMP runs on :class:`asrkt.nnet.models.lstmp.LSTMPStack` (only the recurrence
loops over time; a per-position reset mask lets a stream start its next utterance inside a
chunk). It has torch.nn.LSTM's parameter names, so models saved with the earlier nn.LSTM-based
layer load unchanged. Without a projection (fused oneDNN kernel) and for ``blstm`` (packed
sequences), torch.nn.LSTM is used.
"""

import warnings

import torch
from torch import nn

from asrkt.errors import AsrktError
from asrkt.nnet.models import register
from asrkt.nnet.models.base import RecurrentModel
from asrkt.nnet.models.lstmp import LSTMPStack

# CPU: oneDNN has no LSTMP kernel; PyTorch falls back to its native one (said once per call).
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")


@register("lstm")
@register("blstm", bidirectional=True)
class LSTMP(RecurrentModel):
    supports_projection = True

    def make_rnn(self, **kwargs) -> nn.Module:
        if kwargs.get("proj_size", 0) > 0 and not kwargs["bidirectional"]:
            return LSTMPStack(kwargs["input_size"], kwargs["hidden_size"], kwargs["num_layers"],
                              kwargs["proj_size"])
        return nn.LSTM(**kwargs)

    @property
    def resets_within_chunk(self) -> bool:
        """Whether ``reset`` may be [batch, time] (a new utterance at any position)."""
        return isinstance(self.rnn, LSTMPStack)

    def forward(self, inputs, state=None, reset=None, lengths=None):
        if not self.resets_within_chunk:
            return super().forward(inputs, state, reset, lengths)
        keep = None
        if reset is not None:
            if reset.dim() == 1:  # [batch]: a new utterance at the chunk's first position
                keep = torch.ones(inputs.shape[:2], dtype=torch.bool, device=inputs.device)
                keep[:, 0] = ~reset
            elif tuple(reset.shape) == tuple(inputs.shape[:2]):
                keep = ~reset
            else:
                raise AsrktError(f"model '{self.spec.name}': reset mask {tuple(reset.shape)} "
                                 f"does not fit inputs {tuple(inputs.shape[:2])}")
        hidden, state = self.rnn(inputs, state, keep)
        return self.output(hidden), state
