"""Kaldi's GMM acoustic model file (``final.mdl``: TransitionModel then AmDiagGmm, binary or
text) and the feature pipeline of a Kaldi model directory.

- :func:`read_model_file`: the topology, the transition states (``<Triples>`` or the newer
  ``<Tuples>``), the transition log-probabilities and every pdf's diagonal GMM (weights,
  ``MEANS_INVVARS``, ``INV_VARS``) as Kaldi's TransitionModel::Read and AmDiagGmm::Read read
  them (src/hmm/transition-model.cc, hmm-topology.cc, src/gmm/am-diag-gmm.cc, diag-gmm.cc).
  Binary files start with ``\\0B``; anything else is read as text. Kaldi's BaseFloat is float, so
  every real is rounded to float32 as Kaldi rounds it, whichever form it was stored in.
- :func:`kaldi_pipeline`: the features steps/decode.sh and align_si.sh give a model dir
  (``cmvn_opts`` for apply-cmvn, then ``delta_opts`` for add-deltas, or ``splice_opts`` and
  ``final.mat`` for an LDA+MLLT dir) as a :class:`FeaturePipeline`; :func:`model_pipeline`:
  a model dir's ``feature_pipeline.yaml``, else that of a Kaldi dir.
- :func:`check_model_lang`: the model's topology has the lang dir's phones, and a phones.txt
  in the model dir is the lang dir's (utils/lang/check_phones_compatible.sh).

Model and tree are checked against each other where :meth:`GmmModel.from_kaldi` builds the
model from them (asrkt/hmm/model.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig, read_matrix
from asrkt.hmm import kaldi_binary as kb

PathLike = Union[str, Path]


@dataclass(frozen=True)
class HmmState:
    """One state of a topology entry: pdf-classes (-1: none) and (destination, probability)."""

    forward_pdf_class: int
    self_loop_pdf_class: int
    transitions: Tuple[Tuple[int, float], ...]


@dataclass(frozen=True)
class TopologyEntry:
    """The HMM shared by a set of phones."""

    phones: Tuple[int, ...]
    states: Tuple[HmmState, ...]


@dataclass
class ModelFile:
    """The contents of a Kaldi GMM model file.

    Attributes:
        entries: the topology.
        tuples: (phone, hmm-state, forward pdf, self-loop pdf) of each transition state.
        log_probs: transition log-probabilities by transition-id (index 0 unused), float32 values.
        weights / means_invvars / inv_vars: per pdf, float32 values in float64 arrays.
    """

    entries: List[TopologyEntry]
    tuples: List[Tuple[int, int, int, int]]
    log_probs: np.ndarray
    weights: List[np.ndarray]
    means_invvars: List[np.ndarray]
    inv_vars: List[np.ndarray]

    def topology_text(self) -> str:
        """The topology in Kaldi's text form (as HmmTopology::Write, text)."""
        is_hmm = all(s.forward_pdf_class == s.self_loop_pdf_class
                     for e in self.entries for s in e.states)
        out = ["<Topology>\n"]
        for entry in self.entries:
            out.append("<TopologyEntry>\n<ForPhones>\n"
                       + "".join(f"{p} " for p in sorted(entry.phones)) + "\n</ForPhones>\n")
            for j, state in enumerate(entry.states):
                out.append(f"<State> {j} ")
                if state.forward_pdf_class != -1:
                    if is_hmm:
                        out.append(f"<PdfClass> {state.forward_pdf_class} ")
                    else:
                        out.append(f"<ForwardPdfClass> {state.forward_pdf_class} "
                                   f"<SelfLoopPdfClass> {state.self_loop_pdf_class} ")
                for dst, prob in state.transitions:
                    out.append(f"<Transition> {dst} {prob!r} ")
                out.append("</State>\n")
            out.append("</TopologyEntry>\n")
        out.append("</Topology>\n")
        return "".join(out)


