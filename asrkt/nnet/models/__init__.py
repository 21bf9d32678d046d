"""Registry of acoustic models (DNN teacher, recurrent students).

Every module in this package registers its classes with :func:`register`; adding a model is one
small file defining an :class:`~asrkt.nnet.models.base.AcousticModel` subclass. Names:
``dnn``, ``lstm`` (LSTMP when ``proj_dim`` > 0), ``blstm``, ``gru``, ``bgru``, ``rnn``, ``brnn``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, Dict, List, Tuple, Type

from asrkt.errors import AsrktError
from asrkt.nnet.models.base import AcousticModel, ModelSpec

_REGISTRY: Dict[str, Tuple[Type[AcousticModel], Dict[str, Any]]] = {}
_LOADED = False


def register(name: str, **fixed: Any) -> Callable[[Type[AcousticModel]], Type[AcousticModel]]:
    """Class decorator: make the model buildable as ``name`` (``fixed`` kwargs, e.g.
    ``bidirectional=True``, are passed to its constructor)."""

    def decorate(cls: Type[AcousticModel]) -> Type[AcousticModel]:
        _REGISTRY[name] = (cls, dict(fixed))
        return cls

    return decorate


def _load_all() -> None:
    global _LOADED
    if not _LOADED:
        for info in pkgutil.iter_modules(__path__):
            if info.name != "base":
                importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True


def available() -> List[str]:
    """Registered model names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def build_model(spec: ModelSpec, input_dim: int, num_pdfs: int) -> AcousticModel:
    """Instantiate the model ``spec.name`` for ``input_dim`` features and ``num_pdfs`` outputs.

    Args:
        spec: architecture (name, layers, sizes, splice, target delay).
        input_dim: feature dimension per frame (before the model's own splicing).
        num_pdfs: number of output classes.
    """
    _load_all()
    if spec.name not in _REGISTRY:
        raise AsrktError(f"unknown model '{spec.name}' (available: {', '.join(available())})")
    cls, fixed = _REGISTRY[spec.name]
    return cls(spec, input_dim, num_pdfs, **fixed)


__all__ = ["AcousticModel", "ModelSpec", "register", "available", "build_model"]
