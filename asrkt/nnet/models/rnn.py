"""Vanilla (tanh) RNN students (``rnn``, bidirectional ``brnn``)."""

from torch import nn

from asrkt.nnet.models import register
from asrkt.nnet.models.base import RecurrentModel


@register("rnn")
@register("brnn", bidirectional=True)
class ElmanRNN(RecurrentModel):
    def make_rnn(self, **kwargs) -> nn.Module:
        return nn.RNN(nonlinearity="tanh", **kwargs)
