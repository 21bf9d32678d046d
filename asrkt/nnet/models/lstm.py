"""LSTM students: LSTMP (projection, as Kaldi nnet1 / Sak et al. 2014) via torch.nn.LSTM's
``proj_size``; ``blstm`` is the bidirectional variant."""

import warnings

from torch import nn

from asrkt.nnet.models import register
from asrkt.nnet.models.base import RecurrentModel

# CPU: oneDNN has no LSTMP kernel; PyTorch falls back to its native one (said once per call).
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")


@register("lstm")
@register("blstm", bidirectional=True)
class LSTMP(RecurrentModel):
    supports_projection = True

    def make_rnn(self, **kwargs) -> nn.Module:
        return nn.LSTM(**kwargs)
