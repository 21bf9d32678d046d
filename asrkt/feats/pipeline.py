"""The feature pipeline every later stage uses: CMVN -> deltas -> splicing -> transform ->
global norm.

Like the feature transform of Kaldi's nnet1, it is built once (``fit`` computes the global
normalisation on training data), saved in the experiment directory as
``feature_pipeline.yaml`` and re-read by downstream stages, so no stage repeats feature flags.
The transform (an LDA+MLLT matrix of train-lda-mllt, as Kaldi's transform-feats with
final.mat) is a Kaldi matrix file named relative to the directory of the yaml file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Literal, Optional, Tuple, Union

import numpy as np
import yaml

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.feats.cmvn import accumulate_stats, apply_cmvn
from asrkt.io.tables import load_scp, read_scp_entry
from asrkt.utils.config import from_mapping, load_yaml, option
from asrkt.utils.fileio import atomic_output, write_text_atomic

PathLike = Union[str, Path]


@dataclass
class PipelineConfig:
    """Feature pipeline settings (saved in feature_pipeline.yaml)."""

    cmvn: Literal["speaker", "utterance", "none"] = option(
        "speaker", help="'speaker' (stats from cmvn.scp), 'utterance' (per-utterance stats) or "
                        "'none'.")
    norm_vars: bool = option(False, help="Also normalise variances in CMVN.")
    delta_order: int = option(0, ge=0, help="Kaldi add-deltas order (2 = static + delta + "
                                            "delta-delta).")
    delta_window: int = option(2, ge=1, help="Kaldi add-deltas window.")
    splice: int = option(0, ge=0, help="Context frames on each side (Kaldi splice-feats "
                                       "--left/right-context).")
    transform: Optional[str] = option(None, help="Kaldi matrix file applied after splicing "
                                                 "(transform-feats), relative to the directory "
                                                 "of feature_pipeline.yaml, e.g. final.mat.")
    global_norm: bool = option(False, help="Zero-mean unit-variance per output dim, from "
                                           "training data statistics.")


def delta_scales(order: int, window: int) -> List[np.ndarray]:
    """Kaldi's DeltaFeatures filter for each order (order 0 is [1])."""
    scales = [np.array([1.0])]
    normalizer = sum(j * j for j in range(-window, window + 1))
    for _ in range(order):
        prev = scales[-1]
        cur = np.zeros(len(prev) + 2 * window)
        for j in range(-window, window + 1):
            cur[j + window:j + window + len(prev)] += j * prev
        scales.append(cur / normalizer)
    return scales


