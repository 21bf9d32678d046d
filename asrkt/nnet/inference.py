"""Running a trained model over a data directory: ``dump-posteriors`` (teacher soft targets)
and ``forward`` (log-likelihoods for hybrid decoding). Both write Kaldi float-matrix ark/scp."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from tqdm import tqdm

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeatureReader
from asrkt.io.posterior import PosteriorWriter, SparsePosterior
from asrkt.io.tables import ArkScpWriter
from asrkt.nnet.config import resolve_device
from asrkt.nnet.modelio import LoadedModel, load_model, resolve_model_path
from asrkt.nnet.posteriors import check_distributions, write_info
from asrkt.nnet.priors import log_priors_from_counts
from asrkt.nnet.targets import write_kaldi_text_vector
from asrkt.utils.logs import command_log

logger = logging.getLogger("asrkt.nnet")
PathLike = Union[str, Path]


# `forward`/`dump-posteriors` run this many utterances of similar length per model call (a
# recurrent model's time steps are then matrix-matrix instead of matrix-vector products).
BATCH_UTTERANCES = 32
# at most this many (padded) frames per call: bounds the activations' memory on long utterances
BATCH_FRAMES = 32768
# utterances read ahead and sorted by length before batching (outputs are written in the data
# directory's order)
READ_AHEAD = 1024


def _spliced_inputs(model, feats: np.ndarray, device, utt: str) -> torch.Tensor:
    """Spliced inputs [T, spliced_dim] of one utterance: the model's frame offsets (splicing,
    target delay) clamped to the utterance, as the loaders do.

    Args:
        model: the acoustic model.
        feats: pipeline output [T, D].
        device: torch device.
        utt: utterance id for errors.
    """
    _check_dim(model, feats, utt)
    x = torch.from_numpy(feats).to(device)
    frames = x.shape[0]
    offsets = torch.tensor(model.input_offsets(), device=device)
    pos = (torch.arange(frames, device=device)[:, None] + offsets).clamp(0, frames - 1)
    return x[pos].flatten(1)


def _check_dim(model, feats: np.ndarray, utt: str) -> None:
    """Error when the features do not fit the model.

    Args:
        model: the acoustic model.
        feats: pipeline output [T, D].
        utt: utterance id for errors.
    """
    if feats.shape[1] != model.input_dim:
        raise AsrktError(f"utterance '{utt}': model expects {model.input_dim}-dim features, "
                         f"the feature pipeline gives {feats.shape[1]}")


@torch.no_grad()
def utterance_logits(model, feats: np.ndarray, device, utt: str = "?") -> torch.Tensor:
    """Logits [T, num_pdfs] of one utterance (whole-utterance forward, zero initial state).

    Args:
        model: the acoustic model (eval mode, on ``device``).
        feats: pipeline output [T, D].
        device: torch device.
        utt: utterance id for errors.
    """
    inputs = _spliced_inputs(model, feats, device, utt)
    if model.recurrent:
        logits, _ = model(inputs[None])
        return logits[0]
    logits, _ = model(inputs)
    return logits


@torch.no_grad()
def batch_logits(model, feats: Sequence[np.ndarray], device,
                 utts: Optional[Sequence[str]] = None) -> List[torch.Tensor]:
    """Logits of several utterances from one model call: each equals
    :func:`utterance_logits` of that utterance (up to float rounding).

    Frame models get the utterances' frames concatenated. Recurrent models get them padded at
    the end to the longest: a unidirectional model's outputs at valid frames never depend on
    later (padding) frames, and bidirectional models pack the batch by ``lengths`` (as in
    training), so their backward direction starts at each utterance's own last frame. Splice
    offsets are clamped per utterance before padding.

    Args:
        model: the acoustic model (eval mode, on ``device``).
        feats: pipeline outputs [T_i, D].
        device: torch device.
        utts: utterance ids for errors (default '?').
    """
    utts = list(utts) if utts is not None else ["?"] * len(feats)
    if len(feats) == 1 or any(len(f) == 0 for f in feats):
        return [utterance_logits(model, f, device, u) for f, u in zip(feats, utts)]
    inputs = [_spliced_inputs(model, f, device, u) for f, u in zip(feats, utts)]
    lengths = [int(x.shape[0]) for x in inputs]
    if not model.recurrent:
        logits, _ = model(torch.cat(inputs))
        return list(logits.split(lengths))
    padded = torch.nn.utils.rnn.pad_sequence(inputs, batch_first=True)
    logits, _ = model(padded, lengths=torch.tensor(lengths) if model.bidirectional else None)
    return [logits[i, :n] for i, n in enumerate(lengths)]


def length_groups(lengths: Sequence[int], max_utts: int = BATCH_UTTERANCES,
                  max_frames: int = BATCH_FRAMES) -> List[List[int]]:
    """Indices of ``lengths`` grouped for :func:`batch_logits`: sorted by length (stable), at
    most ``max_utts`` per group and ``max_frames`` padded frames (a longer utterance alone).

    Args:
        lengths: frames per utterance.
        max_utts: utterances per group.
        max_frames: group size times its longest length.
    """
    if max_utts < 1 or max_frames < 1:
        raise AsrktError(f"batch limits must be >= 1, got {max_utts} utterances, "
                         f"{max_frames} frames")
    groups: List[List[int]] = []
    group: List[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: lengths[k]):
        if group and (len(group) >= max_utts or (len(group) + 1) * lengths[i] > max_frames):
            groups.append(group)
            group = []
        group.append(i)
    if group:
        groups.append(group)
    return groups


def check_finite(utt: str, values: torch.Tensor) -> None:
    """NaN/inf in a model's output (a diverged model, or priors that failed) as an error naming
    the utterance."""
    if not torch.isfinite(values).all():
        raise AsrktError(f"utterance '{utt}': model output contains NaN/inf")


def iter_logits(loaded: LoadedModel, data_dir: DataDir, device,
                desc: str = "forward", utts: Optional[Sequence[str]] = None,
                progress: bool = True) -> Iterator[Tuple[str, torch.Tensor]]:
    """(utterance, logits [T, num_pdfs]) for every utterance of ``data_dir`` (or of ``utts``),
    in that order; the model runs over batches of similar-length utterances (see
    :func:`batch_logits`). Logits with NaN/inf (a diverged model) are an error naming the
    utterance.

    Args:
        loaded: the model and its feature pipeline.
        data_dir: data directory.
        device: torch device.
        desc: progress-bar label.
        utts: the utterances to run (default: all of ``data_dir``).
        progress: show a progress bar (a caller with its own bar turns it off).
    """
    model = loaded.model.eval()
    utts = data_dir.utterances if utts is None else list(utts)
    features = loaded.pipeline.iter_features(data_dir, utts)
    with tqdm(total=len(utts), desc=desc, unit="utt", leave=False,
              disable=None if progress else True) as bar:
        while True:
            window = list(itertools.islice(features, READ_AHEAD))
            if not window:
                break
            for utt, feats in window:  # the first bad utterance in data-directory order
                _check_dim(model, feats, utt)
            logits: List[Optional[torch.Tensor]] = [None] * len(window)
            for group in length_groups([len(f) for _, f in window], BATCH_UTTERANCES, BATCH_FRAMES):
                outs = batch_logits(model, [window[i][1] for i in group], device,
                                    [window[i][0] for i in group])
                for i, out in zip(group, outs):
                    logits[i] = out
            for k, (utt, _) in enumerate(window):
                out, logits[k] = logits[k], None
                check_finite(utt, out)
                yield utt, out
                bar.update(1)


def _run(loaded: LoadedModel, data_dir: DataDir, out_dir: Path, name: str, device,
         transform, compress: bool = False, sparse: bool = False,
         before_install=None) -> int:
    """Write ``transform(logits)`` of every utterance of ``data_dir`` (in its order) to
    OUT_DIR/NAME.{ark,scp}.

    Args:
        loaded: the model and its feature pipeline.
        data_dir: data directory.
        out_dir: output directory.
        name: ark/scp file name.
        device: torch device.
        transform: logits [T, num_pdfs] -> output matrix (row-wise), or with ``sparse``
            (ids [T, K], weights [T, K]).
        compress: Kaldi compressed matrices.
        sparse: write a Kaldi Posterior table instead of matrices.
        before_install: see :class:`ArkScpWriter` (files describing the new table).
    """
    count = 0
    ark, scp = out_dir / f"{name}.ark", out_dir / f"{name}.scp"
    with (PosteriorWriter(ark, scp, before_install=before_install) if sparse
          else ArkScpWriter(ark, scp, compress, before_install)) as writer:
        for utt, logits in iter_logits(loaded, data_dir, device, name):
            out = transform(logits)
            values = out[1] if sparse else out
            check_finite(utt, values)  # the transform itself (e.g. priors) failed
            if sparse:
                out = SparsePosterior(out[0].cpu().numpy().astype(np.int32),
                                      values.cpu().numpy().astype(np.float32))
            else:
                out = out.cpu().numpy().astype(np.float32)
            writer.write(utt, out)
            count += 1
    return count


def soft_targets(logits: torch.Tensor, temperature: float, top_k: Optional[int] = None,
                 dense: bool = True):
    """The teacher's soft targets from its logits, as ``dump-posteriors`` writes them.

    softmax(z / T); with ``top_k`` only the k largest of each frame, renormalised over them.

    Args:
        logits: [T, num_pdfs] teacher logits.
        temperature: softmax temperature T.
        top_k: pairs kept per frame (None: all).
        dense: [T, num_pdfs] rows (zeros outside the top k); else (ids [T, k] long, weights
            [T, k]), ids in decreasing order of weight.
    """
    post = torch.softmax(logits.float() / temperature, dim=-1)
    if top_k is None or (dense and top_k >= post.shape[-1]):
        return post
    values, index = post.topk(min(top_k, post.shape[-1]), dim=-1)
    values = values / values.sum(dim=-1, keepdim=True)
    if not dense:
        return index, values
    return torch.zeros_like(post).scatter_(-1, index, values)


def dump_posteriors(teacher: PathLike, data_dir: PathLike, post_dir: PathLike,
                    temperature: float = 1.0, top_k: Optional[int] = None,
                    device: str = "auto", compress: bool = False, dense: bool = False) -> int:
    """Write the teacher's frame posteriors softmax(z / T) to POST_DIR/post.{ark,scp}.

    Without ``top_k`` (or with ``dense``) the table holds dense matrices [T, num_pdfs]; with
    ``top_k`` a Kaldi Posterior table (the k largest posteriors of each frame as (pdf, weight)
    pairs, renormalised): 5 + 10 k bytes per frame instead of 4 x num_pdfs.

    Args:
        teacher: teacher model (file or EXP_DIR).
        data_dir: data directory.
        post_dir: output directory (also gets posteriors.yaml and pdf_counts).
        temperature: softmax temperature T.
        top_k: keep the k largest posteriors per frame and renormalise (None: all).
        device: 'auto', 'cpu', 'cuda'.
        compress: Kaldi compressed matrices (about 1 byte per value instead of 4; lossy,
            rows are renormalised when read); dense output only.
        dense: with ``top_k``, write dense rows (zeros outside the top k) instead of a
            Posterior table.
    """
    if temperature <= 0:
        raise AsrktError(f"--temperature must be > 0, got {temperature}")
    sparse = top_k is not None and not dense
    if compress and sparse:
        raise AsrktError("--compress applies to dense matrices: drop --top-k, or add --dense")
    post_dir = Path(post_dir)
    post_dir.mkdir(parents=True, exist_ok=True)
    with command_log(post_dir / "log", "dump-posteriors"):
        dev = resolve_device(device)
        loaded = load_model(teacher, dev)
        num_pdfs = loaded.model.num_pdfs
        if top_k is not None and not 1 <= top_k <= num_pdfs:
            raise AsrktError(f"--top-k must be in 1..{num_pdfs}, got {top_k}")
        per_frame = 5 + 10 * top_k if sparse else (1 if compress else 4) * num_pdfs
        logger.info("teacher %s, temperature %g, top-k %s, %d pdfs: %s, about %.0f MB per "
                    "hour of audio", resolve_model_path(teacher), temperature, top_k, num_pdfs,
                    "Kaldi Posterior" if sparse else "compressed matrices" if compress
                    else "dense matrices", 360000 * per_frame / 1e6)

        def describe() -> None:  # installed with post.ark/post.scp, never with old ones
            write_info(post_dir, temperature, top_k, num_pdfs, str(resolve_model_path(teacher)))
            if loaded.pdf_counts is not None:
                write_kaldi_text_vector(post_dir / "pdf_counts", loaded.pdf_counts.numpy())
            else:
                (post_dir / "pdf_counts").unlink(missing_ok=True)

        count = _run(loaded, DataDir(data_dir), post_dir, "post", dev,
                     lambda z: soft_targets(z, temperature, top_k, dense=not sparse),
                     compress, sparse, describe)
        logger.info("wrote soft targets of %d utterances to %s", count, post_dir / "post.scp")
        return count


def loglikes_transform(loaded: LoadedModel, model_path: PathLike, device,
                       use_priors: bool = True, prior_floor: float = 1e-10,
                       prior_scale: float = 1.0):
    """The hybrid model's log-likelihoods from its logits: log p(pdf|x) - S log p(pdf).

    Args:
        loaded: the loaded model (its pdf counts give the priors).
        model_path: its path, for the error line when it has no counts.
        device: torch device.
        use_priors: subtract log priors (False: log-posteriors).
        prior_floor: priors below it are floored as Kaldi's PdfPrior.
        prior_scale: S.

    Returns:
        logits [T, num_pdfs] -> log-likelihoods [T, num_pdfs] (float32).
    """
    log_prior = torch.zeros(loaded.model.num_pdfs, device=device)
    if use_priors:
        if loaded.pdf_counts is None:
            raise AsrktError(f"{resolve_model_path(model_path)} has no pdf counts for "
                             f"priors; use --no-priors")
        log_prior = torch.from_numpy(
            log_priors_from_counts(loaded.pdf_counts.numpy(), prior_floor)).to(device)
    logger.info("model %s, priors %s (floor %g, scale %g)", resolve_model_path(model_path),
                "on" if use_priors else "off", prior_floor, prior_scale)

    def transform(logits: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits.float(), dim=-1) - prior_scale * log_prior

    return transform


def forward(model_path: PathLike, data_dir: PathLike, out_dir: PathLike,
            use_priors: bool = True, prior_floor: float = 1e-10, prior_scale: float = 1.0,
            device: str = "auto") -> int:
    """Write log-likelihoods log p(pdf|x) - prior_scale * log p(pdf) to OUT_DIR/loglikes.{ark,scp}.

    Args:
        model_path: model file or EXP_DIR.
        data_dir: data directory.
        out_dir: output directory.
        use_priors: subtract log priors (False: write log-posteriors).
        prior_floor: priors below it are floored as Kaldi's PdfPrior.
        prior_scale: scale of the log priors.
        device: 'auto', 'cpu', 'cuda'.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with command_log(out_dir / "log", "forward"):
        dev = resolve_device(device)
        loaded = load_model(model_path, dev)
        transform = loglikes_transform(loaded, model_path, dev, use_priors, prior_floor,
                                       prior_scale)
        count = _run(loaded, DataDir(data_dir), out_dir, "loglikes", dev, transform)
        logger.info("wrote log-likelihoods of %d utterances to %s", count,
                    out_dir / "loglikes.scp")
        return count


