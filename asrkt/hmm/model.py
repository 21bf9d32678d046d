"""The GMM-HMM: transition model, tree and diagonal GMMs, with numpy maths.

The tree is the monophone one of the topology (train-mono) or a decision tree
(:class:`asrkt.hmm.tree.Tree`, train-deltas: triphones). The Gaussian parameters live in numpy
(weights, means, variances per pdf), so likelihoods and statistics are computed vectorised over
frames; the Kaldi objects (TransitionModel, ContextDependency, AmDiagGmm) come from the wheels.
Files in a model dir:

- ``final.mdl``: Kaldi text format (``str(TransitionModel)`` + AmDiagGmm written here).
- ``tree``: the ContextDependency in Kaldi text format.
- ``final.npz``: the exact form asrkt reloads (topology, phone sets, the decision tree's
  Kaldi bytes when there is one, transition log-probs, float64 Gaussian parameters).

A dir without ``final.npz`` is read as Kaldi's: ``final.mdl`` (binary or text) and ``tree``
(:meth:`GmmModel.from_kaldi`, parsing in :mod:`asrkt.hmm.kaldi_model`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from asrkt.errors import AsrktError
from asrkt.hmm.kaldi import khg
from asrkt.hmm.kaldi_model import read_model_file
from asrkt.hmm.tree import Tree
from asrkt.hmm.tree_stats import transition_states
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]
LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass
class Gmm:
    """One pdf's diagonal GMM: weights [G], means [G, D], variances [G, D] (float64)."""

    weights: np.ndarray
    means: np.ndarray
    vars: np.ndarray


def build_tree(topo, phone_sets: Optional[List[List[int]]]):
    """Monophone ContextDependency (shared pdfs within each phone set, as --shared-phones).

    Args:
        topo: khg.HmmTopology.
        phone_sets: phone-id sets sharing pdfs (phones/sets.int) or None for one per phone.
    """
    num_classes = topo.get_phone_to_num_pdf_classes()
    if not phone_sets or all(len(s) == 1 for s in phone_sets):
        return khg.monophone_context_dependency(topo.phones, num_classes)
    return khg.monophone_context_dependency_shared(phone_sets, num_classes)


def restore_log_probs(tm, log_probs: np.ndarray) -> None:
    """Set a TransitionModel's transition probabilities (the binding has no setter).

    A maximum-likelihood update from counts proportional to the wanted probabilities gives
    those probabilities back (floor 0, no minimum count).

    Args:
        tm: khg.TransitionModel to modify.
        log_probs: log-probabilities indexed by transition-id (index 0 unused).
    """
    current = np.asarray(tm.log_probs)
    if current.shape != log_probs.shape:
        raise AsrktError(f"transition model has {len(current) - 1} transition-ids, the saved "
                         f"model {len(log_probs) - 1}")
    target = log_probs.astype(np.float64)
    config = khg.MleTransitionUpdateConfig(floor=0.0, mincount=0.0)
    wanted = target.copy()
    for _ in range(4):  # float32 rounding of the renormalised logs: nudge until bit-exact
        stats = np.exp(wanted) * 1.0e6
        stats[0] = 0.0
        tm.mle_update(stats, config)
        error = np.asarray(tm.log_probs, dtype=np.float64) - target
        if not np.any(error[1:]):
            return
        wanted = wanted - error


