"""Sigmoid MLP (Kaldi nnet1's DNN): spliced frames -> sigmoid hidden layers -> pdf logits.

Can be initialised from a stack of RBMs (``asrkt pretrain-rbm``) plus a random output layer.
"""

from __future__ import annotations

import math
from typing import List

import torch
from torch import nn

from asrkt.errors import AsrktError
from asrkt.nnet.models import register
from asrkt.nnet.models.base import AcousticModel, ModelSpec


@register("dnn")
class SigmoidDNN(AcousticModel):
    """``num_layers`` sigmoid layers of ``hidden_dim`` units and a linear output layer; with
    ``spec.dropout`` > 0, dropout after each hidden layer while training (Hinton et al. 2012)."""

    recurrent = False

    def __init__(self, spec: ModelSpec, input_dim: int, num_pdfs: int,
                 bidirectional: bool = False):
        super().__init__(spec, input_dim, num_pdfs, bidirectional)
        dims = [self.spliced_dim] + [spec.hidden_dim] * spec.num_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.output = nn.Linear(dims[-1], num_pdfs)

    def forward(self, inputs, state=None, reset=None, lengths=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x).sigmoid_()  # in place: one activation buffer per layer, not two
            if self.spec.dropout > 0:
                x = nn.functional.dropout(x, self.spec.dropout, self.training)
        return self.output(x), None

    def init_like_nnet1(self, output_only: bool = False) -> None:
        """Draw the weights as Kaldi nnet1's make_nnet_proto.py prototype does (from torch's
        global generator): each layer's weights N(0, s) with s = 0.1 x 35 x sqrt(2 / (fan-in +
        fan-out)) (nnet1's --param-stddev-factor 0.1 on its Glorot scale), the first layer's s
        divided by sqrt(12) (its input is globally normalised), hidden biases U(-4, 0) (mean -2,
        range 4), output biases 0.

        Args:
            output_only: only the output layer (on top of a DBN, as nnet1's train.sh does).
        """
        layers = list(self.hidden) + [self.output]
        with torch.no_grad():
            for k, layer in enumerate(layers):
                if output_only and layer is not self.output:
                    continue
                fan_out, fan_in = layer.weight.shape
                std = 3.5 * math.sqrt(2.0 / (fan_in + fan_out))
                if k == 0 and len(layers) > 1:
                    std /= math.sqrt(12.0)
                layer.weight.normal_(0.0, std)
                if layer is self.output:
                    layer.bias.zero_()
                else:
                    layer.bias.uniform_(-4.0, 0.0)

    def init_from_dbn(self, layers: List[dict], source: str) -> None:
        """Copy RBM weights (``{'weight': [hid, vis], 'hid_bias': [hid]}``) into the hidden layers.

        Args:
            layers: RBMs from the bottom up (as saved by ``asrkt pretrain-rbm``).
            source: the DBN file, for error messages.
        """
        if len(layers) != len(self.hidden):
            raise AsrktError(f"{source}: DBN has {len(layers)} layers, the DNN {len(self.hidden)}")
        for k, (rbm, layer) in enumerate(zip(layers, self.hidden)):
            weight = torch.as_tensor(rbm["weight"])
            if tuple(weight.shape) != tuple(layer.weight.shape):
                raise AsrktError(f"{source}: RBM {k + 1} is {tuple(weight.shape)} (hid x vis), "
                                 f"the DNN layer needs {tuple(layer.weight.shape)}")
            with torch.no_grad():
                layer.weight.copy_(weight)
                layer.bias.copy_(torch.as_tensor(rbm["hid_bias"]))