def nnet_source(model_path: PathLike, data_dir: PathLike, use_priors: bool = True,
                prior_floor: float = 1e-10, prior_scale: float = 1.0, device: str = "auto",
                num_threads: int = 1):
    """Log-likelihood source for :func:`asrkt.decode.decoder.run_decode` that runs the network
    over the data dir's features as the decoder asks (``forward`` and ``decode-nnet`` in one
    process, as Kaldi's nnet3-latgen-faster: no log-likelihood archive). The values are those
    ``forward`` writes, bit for bit at the same thread count.

    The model is loaded here, before the decoding jobs fork (a missing model, priors or
    feature pipeline fails before any decoding); the jobs share it.

    Args:
        model_path: model file or EXP_DIR.
        data_dir: data directory with the features the model was trained on.
        use_priors, prior_floor, prior_scale: as :func:`forward`.
        device: 'auto', 'cpu', 'cuda'.
        num_threads: torch threads of each job (0: leave the job's setting, one thread).
    """
    data = DataDir(data_dir)
    dev = resolve_device(device)
    loaded = load_model(model_path, dev)
    transform = loglikes_transform(loaded, model_path, dev, use_priors, prior_floor, prior_scale)

    def source(utts: List[str]) -> Iterator[Tuple[str, np.ndarray]]:
        if num_threads > 0:
            torch.set_num_threads(num_threads)
        for utt, logits in iter_logits(loaded, data, dev, utts=utts, progress=False):
            out = transform(logits)
            check_finite(utt, out)   # the priors themselves
            yield utt, out.cpu().numpy().astype(np.float32)

    return source


