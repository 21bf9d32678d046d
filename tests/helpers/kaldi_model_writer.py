"""Kaldi's binary GMM model file (``gmm-copy --binary=true``), written from a parsed model file:
for tests only (asrkt writes its models as Kaldi text, which Kaldi reads). The interop tests
check this writer against Kaldi's own gmm-copy where the reference build exists."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

from asrkt.hmm import kaldi_binary as kb
from asrkt.hmm.kaldi_model import ModelFile

PathLike = Union[str, Path]


def float_vector(values) -> bytes:
    """A binary Vector<float> (``FV``)."""
    values = np.ascontiguousarray(values, dtype="<f4")
    return kb.token("FV") + kb.int32(len(values)) + values.tobytes()


def float_matrix(matrix) -> bytes:
    """A binary Matrix<float> (``FM``)."""
    matrix = np.ascontiguousarray(matrix, dtype="<f4")
    return kb.token("FM") + kb.int32(matrix.shape[0]) + kb.int32(matrix.shape[1]) + matrix.tobytes()


def model_bytes(model: ModelFile) -> bytes:
    """The binary model file's bytes (with the ``\\0B`` header)."""
    is_hmm = all(s.forward_pdf_class == s.self_loop_pdf_class
                 for e in model.entries for s in e.states)
    phones = sorted(p for e in model.entries for p in e.phones)
    phone2idx = [-1] * (max(phones) + 1)
    for index, entry in enumerate(model.entries):
        for phone in entry.phones:
            phone2idx[phone] = index
    out = [b"\x00B", kb.token("<TransitionModel>"), kb.token("<Topology>"), kb.int_vector(phones),
           kb.int_vector(phone2idx)]
    if not is_hmm:
        out.append(kb.int32(-1))
    out.append(kb.int32(len(model.entries)))
    for entry in model.entries:
        out.append(kb.int32(len(entry.states)))
        for state in entry.states:
            out.append(kb.int32(state.forward_pdf_class))
            if not is_hmm:
                out.append(kb.int32(state.self_loop_pdf_class))
            out.append(kb.int32(len(state.transitions)))
            for dst, prob in state.transitions:
                out += [kb.int32(dst), kb.float32(prob)]
    out.append(kb.token("</Topology>"))
    kind = "Triples" if is_hmm else "Tuples"
    out += [kb.token(f"<{kind}>"), kb.int32(len(model.tuples))]
    for phone, hmm_state, forward, self_loop in model.tuples:
        out += [kb.int32(phone), kb.int32(hmm_state), kb.int32(forward)]
        if not is_hmm:
            out.append(kb.int32(self_loop))
    out += [kb.token(f"</{kind}>"), kb.token("<LogProbs>"), float_vector(model.log_probs),
            kb.token("</LogProbs>"), kb.token("</TransitionModel>")]
    dim = model.means_invvars[0].shape[1]
    out += [kb.token("<DIMENSION>"), kb.int32(dim), kb.token("<NUMPDFS>"),
            kb.int32(len(model.weights))]
    for weights, means_invvars, inv_vars in zip(model.weights, model.means_invvars,
                                                 model.inv_vars):
        means = means_invvars / inv_vars
        gconsts = (np.log(weights) - 0.5 * (dim * np.log(2 * np.pi) - np.sum(np.log(inv_vars), 1)
                                            + np.sum(means * means * inv_vars, 1)))
        out += [kb.token("<DiagGMM>"), kb.token("<GCONSTS>"), float_vector(gconsts),
                kb.token("<WEIGHTS>"), float_vector(weights), kb.token("<MEANS_INVVARS>"),
                float_matrix(means_invvars), kb.token("<INV_VARS>"), float_matrix(inv_vars),
                kb.token("</DiagGMM>")]
    return b"".join(out)


def write_binary_model(model: ModelFile, path: PathLike) -> None:
    """Write ``model`` as Kaldi's binary GMM model file."""
    Path(path).write_bytes(model_bytes(model))