class GmmModel:
    """A GMM-HMM acoustic model on a monophone or a decision tree.

    Args:
        topo_text: Kaldi topology text (lang/topo).
        phone_sets: phone sets sharing pdfs, or None.
        gmms: one :class:`Gmm` per pdf (None: must be set before use).
        cd_tree: a decision tree (triphones); None: the monophone tree of ``phone_sets``.
    """

    def __init__(self, topo_text: str, phone_sets: Optional[List[List[int]]],
                 gmms: Optional[List[Gmm]] = None, cd_tree: Optional[Tree] = None):
        self.topo_text = topo_text
        self.phone_sets = phone_sets
        self.topo = khg.HmmTopology()
        self.topo.read(topo_text)
        self.cd_tree = cd_tree
        if cd_tree is None:
            self.tree = build_tree(self.topo, phone_sets)
        else:
            cd_tree.check(self.topo.get_phone_to_num_pdf_classes(), "decision tree")
            self.tree = cd_tree.context_dependency()
        self.tm = khg.TransitionModel(self.tree, self.topo)
        self.gmms: List[Gmm] = gmms or []
        self._cache = None

    # ---- shapes -------------------------------------------------------------------------
    @property
    def num_pdfs(self) -> int:
        return self.tm.num_pdfs

    @property
    def dim(self) -> int:
        return int(self.gmms[0].means.shape[1])

    @property
    def num_gauss(self) -> int:
        return int(sum(len(g.weights) for g in self.gmms))

    def tid2pdf(self) -> np.ndarray:
        """pdf-id of each transition-id (index 0 unused, set to 0)."""
        return np.asarray(self.tm.transition_id_to_pdf_array(), dtype=np.int64)

    def tid2phone(self) -> np.ndarray:
        """phone of each transition-id (index 0 set to 0)."""
        n = self.tm.num_transition_ids
        return np.array([0] + [self.tm.transition_id_to_phone(t) for t in range(1, n + 1)])

    def invalidate(self) -> None:
        """Forget cached likelihood constants (call after changing ``gmms``)."""
        self._cache = None

    # ---- likelihoods --------------------------------------------------------------------
    def _constants(self):
        if self._cache is None:
            inv = np.concatenate([1.0 / g.vars for g in self.gmms])
            means = np.concatenate([g.means for g in self.gmms])
            logw = np.concatenate([np.log(np.maximum(g.weights, 1e-300)) for g in self.gmms])
            gconst = logw - 0.5 * (self.dim * LOG_2PI + np.sum(np.log(1.0 / inv), axis=1)
                                   + np.sum(means * means * inv, axis=1))
            owner = np.concatenate([np.full(len(g.weights), p) for p, g in enumerate(self.gmms)])
            starts = np.concatenate([[0], np.cumsum([len(g.weights) for g in self.gmms])[:-1]])
            self._cache = (means * inv, -0.5 * inv, gconst, owner, starts)
        return self._cache

    def check_dim(self, feats: np.ndarray, utt: str) -> None:
        """One-line error when an utterance's features do not fit the model."""
        if feats.ndim != 2 or feats.shape[1] != self.dim:
            raise AsrktError(f"utterance '{utt}': features have dimension "
                             f"{feats.shape[1] if feats.ndim == 2 else feats.shape}, the model "
                             f"expects {self.dim} (same feature pipeline as in training?)")

    def gauss_loglikes(self, feats: np.ndarray) -> np.ndarray:
        """Per-Gaussian log-likelihoods (including log weights) [T, total Gaussians]."""
        mi, half_inv, gconst, _, _ = self._constants()
        x = feats.astype(np.float64)
        return gconst + x @ mi.T + (x * x) @ half_inv.T

    def pdf_loglikes(self, feats: np.ndarray, utt: str = "?") -> np.ndarray:
        """Per-pdf log-likelihoods [T, num_pdfs] (float32), log-sum-exp over each pdf's Gaussians.

        Args:
            feats: features [T, D].
            utt: utterance id for error messages.
        """
        self.check_dim(feats, utt)
        ll = self.gauss_loglikes(feats)
        _, _, _, owner, starts = self._constants()
        peak = np.maximum.reduceat(ll, starts, axis=1)
        summed = np.add.reduceat(np.exp(ll - peak[:, owner]), starts, axis=1)
        return (peak + np.log(summed)).astype(np.float32)

    # ---- Kaldi objects ------------------------------------------------------------------
    def to_am(self):
        """The Gaussians as a khg.AmDiagGmm (float32, gconsts computed)."""
        am = khg.AmDiagGmm()
        for g in self.gmms:
            gmm = khg.DiagGmm(len(g.weights), g.means.shape[1])
            gmm.set_weights(g.weights.astype(np.float32))
            gmm.set_invvars_and_means((1.0 / g.vars).astype(np.float32), g.means.astype(np.float32))
            gmm.compute_gconsts()
            am.add_pdf(gmm)
        return am

    def set_from_am(self, am) -> None:
        """Replace the Gaussians by those of a khg.AmDiagGmm (e.g. after splitting)."""
        gmms = []
        for p in range(am.num_pdfs):
            gmm = am.get_pdf(p)
            gmms.append(Gmm(np.array(gmm.weights, dtype=np.float64).reshape(-1),
                            np.array(gmm.means, dtype=np.float64),
                            np.array(gmm.vars, dtype=np.float64)))
        self.gmms = gmms
        self.invalidate()

    # ---- files --------------------------------------------------------------------------
    def save(self, model_dir: PathLike, name: str = "final", kaldi: bool = True) -> None:
        """Write ``<name>.npz`` (exact) and, with ``kaldi``, ``<name>.mdl`` (Kaldi text) and
        ``tree``.

        Args:
            model_dir: output directory (created).
            name: file stem, e.g. 'final' or '12'.
            kaldi: also the Kaldi files (False: the .npz alone, e.g. a training checkpoint).
        """
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        arrays = {"topo": np.array(self.topo_text),
                  "phone_sets": np.array("\n".join(" ".join(map(str, s))
                                                   for s in self.phone_sets or [])),
                  "log_probs": np.asarray(self.tm.log_probs, dtype=np.float64),
                  "tree": np.frombuffer(b"" if self.cd_tree is None else self.cd_tree.to_bytes(),
                                        dtype=np.uint8),
                  "num_gauss": np.array([len(g.weights) for g in self.gmms])}
        arrays["weights"] = np.concatenate([g.weights for g in self.gmms])
        arrays["means"] = np.concatenate([g.means for g in self.gmms])
        arrays["vars"] = np.concatenate([g.vars for g in self.gmms])
        with atomic_output(model_dir / f"{name}.npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        if not kaldi:
            return
        with atomic_output(model_dir / f"{name}.mdl") as tmp:
            tmp.write_text(self.kaldi_text())
        with atomic_output(model_dir / "tree") as tmp:
            self.tree.write(False, str(tmp))

    @classmethod
    def load(cls, path: PathLike) -> GmmModel:
        """Reload a model saved by :meth:`save` (a model dir, or a .npz/.mdl path), or read
        Kaldi's model file and tree where there is no .npz (:meth:`from_kaldi`).

        Args:
            path: model dir (uses final.npz, else final.mdl + tree) or a file; for X.mdl the
                sibling X.npz is read when it exists.
        """
        path = Path(path)
        mdl = None
        if path.is_dir():
            path, mdl = path / "final.npz", path / "final.mdl"
        elif path.suffix == ".mdl":
            path, mdl = path.with_suffix(".npz"), path
        if not path.is_file() and mdl is not None and mdl.is_file():
            return cls.from_kaldi(mdl, mdl.parent / "tree")
        if not path.is_file():
            raise AsrktError(f"{path}: model file does not exist (train with 'asrkt train-mono' "
                             f"or 'asrkt train-deltas', or give a Kaldi model dir with final.mdl "
                             f"and tree)")
        try:
            data = np.load(path)
            sets_text = str(data["phone_sets"])
            sets = [[int(x) for x in line.split()] for line in sets_text.splitlines()
                    if line.strip()]
            tree_bytes = data["tree"].tobytes() if "tree" in data else b""
            cd_tree = Tree.from_bytes(tree_bytes, f"{path} (tree)") if tree_bytes else None
            model = cls(str(data["topo"]), sets or None, cd_tree=cd_tree)
            counts = data["num_gauss"]
            bounds = np.concatenate([[0], np.cumsum(counts)])
            model.gmms = [Gmm(data["weights"][a:b].copy(), data["means"][a:b].copy(),
                              data["vars"][a:b].copy()) for a, b in zip(bounds[:-1], bounds[1:])]
            log_probs = data["log_probs"]
        except (KeyError, ValueError, OSError) as exc:
            raise AsrktError(f"{path}: not an asrkt GMM model ({exc})") from None
        except AsrktError as exc:
            raise AsrktError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
        if len(model.gmms) != model.num_pdfs:
            raise AsrktError(f"{path}: {len(model.gmms)} GMMs for {model.num_pdfs} pdfs")
        restore_log_probs(model.tm, log_probs)
        return model

    @classmethod
    def from_kaldi(cls, mdl_path: PathLike, tree_path: PathLike) -> GmmModel:
        """Read Kaldi's ``final.mdl`` (binary or text) and ``tree`` (binary or text), checked
        against each other: the tree maps every phone context of the model's topology to a pdf,
        the transition states are those the tree and topology give, and there is one GMM per
        pdf. Gaussians become float64 means (MEANS_INVVARS / INV_VARS) and variances.

        Args:
            mdl_path: the model file.
            tree_path: the tree file.
        """
        mdl_path, tree_path = Path(mdl_path), Path(tree_path)
        parsed = read_model_file(mdl_path)
        if not tree_path.is_file():
            raise AsrktError(f"{tree_path}: tree file does not exist (a Kaldi model dir needs "
                             f"final.mdl and tree)")
        topo_text = parsed.topology_text()
        topo = khg.HmmTopology()
        try:
            topo.read(topo_text)
        except RuntimeError as exc:
            raise AsrktError(f"{mdl_path}: invalid topology "
                             f"({_kaldi_error(exc)})") from None
        tree = Tree.read(tree_path, topo.get_phone_to_num_pdf_classes())
        try:
            model = cls(topo_text, None, cd_tree=tree)
        except RuntimeError as exc:  # Kaldi's checks of the transition model
            raise AsrktError(f"{mdl_path}: no transition model from this topology and "
                             f"{tree_path} ({_kaldi_error(exc)})") from None
        states = transition_states(str(model.tm))
        if states != parsed.tuples:
            raise AsrktError(f"{mdl_path}: its {len(parsed.tuples)} transition states are not "
                             f"the {len(states)} that {tree_path} and its topology give (model "
                             f"and tree from different runs?)")
        if len(parsed.weights) != model.num_pdfs:
            raise AsrktError(f"{mdl_path}: {len(parsed.weights)} GMMs, but {tree_path} has "
                             f"{model.num_pdfs} pdfs")
        if len(parsed.log_probs) != model.tm.num_transition_ids + 1:
            raise AsrktError(f"{mdl_path}: {len(parsed.log_probs)} transition log-probabilities "
                             f"for {model.tm.num_transition_ids} transition-ids (+1)")
        wanted = parsed.log_probs[1:]
        if not np.all(np.isfinite(wanted) & (wanted <= 0)):
            raise AsrktError(f"{mdl_path}: transition log-probabilities that are not finite and "
                             f"<= 0")
        restore_log_probs(model.tm, parsed.log_probs)
        if np.max(np.abs(np.asarray(model.tm.log_probs)[1:] - wanted)) > 1e-3:
            raise AsrktError(f"{mdl_path}: the transition probabilities out of a state do not "
                             f"sum to one")
        model.gmms = [Gmm(w.copy(), mi / iv, 1.0 / iv) for w, mi, iv in
                      zip(parsed.weights, parsed.means_invvars, parsed.inv_vars)]
        return model

    def kaldi_text(self) -> str:
        """The model in Kaldi's text format (as ``gmm-copy --binary=false``)."""
        out = io.StringIO()
        out.write(str(self.tm))
        out.write(f"<DIMENSION> {self.dim} <NUMPDFS> {self.num_pdfs} ")
        mi, half_inv, gconst, owner, starts = self._constants()
        for p, g in enumerate(self.gmms):
            sel = owner == p
            out.write("<DiagGMM> \n<GCONSTS> ")
            _write_vector(out, gconst[sel])
            out.write("<WEIGHTS> ")
            _write_vector(out, g.weights)
            out.write("<MEANS_INVVARS> ")
            _write_matrix(out, mi[sel])
            out.write("<INV_VARS> ")
            _write_matrix(out, -2.0 * half_inv[sel])
            out.write("</DiagGMM> \n")
        return out.getvalue()


def _kaldi_error(exc: Exception) -> str:
    """The message of an error from the Kaldi wheel (its last line, without the ``[E]``)."""
    return str(exc).strip().splitlines()[-1].removeprefix("[E] ")


def _fmt(values: np.ndarray) -> str:
    return " ".join(f"{v:.7g}" for v in np.asarray(values, dtype=np.float64).ravel())


def _write_vector(out, values: np.ndarray) -> None:
    out.write(f" [ {_fmt(values)} ]\n")


def _write_matrix(out, rows: np.ndarray) -> None:
    out.write(" [\n" + "\n".join(f"  {_fmt(r)} " for r in rows[:-1]))
    out.write(("\n" if len(rows) > 1 else "") + f"  {_fmt(rows[-1])} ]\n")


def init_mono(topo_text: str, phone_sets: Optional[List[List[int]]], feats: Sequence[np.ndarray],
              min_variance: float = 1e-3) -> GmmModel:
    """gmm-init-mono: every pdf a single Gaussian with the global mean and variance.

    Args:
        topo_text: Kaldi topology text.
        phone_sets: shared phone sets (phones/sets.int) or None.
        feats: feature matrices to take the global statistics from (Kaldi uses 10 utterances).
        min_variance: variance floor.
    """
    stacked = np.concatenate([f.astype(np.float64) for f in feats])
    if stacked.shape[0] < 2:
        raise AsrktError("too little data to initialise the model (fewer than 2 frames)")
    mean = stacked.mean(axis=0)
    var = np.maximum(stacked.var(axis=0), min_variance)
    model = GmmModel(topo_text, phone_sets)
    model.gmms = [Gmm(np.ones(1), mean[None, :].copy(), var[None, :].copy())
                  for _ in range(model.num_pdfs)]
    return model
