"""GRU students (``gru``, bidirectional ``bgru``)."""

from torch import nn

from asrkt.nnet.models import register
from asrkt.nnet.models.base import RecurrentModel


@register("gru")
@register("bgru", bidirectional=True)
class GRUModel(RecurrentModel):
    def make_rnn(self, **kwargs) -> nn.Module:
        return nn.GRU(**kwargs)
