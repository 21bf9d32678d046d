"""A unidirectional LSTMP stack (LSTM with recurrent projection, Sak et al. 2014) whose only
loop over time is the recurrence itself, and a per-position reset mask.

torch.nn.LSTM with ``proj_size`` has no fused CPU kernel: it runs a per-time-step autograd graph
whose weight gradients are products over one time step's streams only. Here each layer

- projects the inputs of all time steps with one GEMM (autograd: its weight and input gradients
  are one GEMM each over all positions);
- runs the recurrence in :class:`_LSTMPRecurrence` (a torch.autograd.Function): per step one
  recurrent GEMM (W_hh) and one projection GEMM (W_hr) plus a few element-wise ops, saving the
  gate activations; the hand-written backward through time loops over the steps with the two
  input-gradient GEMMs only and then forms dW_hh and dW_hr as one GEMM each over all positions;
- zeroes the state entering position t of a stream where ``keep[t]`` is 0 (a new utterance starts
  there), so a stream can play utterances back to back inside a chunk.

The parameters have torch.nn.LSTM's names, shapes and gate order (i, f, g, o), so state dicts of
the nn.LSTM-based layer (``final.pt`` and checkpoints written before) load unchanged, and the
results equal nn.LSTM's on the same weights (tests/unit/test_nnet_lstmp.py).
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import nn


def _gate_order(cells: int, device) -> torch.Tensor:
    """Rows of torch's (i, f, g, o) gate layout in the order (i, f, o, g): the three sigmoid
    gates contiguous, then the tanh one."""
    i_f = torch.arange(0, 2 * cells, device=device)
    return torch.cat([i_f, torch.arange(3 * cells, 4 * cells, device=device),
                      torch.arange(2 * cells, 3 * cells, device=device)])


def _tanh(x: torch.Tensor, out: torch.Tensor, two: torch.Tensor,
          minus_one: torch.Tensor) -> torch.Tensor:
    """tanh(x) as 2 sigmoid(2x) - 1 (torch's CPU sigmoid is several times faster than its tanh;
    equal within float rounding). ``two``, ``minus_one``: 0-dim tensors (a Python number would
    cost a tensor conversion per call)."""
    torch.sigmoid(torch.mul(x, two), out=out)
    return torch.addcmul(minus_one, out, two, out=out)


class _LSTMPRecurrence(torch.autograd.Function):
    """The recurrence of one LSTMP layer over [T, B] positions (time-major), gates in the order
    (i, f, o, g), the g gate's pre-activations doubled (its tanh is computed from a sigmoid).

    forward(xw [T, B, 4H] input projections incl. biases, w_hh [4H, P], w_hr [P, H],
    h0 [B, P], c0 [B, H], keep [T, B, 1] (0: zero the state entering that position))
    -> (h [T, B, P], c_T [B, H]).
    """

    @staticmethod
    def forward(ctx, xw, w_hh, w_hr, h0, c0, keep):
        steps, batch, four_h = xw.shape
        cells, proj = four_h // 4, w_hr.shape[0]
        acts = torch.empty_like(xw)  # gate activations
        h_in = xw.new_empty(steps, batch, proj)  # masked state entering each step
        c_in = xw.new_empty(steps, batch, cells)
        cs = xw.new_empty(steps, batch, cells)
        tcs = xw.new_empty(steps, batch, cells)  # tanh(c)
        ms = xw.new_empty(steps, batch, cells)  # o * tanh(c), the projection's input
        hs = xw.new_empty(steps, batch, proj)
        w_hh_t, w_hr_t = w_hh.t(), w_hr.t()
        two, minus_one = xw.new_tensor(2.0), xw.new_tensor(-1.0)
        # per-step views, made once (the loop then dispatches only the arithmetic)
        gate = [acts[..., k * cells:(k + 1) * cells].unbind(0) for k in range(4)]  # i, f, o, g
        steps_of = [x.unbind(0) for x in (xw, acts, h_in, c_in, cs, tcs, ms, hs, keep)]
        h, c = h0, c0
        for t, (x_t, a, hi, ci, c_t, tc, m, h_t, k) in enumerate(zip(*steps_of, strict=True)):
            torch.mul(h, k, out=hi)
            torch.mul(c, k, out=ci)
            torch.sigmoid(torch.addmm(x_t, hi, w_hh_t), out=a)
            g = gate[3][t]  # tanh(z) = 2 sigmoid(2z) - 1; the inputs are 2z
            torch.addcmul(minus_one, g, two, out=g)
            torch.mul(gate[1][t], ci, out=c_t)
            c_t.addcmul_(gate[0][t], g)
            _tanh(c_t, tc, two, minus_one)
            torch.mul(gate[2][t], tc, out=m)
            torch.mm(m, w_hr_t, out=h_t)
            h, c = h_t, c_t
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(w_hh, w_hr, keep, *_backward_factors(acts, c_in, tcs, keep),
                                  h_in, ms)
        return hs, cs[-1].clone()

    @staticmethod
    def backward(ctx, grad_hs, grad_c):
        w_hh, w_hr, keep, factors, e_all, f_all, h_in, ms = ctx.saved_tensors
        steps, batch, proj = h_in.shape
        cells = ms.shape[2]
        if grad_hs is None:
            grad_hs = h_in.new_zeros(steps, batch, proj)
        d_gates = factors.new_empty(factors.shape)  # gradient at the gates' pre-activations
        d_h = h_in.new_empty(steps, batch, proj)  # total gradient at each step's output h
        dh_rec = h_in.new_zeros(batch, proj)
        dc_rec = grad_c if grad_c is not None else ms.new_zeros(batch, cells)
        per_step = [x.unbind(0) for x in (grad_hs, d_h, d_gates, factors, e_all, f_all, keep)]
        o_dg = d_gates[..., 2 * cells:3 * cells].unbind(0)
        o_factors = factors[..., 2 * cells:3 * cells].unbind(0)
        for t in range(steps - 1, -1, -1):
            grad_h, dh, dg, fac, e, f, k = (x[t] for x in per_step)
            torch.add(grad_h, dh_rec, out=dh)
            dm = torch.mm(dh, w_hr)
            dc = torch.addcmul(dc_rec, dm, e)
            torch.mul(fac.view(batch, 4, cells), dc.unsqueeze(1), out=dg.view(batch, 4, cells))
            torch.mul(dm, o_factors[t], out=o_dg[t])
            dh_rec = torch.mm(dg, w_hh).mul_(k)
            dc_rec = dc.mul_(f)
        flat_g = d_gates.view(steps * batch, -1)
        grad_w_hh = flat_g.t().mm(h_in.view(steps * batch, proj))
        grad_w_hr = d_h.view(steps * batch, proj).t().mm(ms.view(steps * batch, cells))
        return d_gates, grad_w_hh, grad_w_hr, dh_rec, dc_rec, None


def _backward_factors(acts, c_in, tcs, keep):
    """What backward multiplies by, computed for all positions at once after the forward loop.

    Returns (factors [T, B, 4H]: what dc (slots i, f, g) or dm (slot o) times gives the gate
    pre-activation gradient: g * i(1-i), c_in * f(1-f), tanh(c) * o(1-o), i * (1-g^2) / 2 (the g
    gate's pre-activations are doubled);
    e [T, B, H]: o * (1 - tanh(c)^2), dc from dm; f [T, B, H]: f * keep, dc to the previous step).
    """
    cells = tcs.shape[2]
    i, f = acts[..., :cells], acts[..., cells:2 * cells]
    o, g = acts[..., 2 * cells:3 * cells], acts[..., 3 * cells:]
    sig = acts[..., :3 * cells]
    factors = torch.empty_like(acts)
    torch.mul(sig, 1 - sig, out=factors[..., :3 * cells])
    factors[..., :cells].mul_(g)
    factors[..., cells:2 * cells].mul_(c_in)
    factors[..., 2 * cells:3 * cells].mul_(tcs)
    torch.mul(i, (1 - g * g) / 2, out=factors[..., 3 * cells:])
    e_all = o * (1 - tcs * tcs)
    return factors, e_all, f * keep


class LSTMPStack(nn.Module):
    """``num_layers`` unidirectional LSTMP layers with torch.nn.LSTM's parameters
    (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
    ``weight_hr_l{k}``) and initialisation, batch-first.

    Args:
        input_size: input features per position.
        hidden_size: cells per layer.
        num_layers: layers.
        proj_size: projection (output and recurrent state) size, 0 < proj_size < hidden_size.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, proj_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.proj_size = num_layers, proj_size
        for k in range(num_layers):
            dim_in = input_size if k == 0 else proj_size
            self.register_parameter(f"weight_ih_l{k}",
                                    nn.Parameter(torch.empty(4 * hidden_size, dim_in)))
            self.register_parameter(f"weight_hh_l{k}",
                                    nn.Parameter(torch.empty(4 * hidden_size, proj_size)))
            self.register_parameter(f"bias_ih_l{k}", nn.Parameter(torch.empty(4 * hidden_size)))
            self.register_parameter(f"bias_hh_l{k}", nn.Parameter(torch.empty(4 * hidden_size)))
            self.register_parameter(f"weight_hr_l{k}",
                                    nn.Parameter(torch.empty(proj_size, hidden_size)))
        bound = 1.0 / math.sqrt(hidden_size)  # as torch.nn.LSTM.reset_parameters
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, inputs: torch.Tensor,
                state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
                keep: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Tuple]:
        """Outputs [B, T, P] and the final state (h [L, B, P], c [L, B, H]).

        Args:
            inputs: [B, T, input_size].
            state: (h0, c0) as torch.nn.LSTM's (None: zeros).
            keep: [B, T] (bool or float): False/0 zeroes the state entering that position in
                every layer (a new utterance starts there); None keeps it everywhere.
        """
        batch, steps = inputs.shape[:2]
        cells, proj = self.hidden_size, self.proj_size
        if state is None:
            h0 = inputs.new_zeros(self.num_layers, batch, proj)
            c0 = inputs.new_zeros(self.num_layers, batch, cells)
        else:
            h0, c0 = state
        if keep is None:
            keep_t = inputs.new_ones(steps, batch, 1)
        else:
            keep_t = keep.t().to(inputs.dtype).unsqueeze(-1).contiguous()
        order = _gate_order(cells, inputs.device)
        scale = inputs.new_ones(4 * cells, 1)
        scale[3 * cells:] = 2  # the g gate's pre-activations doubled: see _LSTMPRecurrence
        x = inputs.transpose(0, 1).reshape(steps * batch, -1)
        hs_last, cs_last = [], []
        for k in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{k}").index_select(0, order) * scale
            w_hh = getattr(self, f"weight_hh_l{k}").index_select(0, order) * scale
            bias = (getattr(self, f"bias_ih_l{k}") + getattr(self, f"bias_hh_l{k}"))[order]
            bias = bias * scale[:, 0]
            xw = torch.addmm(bias, x, w_ih.t()).view(steps, batch, 4 * cells)
            # the recurrence runs in the parameters' dtype (its out= kernels are not autocast;
            # under bf16 autocast only the input projection above runs in bf16)
            dtype = w_hh.dtype
            with torch.autocast(device_type=inputs.device.type, enabled=False):
                hs, c_last = _LSTMPRecurrence.apply(
                    xw.to(dtype), w_hh, getattr(self, f"weight_hr_l{k}"), h0[k].to(dtype),
                    c0[k].to(dtype), keep_t.to(dtype))
            hs_last.append(hs[-1])
            cs_last.append(c_last)
            x = hs.view(steps * batch, proj)
        out = x.view(steps, batch, proj).transpose(0, 1)
        return out, (torch.stack(hs_last), torch.stack(cs_last))