class _ModelReader(kb.KaldiReader):
    """KaldiReader with Kaldi's float vectors and the reals rounded to float32."""

    def real32(self) -> float:
        return float(np.float32(self.real()))

    def vector(self) -> np.ndarray:
        """A Vector<float|double> (binary ``FV``/``DV``, text ``[ ... ]``) as float32 values."""
        if not self.binary:
            first = self.token()
            if first == "[]":
                return np.zeros(0)
            if first != "[":
                raise self.fail(f"expected '[', found '{first[:20]}'")
            values = []
            while True:
                text = self.token()
                if text == "]":
                    break
                closing = text.endswith("]")
                try:
                    values.append(float(text[:-1] if closing else text))
                except ValueError:
                    raise self.fail(f"expected a number, found '{text[:20]}'") from None
                if closing:
                    break
            return np.array(values, dtype=np.float32).astype(np.float64)
        kind = self.token()
        if kind not in ("FV", "DV"):
            raise self.fail(f"expected a vector, found '{kind[:20]}'")
        count = self.integer()
        size = 4 if kind == "FV" else 8
        if count < 0 or self.pos + size * count > len(self.data):
            raise self.fail("truncated vector")
        values = np.frombuffer(self.data, dtype="<f4" if size == 4 else "<f8", count=count,
                               offset=self.pos)
        self.pos += size * count
        return values.astype(np.float32).astype(np.float64)

    def matrix32(self, rows: int) -> np.ndarray:
        """A Matrix with ``rows`` rows, as float32 values."""
        matrix = self.matrix(rows)
        if matrix.shape[0] != rows:
            raise self.fail(f"matrix of {matrix.shape[0]} rows where {rows} were expected")
        return matrix.astype(np.float32).astype(np.float64)

    # ---- topology -----------------------------------------------------------------------
    def topology(self) -> List[TopologyEntry]:
        self.expect("<Topology>")
        entries = self._binary_topology() if self.binary else self._text_topology()
        seen = [p for e in entries for p in e.phones]
        if len(seen) != len(set(seen)) or any(p <= 0 for p in seen):
            raise self.fail("a phone in several topology entries, or a phone id <= 0")
        return entries

    def _text_topology(self) -> List[TopologyEntry]:
        entries = []
        while True:
            token = self.token()
            if token == "</Topology>":
                return entries
            if token != "<TopologyEntry>":
                raise self.fail(f"expected <TopologyEntry> or </Topology>, found '{token[:20]}'")
            self.expect("<ForPhones>")
            phones = []
            while True:
                token = self.token()
                if token == "</ForPhones>":
                    break
                if not re.fullmatch(r"\d+", token):
                    raise self.fail(f"expected a phone id, found '{token[:20]}'")
                phones.append(int(token))
            states = []
            token = self.token()
            while token != "</TopologyEntry>":
                if token != "<State>":
                    raise self.fail(f"expected <State> or </TopologyEntry>, found '{token[:20]}'")
                if self.integer() != len(states):
                    raise self.fail("topology states out of order")
                forward = self_loop = -1
                token = self.token()
                if token == "<PdfClass>":
                    forward = self_loop = self.integer()
                    token = self.token()
                elif token == "<ForwardPdfClass>":
                    forward = self.integer()
                    self.expect("<SelfLoopPdfClass>")
                    self_loop = self.integer()
                    token = self.token()
                transitions = []
                while token == "<Transition>":
                    transitions.append((self.integer(), self.real32()))
                    token = self.token()
                if token != "</State>":
                    raise self.fail(f"expected </State>, found '{token[:20]}'")
                states.append(HmmState(forward, self_loop, tuple(transitions)))
                token = self.token()
            entries.append(TopologyEntry(tuple(phones), tuple(states)))

    def _binary_topology(self) -> List[TopologyEntry]:
        phones = self.int_vector()
        phone2idx = self.int_vector()
        size = self.integer()
        is_hmm = size != -1
        if not is_hmm:
            size = self.integer()
        if not 0 < size <= len(self.data):
            raise self.fail(f"{size} topology entries")
        entries = []
        for index in range(size):
            num_states = self.integer()
            if not 0 < num_states <= len(self.data):
                raise self.fail(f"topology entry of {num_states} states")
            states = []
            for _ in range(num_states):
                forward = self.integer()
                self_loop = forward if is_hmm else self.integer()
                num_trans = self.integer()
                if not 0 <= num_trans <= len(self.data):
                    raise self.fail(f"state with {num_trans} transitions")
                transitions = tuple((self.integer(), self.real32()) for _ in range(num_trans))
                states.append(HmmState(forward, self_loop, transitions))
            entries.append(TopologyEntry(
                tuple(p for p, i in enumerate(phone2idx) if i == index), tuple(states)))
        self.expect("</Topology>")
        listed = sorted(p for p, i in enumerate(phone2idx) if i != -1)
        if list(phones) != listed or any(not -1 <= i < size for i in phone2idx):
            raise self.fail("the topology's phone list and phone-to-entry map disagree")
        return entries

    # ---- transition model and GMMs --------------------------------------------------------
    def transition_model(self) -> Tuple[List[TopologyEntry], List[Tuple[int, int, int, int]],
                                        np.ndarray]:
        self.expect("<TransitionModel>")
        entries = self.topology()
        kind = self.token()
        if kind not in ("<Triples>", "<Tuples>"):
            raise self.fail(f"expected <Triples> or <Tuples>, found '{kind[:20]}'")
        count = self.integer()
        if not 0 <= count <= len(self.data):
            raise self.fail(f"{count} transition states")
        tuples = []
        for _ in range(count):
            phone, hmm_state, forward = self.integer(), self.integer(), self.integer()
            tuples.append((phone, hmm_state, forward,
                           self.integer() if kind == "<Tuples>" else forward))
        self.expect(kind.replace("<", "</"))
        self.expect("<LogProbs>")
        log_probs = self.vector()
        self.expect("</LogProbs>")
        self.expect("</TransitionModel>")
        return entries, tuples, log_probs

    def diag_gmm(self, dim: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        token = self.token()
        if token not in ("<DiagGMM>", "<DiagGMMBegin>"):
            raise self.fail(f"expected <DiagGMM>, found '{token[:20]}'")
        token = self.token()
        if token == "<GCONSTS>":  # optional; recomputed as Kaldi does
            self.vector()
            token = self.token()
        if token != "<WEIGHTS>":
            raise self.fail(f"expected <WEIGHTS>, found '{token[:20]}'")
        weights = self.vector()
        if not len(weights):
            raise self.fail("a GMM without Gaussians")
        self.expect("<MEANS_INVVARS>")
        means_invvars = self.matrix32(len(weights))
        self.expect("<INV_VARS>")
        inv_vars = self.matrix32(len(weights))
        token = self.token()
        if token not in ("</DiagGMM>", "<DiagGMMEnd>"):
            raise self.fail(f"expected </DiagGMM>, found '{token[:20]}'")
        if means_invvars.shape[1] != dim or inv_vars.shape[1] != dim:
            raise self.fail(f"a GMM of dimension {means_invvars.shape[1]} in a model of "
                            f"dimension {dim}")
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(means_invvars))
                and np.all(np.isfinite(inv_vars)) and np.all(inv_vars > 0)):
            raise self.fail("a GMM with non-finite values or non-positive inverse variances")
        return weights, means_invvars, inv_vars


