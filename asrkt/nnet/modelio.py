"""Self-contained model files (``final.pt``): weights, architecture, pdf count, feature pipeline,
pdf counts (for priors) and the training config; loadable without any other file."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from asrkt.errors import AsrktError, reason
from asrkt.feats.pipeline import FeaturePipeline
from asrkt.nnet.models import AcousticModel, ModelSpec, build_model
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]
MODEL_FORMAT = "asrkt-acoustic-model-1"


def save_torch(obj: Any, path: PathLike) -> None:
    """``torch.save`` through a temporary file renamed into place."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()  # serialised in memory: a failed write is then a plain OSError
    torch.save(obj, buffer)  # (torch's own writer reports a full disk as RuntimeError)
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(buffer.getbuffer())


def load_torch(path: PathLike, what: str = "file") -> Dict[str, Any]:
    """``torch.load`` (weights only, CPU) with a one-line error on a missing/corrupt file."""
    path = Path(path)
    if not path.exists():
        raise AsrktError(f"{what} '{path}' does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or not a torch file
        raise AsrktError(f"cannot read {what} '{path}': {reason(exc)}") from None


@dataclass
class LoadedModel:
    """A model with what inference needs: its feature pipeline and pdf counts."""

    model: AcousticModel
    pipeline: Any
    pdf_counts: Optional[torch.Tensor]
    payload: Dict[str, Any]


def model_payload(model: AcousticModel, pipeline, pdf_counts: Optional[torch.Tensor],
                  command: str, config: Dict[str, Any]) -> Dict[str, Any]:
    """Everything ``final.pt`` holds (weights copied to CPU)."""
    return {"format": MODEL_FORMAT, "spec": model.spec.to_dict(), "input_dim": model.input_dim,
            "num_pdfs": model.num_pdfs,
            "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            "pipeline": pipeline.to_dict(),
            "pdf_counts": None if pdf_counts is None else torch.as_tensor(pdf_counts,
                                                                            dtype=torch.float64),
            "command": command, "config": config}


def resolve_model_path(path: PathLike) -> Path:
    """A model file, or an experiment directory (its ``final.pt``)."""
    path = Path(path)
    return path / "final.pt" if path.is_dir() else path


def load_model(path: PathLike, device: Union[str, torch.device] = "cpu") -> LoadedModel:
    """Rebuild a model saved by a training command.

    Args:
        path: ``final.pt``/checkpoint, or an experiment directory.
        device: where to put the model.
    """
    path = resolve_model_path(path)
    payload = load_torch(path, "model")
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise AsrktError(f"'{path}' is not an asrkt acoustic model (format {MODEL_FORMAT})")
    spec = ModelSpec.from_dict(payload["spec"])
    model = build_model(spec, int(payload["input_dim"]), int(payload["num_pdfs"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise AsrktError(f"{path}: weights do not fit the architecture: "
                         f"{str(exc).splitlines()[0]}") from None
    pipeline = FeaturePipeline.from_dict(payload["pipeline"], f"{path} (feature pipeline)")
    return LoadedModel(model.to(device), pipeline, payload.get("pdf_counts"), payload)