class TeacherTargets:
    """Soft targets computed by a teacher when an utterance is looked up: the teacher's own
    feature pipeline, a whole-utterance forward pass (eval mode, no gradient) and
    :func:`soft_targets`, i.e. exactly what ``dump-posteriors`` would have written, without the
    files. A mapping like :class:`asrkt.nnet.posteriors.SoftTargetTable`, so the block reader
    runs the teacher while it reads a block (in its background thread when streaming; once
    for a corpus kept in memory).

    Args:
        teacher: teacher model (file or EXP_DIR).
        data_dirs: the data directories the student trains (and is cross-validated) on.
        temperature: softmax temperature T (the KT temperature: no re-tempering).
        top_k: keep the k largest posteriors per frame, sparse (0/None: all, dense).
        device: torch device of the teacher.
    """

    def __init__(self, teacher: PathLike, data_dirs: Sequence[DataDir], temperature: float,
                 top_k: Optional[int], device):

        self.loaded = load_model(teacher, device)
        self.model = self.loaded.model.eval()
        self.num_pdfs = self.model.num_pdfs
        self.top_k = top_k or None
        if self.top_k is not None and not 1 <= self.top_k <= self.num_pdfs:
            raise AsrktError(f"top-k must be in 1..{self.num_pdfs}, got {self.top_k}")
        self.temperature, self.device = temperature, device
        self.table = f"teacher {resolve_model_path(teacher)}"
        need_cmvn = self.loaded.pipeline.config.cmvn == "speaker"
        self._readers = {}
        for data_dir in data_dirs:
            reader = FeatureReader(data_dir, need_cmvn)
            self._readers.update((utt, reader) for utt in data_dir.utterances)

    @property
    def sparse(self) -> bool:
        return self.top_k is not None

    def keys(self):
        return self._readers.keys()

    def __contains__(self, utt: str) -> bool:
        return utt in self._readers

    def __len__(self) -> int:
        return len(self._readers)

    def __getitem__(self, utt: str):
        """The utterance's soft targets: SparsePosterior (top-k) or float32 [T, num_pdfs]."""

        raw, stats = self._readers[utt].read(utt)
        feats = self.loaded.pipeline.transform(raw, stats, utt)
        logits = utterance_logits(self.model, feats, self.device, utt)
        if not torch.isfinite(logits).all():
            raise AsrktError(f"{self.table}: output for utterance '{utt}' contains NaN/inf")
        out = soft_targets(logits, self.temperature, self.top_k, dense=not self.sparse)
        weights = (out[1] if self.sparse else out).cpu().numpy().astype(np.float32)
        check_distributions(weights, self.table, utt)  # what a dumped table must pass
        if self.sparse:
            return SparsePosterior(out[0].cpu().numpy().astype(np.int32), weights)
        return weights