def read_model_file(path: PathLike) -> ModelFile:
    """Read a Kaldi GMM model file (TransitionModel + AmDiagGmm), binary or text.

    Args:
        path: e.g. ``exp/tri1/final.mdl``.

    Raises:
        AsrktError: one line naming the file when it is missing, truncated or not such a model.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: model file does not exist")
    data, binary = kb.split_header(path.read_bytes())
    reader = _ModelReader(data, binary, str(path), "GMM model file (TransitionModel + AmDiagGmm)")
    entries, tuples, log_probs = reader.transition_model()
    reader.expect("<DIMENSION>")
    dim = reader.integer()
    reader.expect("<NUMPDFS>")
    num_pdfs = reader.integer()
    if dim <= 0 or not 0 < num_pdfs <= len(data):
        raise reader.fail(f"dimension {dim}, {num_pdfs} pdfs")
    gmms = [reader.diag_gmm(dim) for _ in range(num_pdfs)]
    if not reader.at_end():
        raise reader.fail("unexpected data after the last GMM")
    return ModelFile(entries, tuples, log_probs, [g[0] for g in gmms], [g[1] for g in gmms],
                     [g[2] for g in gmms])


# ---- the feature pipeline of a Kaldi model dir -------------------------------------------------
def _options(path: Path, known: Tuple[str, ...]) -> dict:
    """``--name=value`` options of a Kaldi option file (``cmvn_opts`` etc.); absent: {}."""
    if not path.is_file():
        return {}
    values = {}
    for word in path.read_text(encoding="utf-8", errors="replace").split():
        name, eq, value = word.partition("=")
        name = name.lstrip("-").replace("_", "-")
        if not word.startswith("--") or name not in known:
            raise AsrktError(f"{path}: option '{word}' is not one asrkt applies (it knows "
                             f"{', '.join('--' + k for k in known)})")
        values[name] = value if eq else "true"
    return values


def _boolean(path: Path, name: str, value: str) -> bool:
    if value.lower() in ("true", "t", "1"):
        return True
    if value.lower() in ("false", "f", "0"):
        return False
    raise AsrktError(f"{path}: --{name}={value} is not true or false")


def _integer(path: Path, name: str, value: str, low: int) -> int:
    if not re.fullmatch(r"\d+", value) or int(value) < low:
        raise AsrktError(f"{path}: --{name}={value} is not an integer >= {low}")
    return int(value)


def kaldi_pipeline(model_dir: PathLike, model_dim: int) -> FeaturePipeline:
    """The feature pipeline steps/decode.sh and align_si.sh use for a Kaldi model dir.

    ``apply-cmvn $(cat cmvn_opts) --utt2spk`` (per-speaker stats from the data dir's cmvn.scp),
    then, without ``final.mat``, ``add-deltas $(cat delta_opts)`` (order 2, window 2 unless the
    file says otherwise), or with ``final.mat`` ``splice-feats $(cat splice_opts)`` (4 frames
    each side unless the file says otherwise) and ``transform-feats final.mat``. Absent option
    files mean the Kaldi programs' defaults, as in the scripts.

    Args:
        model_dir: a Kaldi model dir (final.mdl, tree, the option files).
        model_dim: the model's feature dimension (the raw dimension is this over order + 1).

    Raises:
        AsrktError: an option file asrkt cannot apply, or a model dimension (a transform)
            that does not fit.
    """
    model_dir = Path(model_dir)
    path = model_dir / "cmvn_opts"
    cmvn = _options(path, ("norm-means", "norm-vars"))
    norm_means = _boolean(path, "norm-means", cmvn.get("norm-means", "true"))
    norm_vars = _boolean(path, "norm-vars", cmvn.get("norm-vars", "false"))
    if norm_vars and not norm_means:
        raise AsrktError(f"{path}: --norm-vars=true needs --norm-means=true (as apply-cmvn)")
    cmvn_mode = "speaker" if norm_means else "none"
    if (model_dir / "final.mat").is_file():
        return _lda_pipeline(model_dir, model_dim, cmvn_mode, norm_vars)
    path = model_dir / "delta_opts"
    deltas = _options(path, ("delta-order", "delta-window"))
    order = _integer(path, "delta-order", deltas.get("delta-order", "2"), 0)
    window = _integer(path, "delta-window", deltas.get("delta-window", "2"), 1)
    if model_dim % (order + 1):
        raise AsrktError(f"{model_dir / 'final.mdl'}: the model's dimension {model_dim} is not "
                         f"{order + 1} x a feature dimension (add-deltas --delta-order={order}); "
                         f"write a feature_pipeline.yaml beside it to say how its features are "
                         f"made")
    config = PipelineConfig(cmvn=cmvn_mode, norm_vars=norm_vars, delta_order=order,
                            delta_window=window)
    return FeaturePipeline(config, input_dim=model_dim // (order + 1))


def _lda_pipeline(model_dir: Path, model_dim: int, cmvn_mode: str,
                  norm_vars: bool) -> FeaturePipeline:
    """splice-feats $(cat splice_opts) | transform-feats final.mat (steps/decode.sh, lda)."""
    path = model_dir / "splice_opts"
    splice = _options(path, ("left-context", "right-context"))
    left = _integer(path, "left-context", splice.get("left-context", "4"), 0)
    right = _integer(path, "right-context", splice.get("right-context", "4"), 0)
    if left != right:
        raise AsrktError(f"{path}: --left-context={left} and --right-context={right} differ "
                         f"(asrkt splices the same number of frames on each side)")
    matrix = read_matrix(model_dir / "final.mat", "the LDA+MLLT transform of a Kaldi model dir")
    width = 2 * left + 1
    cols = matrix.shape[1] if matrix.shape[1] % width == 0 else matrix.shape[1] - 1  # offset?
    if matrix.shape[0] != model_dim or cols % width or not cols:
        raise AsrktError(f"{model_dir / 'final.mat'}: a {matrix.shape[0]} x {matrix.shape[1]} "
                         f"transform does not take {width} spliced frames to the model's "
                         f"dimension {model_dim}")
    config = PipelineConfig(cmvn=cmvn_mode, norm_vars=norm_vars, delta_order=0, splice=left,
                            transform="final.mat")
    return FeaturePipeline(config, input_dim=cols // width, matrix=matrix)


def check_phones_compatible(lang_phones: PathLike, model_phones: PathLike) -> None:
    """utils/lang/check_phones_compatible.sh: the two phones.txt equal but for disambiguation
    symbols (lines starting with '#'); nothing to check when the model dir has none.

    Args:
        lang_phones: the lang dir's phones.txt.
        model_phones: the model dir's copy (Kaldi's steps scripts leave one).
    """
    lang_phones, model_phones = Path(lang_phones), Path(model_phones)
    if not model_phones.is_file() or not lang_phones.is_file():
        return

    def table(path: Path) -> List[List[str]]:
        return [line.split() for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]

    if table(lang_phones) != table(model_phones):
        raise AsrktError(f"{model_phones}: the model's phone symbol table is not compatible with "
                         f"{lang_phones} (as utils/lang/check_phones_compatible.sh)")


def model_pipeline(model_dir: PathLike, model) -> FeaturePipeline:
    """The feature pipeline of a GMM model dir: its feature_pipeline.yaml, or for a Kaldi model
    dir without one (final.mdl, no final.npz) the features steps/decode.sh would give it
    (:func:`kaldi_pipeline`).

    Args:
        model_dir: the model dir (or an ALI_DIR, which carries copies of the files).
        model: the :class:`GmmModel` loaded from it (its dimension checks a Kaldi dir's files).
    """
    model_dir = Path(model_dir)
    path = model_dir / "feature_pipeline.yaml"
    if path.is_file():
        return FeaturePipeline.load(path)
    if (model_dir / "final.mdl").is_file() and not (model_dir / "final.npz").is_file():
        return kaldi_pipeline(model_dir, model.dim)
    raise AsrktError(f"{path}: missing (the model dir should come from 'asrkt train-mono' or "
                     f"another asrkt trainer, or be a Kaldi model dir: final.mdl and tree)")


def check_model_lang(model, lang, model_dir: Optional[PathLike] = None) -> None:
    """The model's topology has the lang dir's phones, and a phones.txt in the model dir (Kaldi's
    steps scripts leave one) is the lang dir's (utils/lang/check_phones_compatible.sh).

    Args:
        model: the :class:`GmmModel`.
        lang: the :class:`Lang`.
        model_dir: the model dir, for its phones.txt (None: no such check).
    """
    lang_phones = set(lang.phones.values()) - {0} - set(lang.disambig_phones)
    if set(model.topo.phones) != lang_phones:
        raise AsrktError(f"{lang.path}: the phones of this lang dir do not match the model's "
                         f"topology (was the model trained with another lang dir?)")
    if model_dir is not None:
        check_phones_compatible(lang.path / "phones.txt", Path(model_dir) / "phones.txt")