def add_deltas(feats: np.ndarray, order: int, window: int = 2) -> np.ndarray:
    """Append delta features as Kaldi's add-deltas (edge frames replicated)."""
    if order == 0:
        return feats
    scales = delta_scales(order, window)
    pad = order * window
    padded = np.pad(feats, ((pad, pad), (0, 0)), mode="edge").astype(np.float64)
    frames = feats.shape[0]
    blocks = [feats.astype(np.float64)]
    for scale in scales[1:]:
        half = len(scale) // 2
        block = np.zeros(feats.shape, dtype=np.float64)
        for k, weight in enumerate(scale):
            if weight != 0.0:
                start = pad + k - half
                block += weight * padded[start:start + frames]
        blocks.append(block)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def apply_transform(feats: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """transform-feats: ``matrix`` [out, D] (or [out, D + 1], the last column an offset) times
    each frame; float32 result.

    Args:
        feats: frames [T, D].
        matrix: the transform.
    """
    dim = feats.shape[1]
    out = feats.astype(np.float64) @ matrix[:, :dim].T.astype(np.float64)
    if matrix.shape[1] == dim + 1:
        out += matrix[:, dim].astype(np.float64)
    return out.astype(np.float32)


def read_matrix(path: PathLike, what: str) -> np.ndarray:
    """A Kaldi matrix file (binary or text, as kaldiio reads it); an error naming it.

    Args:
        path: the file.
        what: what refers to it, for the message.
    """
    import kaldiio

    if not Path(path).is_file():
        raise AsrktError(f"{path}: missing ({what})")
    try:
        mat = np.asarray(kaldiio.load_mat(str(path)), dtype=np.float32)
    except Exception as exc:  # kaldiio raises bare Exceptions on corrupt data
        raise AsrktError(f"{path}: not a Kaldi matrix ({what}): {exc}") from None
    if mat.ndim != 2 or not mat.size or not np.all(np.isfinite(mat)):
        raise AsrktError(f"{path}: not a finite Kaldi matrix ({what})")
    return mat


def write_matrix(path: PathLike, matrix: np.ndarray) -> None:
    """Write a Kaldi binary float matrix (as Kaldi's --binary=true) atomically."""
    import kaldiio

    with atomic_output(path) as tmp:
        kaldiio.save_mat(str(tmp), np.ascontiguousarray(matrix, dtype=np.float32))


def splice_frames(feats: np.ndarray, context: int) -> np.ndarray:
    """Stack ±``context`` neighbouring frames (edge frames replicated), as splice-feats."""
    if context == 0:
        return feats
    frames = feats.shape[0]
    padded = np.pad(feats, ((context, context), (0, 0)), mode="edge")
    return np.concatenate([padded[k:k + frames] for k in range(2 * context + 1)], axis=1)


class FeaturePipeline:
    """CMVN, deltas, splicing and global normalisation, with fitted statistics.

    Args:
        config: the pipeline settings.
        input_dim: raw feature dimension (set by :meth:`fit` or on first use).
        global_mean / global_std: per-dim statistics of the spliced output (``global_norm``).
        matrix: the transform ``config.transform`` names (read by :meth:`load`).
    """

    def __init__(self, config: Optional[PipelineConfig] = None, input_dim: Optional[int] = None,
                 global_mean: Optional[np.ndarray] = None, global_std: Optional[np.ndarray] = None,
                 matrix: Optional[np.ndarray] = None):
        self.config = config or PipelineConfig()
        self.input_dim = input_dim
        self.matrix = matrix
        self.global_mean = None if global_mean is None else np.asarray(global_mean, np.float32)
        self.global_std = None if global_std is None else np.asarray(global_std, np.float32)

    def output_dim(self, raw_dim: Optional[int] = None) -> int:
        """Dimension of the pipeline's output for raw features of ``raw_dim`` (default: fitted)."""
        raw = raw_dim if raw_dim is not None else self.input_dim
        if raw is None:
            raise AsrktError("feature pipeline has no input dimension yet (call fit first)")
        if self.config.transform is not None:
            return int(self._matrix().shape[0])
        return self.spliced_dim(raw)

    def spliced_dim(self, raw_dim: int) -> int:
        """Dimension after CMVN, deltas and splicing (before the transform)."""
        return raw_dim * (self.config.delta_order + 1) * (2 * self.config.splice + 1)

    def _matrix(self) -> np.ndarray:
        if self.matrix is None:
            raise AsrktError(f"the feature pipeline names the transform "
                             f"'{self.config.transform}' but it was not read (load the pipeline "
                             f"from its feature_pipeline.yaml)")
        return self.matrix

    def transform(self, feats: np.ndarray, cmvn_stats: Optional[np.ndarray] = None,
                  utt: str = "?") -> np.ndarray:
        """Apply the pipeline to one utterance's raw features.

        Args:
            feats: raw features [T, input_dim].
            cmvn_stats: the speaker's Kaldi CMVN stats (needed when cmvn == 'speaker').
            utt: utterance id, for error messages.
        """
        cfg = self.config
        if self.input_dim is not None and feats.shape[1] != self.input_dim:
            raise AsrktError(f"utterance '{utt}': features have dimension {feats.shape[1]}, "
                             f"the pipeline expects {self.input_dim}")
        if cfg.cmvn == "speaker":
            if cmvn_stats is None:
                raise AsrktError(f"utterance '{utt}': no CMVN stats for its speaker")
            feats = apply_cmvn(feats, cmvn_stats, cfg.norm_vars)
        elif cfg.cmvn == "utterance":
            feats = apply_cmvn(feats, accumulate_stats(feats), cfg.norm_vars)
        out = splice_frames(add_deltas(feats, cfg.delta_order, cfg.delta_window), cfg.splice)
        if cfg.transform is not None:
            matrix = self._matrix()
            if matrix.shape[1] not in (out.shape[1], out.shape[1] + 1):
                raise AsrktError(f"utterance '{utt}': the transform '{cfg.transform}' takes "
                                 f"{matrix.shape[1]} dims, the spliced features have "
                                 f"{out.shape[1]}")
            out = apply_transform(out, matrix)
        if cfg.global_norm:
            if self.global_mean is None:
                raise AsrktError("global_norm is set but the pipeline was not fitted")
            out = (out - self.global_mean) / self.global_std
        return np.ascontiguousarray(out, dtype=np.float32)

    def iter_features(self, data_dir: DataDir, utterances: Optional[List[str]] = None
                      ) -> Iterator[Tuple[str, np.ndarray]]:
        """Yield (utt, transformed features) for ``data_dir`` (all utterances by default)."""
        reader = FeatureReader(data_dir, need_cmvn=self.config.cmvn == "speaker")
        for utt in utterances if utterances is not None else data_dir.utterances:
            raw, stats = reader.read(utt)
            yield utt, self.transform(raw, stats, utt)

    def fit(self, data_dir: DataDir, utterances: Optional[List[str]] = None) -> FeaturePipeline:
        """Set ``input_dim`` and, with global_norm, the global statistics from training data."""
        reader = FeatureReader(data_dir, need_cmvn=self.config.cmvn == "speaker")
        saved, self.config.global_norm = self.config.global_norm, False
        stats = None
        try:
            for utt in utterances if utterances is not None else data_dir.utterances:
                raw, cmvn_stats = reader.read(utt)
                if self.input_dim is None:
                    self.input_dim = raw.shape[1]
                if not saved:
                    break
                cfg = self.config
                if cfg.transform is not None:  # not a tiling of per-frame statistics
                    stats = accumulate_stats(self.transform(raw, cmvn_stats, utt), stats)
                    continue
                feats = raw if cfg.cmvn == "none" else (
                    apply_cmvn(raw, cmvn_stats if cfg.cmvn == "speaker" else accumulate_stats(raw),
                               cfg.norm_vars))
                stats = accumulate_stats(add_deltas(feats, cfg.delta_order, cfg.delta_window),
                                         stats)
        finally:
            self.config.global_norm = saved
        if saved:
            if stats is None:
                raise AsrktError(f"{data_dir.path}: no utterances to fit the feature pipeline on")
            count = stats[0, -1]
            mean = stats[0, :-1] / count
            std = np.sqrt(np.maximum(stats[1, :-1] / count - mean ** 2, 1e-10))
            # Splicing replicates frames, so spliced statistics are the tiled ones.
            reps = 1 if self.config.transform is not None else 2 * self.config.splice + 1
            self.global_mean = np.tile(mean, reps).astype(np.float32)
            self.global_std = np.tile(std, reps).astype(np.float32)
        return self

    def to_dict(self) -> Dict:
        """Plain-data form (YAML-serialisable)."""
        return {"config": asdict(self.config), "input_dim": self.input_dim,
                "global_mean": None if self.global_mean is None else self.global_mean.tolist(),
                "global_std": None if self.global_std is None else self.global_std.tolist()}

    @classmethod
    def from_dict(cls, data: Dict, source: str = "feature pipeline") -> FeaturePipeline:
        """Inverse of :meth:`to_dict`."""
        unknown = set(data) - {"config", "input_dim", "global_mean", "global_std"}
        if unknown:
            raise AsrktError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
        config = from_mapping(PipelineConfig, data.get("config") or {}, source)
        return cls(config, data.get("input_dim"), data.get("global_mean"), data.get("global_std"))

    def save(self, path: PathLike) -> None:
        """Write ``feature_pipeline.yaml`` atomically."""
        write_text_atomic(path, yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def load(cls, path: PathLike) -> FeaturePipeline:
        """Read a pipeline saved by :meth:`save` (and the transform it names, from the same
        directory)."""
        pipeline = cls.from_dict(load_yaml(path), str(path))
        name = pipeline.config.transform
        if name is not None:
            pipeline.matrix = read_matrix(Path(path).parent / name,
                                          f"the transform that {path} names")
        return pipeline


class FeatureReader:
    """Raw features and the speaker's CMVN stats of each utterance of a data directory."""

    def __init__(self, data_dir: DataDir, need_cmvn: bool):
        self.data_dir = data_dir
        if not data_dir.has("feats.scp"):
            raise AsrktError(f"{data_dir.file('feats.scp')} does not exist; "
                             f"run 'asrkt make-feats' first")
        self.feats = load_scp(data_dir.file("feats.scp"))
        self.cmvn = None
        if need_cmvn:
            if not data_dir.has("cmvn.scp"):
                raise AsrktError(f"{data_dir.file('cmvn.scp')} does not exist; "
                                 f"run 'asrkt compute-cmvn {data_dir.path}' first")
            self.cmvn = load_scp(data_dir.file("cmvn.scp"))
        self._stats_cache: Dict[str, np.ndarray] = {}

    def read(self, utt: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """(raw features, CMVN stats of its speaker or None)."""
        feats = read_scp_entry(self.feats, utt, self.data_dir.file("feats.scp"), "matrix")
        if not np.all(np.isfinite(feats)):
            raise AsrktError(f"{self.data_dir.file('feats.scp')} ({utt}): features contain NaN/inf")
        if self.cmvn is None:
            return feats, None
        spk = self.data_dir.utt2spk.get(utt)
        if spk is None:
            raise AsrktError(f"{self.data_dir.file('utt2spk')}: no speaker for utterance '{utt}'")
        if spk not in self._stats_cache:
            stats = read_scp_entry(self.cmvn, spk, self.data_dir.file("cmvn.scp"), "matrix")
            if stats.shape != (2, feats.shape[1] + 1) or stats[0, -1] < 1:
                raise AsrktError(f"{self.data_dir.file('cmvn.scp')} ({spk}): CMVN stats of shape "
                                 f"{stats.shape} with count {stats[0, -1]:g} do not fit features "
                                 f"of dimension {feats.shape[1]} (expected 2 x "
                                 f"{feats.shape[1] + 1}, count >= 1)")
            self._stats_cache[spk] = stats
        return feats, self._stats_cache[spk]
