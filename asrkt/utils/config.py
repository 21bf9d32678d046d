"""Configuration: dataclass defaults < YAML file < command-line flags.

Each command declares its hyperparameters as a dataclass. :func:`resolve_config` layers a YAML
file and the flags the user actually gave on top of the defaults, rejects unknown keys and
values of the wrong type with a one-line error, and the result is saved in the experiment dir
(:func:`save_config`) so later stages read it instead of repeating flags.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Type, TypeVar, Union

import yaml

from asrkt.errors import AsrktError
from asrkt.utils.fileio import write_text_atomic

T = TypeVar("T")
PathLike = Union[str, Path]


def _coerce(value: Any, annotation: Any, name: str, source: str) -> Any:
    """Check/convert ``value`` to the field's annotated type (int, float, bool, str, list, Optional)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Union and type(None) in args:
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], name, source)
    if origin is typing.Literal:
        if value not in args:
            raise AsrktError(f"{source}: '{name}' must be one of {', '.join(map(str, args))}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise AsrktError(f"{source}: '{name}' must be a list, got {value!r}")
        item = args[0] if args else Any
        return [_coerce(v, item, name, source) for v in value] if item is not Any else list(value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise AsrktError(f"{source}: '{name}' must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise AsrktError(f"{source}: '{name}' must be an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AsrktError(f"{source}: '{name}' must be a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise AsrktError(f"{source}: '{name}' must be a string, got {value!r}")
        return value
    return value


def from_mapping(cls: Type[T], values: Mapping[str, Any], source: str,
                 base: Optional[T] = None) -> T:
    """Build ``cls`` from ``base`` (or defaults) with ``values`` layered on top.

    Args:
        cls: a dataclass type.
        values: keys to set; unknown keys are an error naming ``source``.
        source: where the values came from (a file name or "command line"), for messages.
        base: starting instance; the dataclass defaults when None.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise AsrktError(f"{source}: unknown key(s) {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(names))})")
    current = dataclasses.asdict(base) if base is not None else {}
    for key, value in values.items():
        current[key] = _coerce(value, hints[key], key, source)
    try:
        obj = cls(**current)
    except TypeError as exc:
        raise AsrktError(f"{source}: {exc}") from None
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate()
    return obj


def load_yaml(path: PathLike) -> Dict[str, Any]:
    """Read a YAML mapping; a syntax error or a non-mapping is a one-line error."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise AsrktError(f"config file '{path}' does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise AsrktError(f"{path}{line}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AsrktError(f"{path}: expected a mapping of option: value")
    return data


def resolve_config(cls: Type[T], config_file: Optional[PathLike] = None,
                   flags: Optional[Mapping[str, Any]] = None, base: Optional[T] = None) -> T:
    """defaults (or ``base``) < YAML ``config_file`` < ``flags`` (None-valued flags are ignored).

    Args:
        cls: the config dataclass.
        config_file: optional YAML file.
        flags: command-line values keyed by field name; None means "not given".
        base: start from this instance instead of the dataclass defaults.
    """
    config = base if base is not None else from_mapping(cls, {}, "defaults")
    if config_file is not None:
        config = from_mapping(cls, load_yaml(config_file), str(config_file), config)
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if given:
        config = from_mapping(cls, given, "command line", config)
    return config


def save_config(config: Any, path: PathLike) -> None:
    """Write a config dataclass as YAML, atomically."""
    write_text_atomic(path, yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))


def load_config(cls: Type[T], path: PathLike) -> T:
    """Read a config saved by :func:`save_config`."""
    return from_mapping(cls, load_yaml(path), str(path))
