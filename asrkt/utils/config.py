"""Configuration: dataclass defaults < YAML file < command-line flags, from one declaration.

Each command declares its settings as a dataclass whose fields are made with :func:`option`:
default, help text and range in one place. From that declaration

* :func:`config_options` generates the command's click options (``--field-name``; the type
  from the annotation, Literal -> a choice, bool -> ``--x/--no-x``; the help text with the
  default and range appended) and a ``--config FILE.yaml`` option, and hands the command one
  resolved config;
* :func:`resolve_config` layers a YAML file and the flags actually given on top of the
  defaults; :func:`from_mapping` rejects unknown keys, wrong types and values out of range with
  one line naming the source (file or "command line") and the key, for YAML and flags alike;
* :func:`save_config` writes the resolved config next to the outputs.

A subclass may change a default with a plain ``name: type = value``; the help text and range
of the field are inherited (looked up along the MRO).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import typing
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

import yaml

from asrkt.errors import AsrktError
from asrkt.utils.fileio import write_text_atomic

T = TypeVar("T")
PathLike = Union[str, Path]
META_KEY = "asrkt"
Number = Union[int, float]


@dataclasses.dataclass(frozen=True)
class OptionMeta:
    """What :func:`option` stores in a field's metadata.

    Args:
        help: one-line description (the default and range are appended by the CLI).
        ge / gt / le / lt: bounds (>=, >, <=, <) of a numeric value (each list item of a list).
        finite: a float must be finite (no nan, inf).
        aliases: extra flag names, e.g. ("--student",).
        flag: generate a command-line option (False: YAML only).
    """

    help: str
    ge: Optional[Number] = None
    gt: Optional[Number] = None
    le: Optional[Number] = None
    lt: Optional[Number] = None
    finite: bool = True
    aliases: Tuple[str, ...] = ()
    flag: bool = True

    @property
    def bounded(self) -> bool:
        return any(b is not None for b in (self.ge, self.gt, self.le, self.lt))

    def describe(self) -> str:
        """The range as text: '> 0', '>= 1', 'in [0, 1)'."""
        low = (f"[{_num(self.ge)}" if self.ge is not None
               else f"({_num(self.gt)}" if self.gt is not None else None)
        high = (f"{_num(self.le)}]" if self.le is not None
                else f"{_num(self.lt)})" if self.lt is not None else None)
        if low and high:
            return f"in {low}, {high}"
        if low:
            return (">= " if low[0] == "[" else "> ") + low[1:]
        if high:
            return ("<= " if high[-1] == "]" else "< ") + high[:-1]
        return ""

    def contains(self, value: Number) -> bool:
        return ((self.ge is None or value >= self.ge) and (self.gt is None or value > self.gt)
                and (self.le is None or value <= self.le) and (self.lt is None or value < self.lt))


def _num(value: Number) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def option(default: Any = dataclasses.MISSING, *, help: str,  # noqa: A002 (click's name)
           ge: Optional[Number] = None, gt: Optional[Number] = None,
           le: Optional[Number] = None, lt: Optional[Number] = None, finite: bool = True,
           aliases: Iterable[str] = (), flag: bool = True,
           default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its help text and range (use instead of ``dataclasses.field``).

    Args:
        default: the default value (or give ``default_factory`` for lists).
        help: one-line description; the CLI appends the default and the range.
        ge / gt / le / lt: bounds checked for YAML and flags alike (numbers, list items).
        finite: floats must be finite (True unless a field means something by inf/nan).
        aliases: extra flag names.
        flag: False keeps the field out of the generated click options (YAML only).
        default_factory: as in ``dataclasses.field``.

    Example::

        learning_rate: float = option(0.001, gt=0, help="Initial learning rate.")
    """
    meta = OptionMeta(help=help, ge=ge, gt=gt, le=le, lt=lt, finite=finite,
                      aliases=tuple(aliases), flag=flag)
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={META_KEY: meta})


def field_meta(cls: type, name: str) -> Optional[OptionMeta]:
    """The :class:`OptionMeta` of field ``name`` of ``cls``, from the nearest class along the
    MRO that declared it with :func:`option` (so subclasses may re-declare only the default)."""
    for klass in cls.__mro__:
        field = getattr(klass, "__dataclass_fields__", {}).get(name)
        if field is not None and META_KEY in field.metadata:
            return field.metadata[META_KEY]
    return None


def field_default(field: dataclasses.Field) -> Any:
    """A field's default value (calling its default_factory); MISSING when it has none."""
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return field.default


def _coerce(value: Any, annotation: Any, name: str, source: str) -> Any:
    """Check/convert ``value`` to the field's type (int, float, bool, str, list, Optional)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Union and type(None) in args:
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], name, source)
    if origin is typing.Literal:
        if value not in args:
            raise AsrktError(f"{source}: '{name}' must be one of {', '.join(map(str, args))}, "
                             f"got {value!r}")
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


def check_range(value: Any, meta: Optional[OptionMeta], name: str, source: str) -> None:
    """One-line error when a number (or a list item) is non-finite or out of the field's range.

    Args:
        value: the coerced value (None, bool and str pass).
        meta: the field's metadata (None: no check).
        name: the key, for the message.
        source: where the value came from ("command line", a file name), for the message.
    """
    if meta is None or value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            check_range(item, meta, name, source)
        return
    if not isinstance(value, (int, float)):
        return
    finite = not isinstance(value, float) or math.isfinite(value)
    if (meta.finite and not finite) or not meta.contains(value):
        kind = "an integer" if isinstance(value, int) else (
            "a finite number" if meta.finite else "a number")
        bound = meta.describe()
        raise AsrktError(f"{source}: '{name}' must be {kind}{' ' + bound if bound else ''}, "
                         f"got {value!r}")


def from_mapping(cls: Type[T], values: Mapping[Any, Any], source: str,
                 base: Optional[T] = None) -> T:
    """Build ``cls`` from ``base`` (or defaults) with ``values`` layered on top.

    Every value given is type-checked and range-checked (the field's :func:`option` metadata)
    here, for YAML and flags alike; then the class's ``validate()`` (cross-field checks) runs.
    Each problem is one :class:`AsrktError` line starting with ``source``.

    Args:
        cls: a dataclass type.
        values: keys to set; unknown or non-string keys are an error naming ``source``.
        source: where the values came from (a file name or "command line"), for messages.
        base: starting instance; the dataclass defaults when None (they are checked too).
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    odd = [k for k in values if not isinstance(k, str)]
    if odd:
        raise AsrktError(f"{_where(values, odd[0], source)}: keys must be option names, "
                         f"got {odd[0]!r}")
    unknown = sorted(set(values) - names)
    if unknown:
        raise AsrktError(f"{_where(values, unknown[0], source)}: unknown key(s) "
                         f"{', '.join(unknown)} (known: {', '.join(sorted(names))})")
    current = dataclasses.asdict(base) if base is not None else {}
    for key, value in values.items():
        where = _where(values, key, source)
        current[key] = _coerce(value, hints[key], key, where)
        check_range(current[key], field_meta(cls, key), key, where)
    try:
        obj = cls(**current)
    except TypeError as exc:
        raise AsrktError(f"{source}: {exc}") from None
    if base is None:
        for field in dataclasses.fields(cls):
            if field.name not in values:
                check_range(getattr(obj, field.name), field_meta(cls, field.name), field.name,
                            "defaults")
    _validate(obj, source)
    return obj


def _validate(config: Any, source: str) -> None:
    """The class's cross-field ``validate()``, its error prefixed with ``source``."""
    validate = getattr(config, "validate", None)
    if validate is not None:
        try:
            validate()
        except AsrktError as exc:
            raise AsrktError(f"{source}: {exc}") from None


def check_config(config: Any, source: str = "config") -> None:
    """Range-check every field of a config built directly (``Cls(...)``, not through
    :func:`from_mapping`) and run its ``validate()``; one :class:`AsrktError` line on failure."""
    for field in dataclasses.fields(config):
        check_range(getattr(config, field.name), field_meta(type(config), field.name),
                    field.name, source)
    _validate(config, source)


class YamlMapping(dict):
    """A YAML mapping that remembers the line of each top-level key (``lines``)."""

    lines: Dict[Any, int]


def load_yaml(path: PathLike) -> Dict[str, Any]:
    """Read a YAML mapping; a syntax error, a binary file or a non-mapping is a one-line error.

    Returns a :class:`YamlMapping`, so errors about a key can name its line.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            loader = yaml.SafeLoader(handle)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except FileNotFoundError:
        raise AsrktError(f"config file '{path}' does not exist") from None
    except UnicodeDecodeError as exc:
        raise AsrktError(f"{path}: not a UTF-8 text file (byte {exc.start}: "
                         f"{exc.object[exc.start:exc.start + 1]!r})") from None
    except OSError as exc:
        raise AsrktError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.reader.ReaderError as exc:
        raise AsrktError(f"{path}: not a text file (character {chr(exc.character)!r} at "
                         f"position {exc.position})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).replace("\n", " ")
        raise AsrktError(f"{path}{line}: invalid YAML ({problem})") from None
    if data is None:
        return YamlMapping()
    if not isinstance(data, dict):
        raise AsrktError(f"{path}: expected a mapping of option: value, got a "
                         f"{type(data).__name__}")
    result = YamlMapping(data)
    result.lines = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            result.lines.setdefault(key_node.value, key_node.start_mark.line + 1)
    return result


def _where(values: Mapping[Any, Any], key: Any, source: str) -> str:
    """``source``, with the key's line when ``values`` came from :func:`load_yaml`."""
    line = getattr(values, "lines", {}).get(str(key))
    return f"{source}:{line}" if line is not None else source


def resolve_config(cls: Type[T],
                   config_file: Union[PathLike, Sequence[PathLike], None] = None,
                   flags: Optional[Mapping[str, Any]] = None, base: Optional[T] = None) -> T:
    """defaults (or ``base``) < YAML ``config_file`` (several: each over the ones before it) <
    ``flags`` (None-valued flags are ignored).

    Args:
        cls: the config dataclass.
        config_file: optional YAML file, or a sequence of them applied in order (a later file
            sets only the fields it names: e.g. a condition's own learning rate over a shared
            config).
        flags: command-line values keyed by field name; None means "not given".
        base: start from this instance instead of the dataclass defaults.
    """
    config = base if base is not None else from_mapping(cls, {}, "defaults")
    files = [] if config_file is None else (
        [config_file] if isinstance(config_file, (str, os.PathLike)) else list(config_file))
    for path in files:
        config = from_mapping(cls, load_yaml(path), str(path), config)
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


# ---------------------------------------------------------------------------------------------
# click options generated from the dataclass (click is imported only when a CLI builds them)


def format_default(value: Any) -> str:
    """A default as the help text shows it (YAML spelling: true/false, lists comma-separated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(format_default(v) for v in value) or "''"
    return str(value)


def option_help(cls: type, field: dataclasses.Field) -> str:
    """The help text of ``field``: its :func:`option` help, then the range and the default."""
    meta = field_meta(cls, field.name)
    text = meta.help if meta is not None else ""
    extras = []
    if meta is not None and meta.bounded:
        extras.append(meta.describe())
    default = field_default(field)
    if default is not dataclasses.MISSING and default is not None:
        extras.append(f"default: {format_default(default)}")
    return f"{text} [{'; '.join(extras)}]" if extras else text


def _list_type(item: Any):
    """A click type for a comma-separated list of ``item`` ('' is the empty list)."""
    import click

    class CommaList(click.ParamType):
        name = "list"

        def convert(self, value, param, ctx):
            if isinstance(value, list):
                return value
            try:
                return [item(v.strip()) if item in (int, float) else v.strip()
                        for v in value.split(",") if v.strip()]
            except ValueError:
                kind = {int: "integers", float: "numbers"}[item]
                raise AsrktError(f"command line: {param.opts[0]} expects comma-separated "
                                 f"{kind}, got {value!r}") from None

    return CommaList()


def _click_option(cls: type, field: dataclasses.Field, annotation: Any) -> Callable:
    """One click option for ``field`` (default None: "not given", so YAML/defaults apply)."""
    import click

    meta = field_meta(cls, field.name)
    flag = "--" + field.name.replace("_", "-")
    names = [flag, *(meta.aliases if meta else ()), field.name]
    kwargs: Dict[str, Any] = {"default": None, "help": option_help(cls, field)}
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Union and type(None) in args:
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        names[0] = f"{flag}/--no-{flag[2:]}"
    elif origin is typing.Literal:
        kwargs["type"] = click.Choice([str(a) for a in args])
    elif origin in (list, tuple):
        kwargs["type"] = _list_type(args[0] if args else str)
        kwargs["metavar"] = "LIST"
    elif annotation in (int, float, str):
        kwargs["type"] = {int: click.INT, float: click.FLOAT, str: click.STRING}[annotation]
    else:
        raise TypeError(f"{cls.__name__}.{field.name}: no command-line type for {annotation}")
    return click.option(*names, **kwargs)


def config_options(cls: type, exclude: Iterable[str] = (), config_file: bool = True,
                   ) -> Callable[[Callable], Callable]:
    """Decorator: one click option per field of ``cls`` and a resolved ``config`` argument.

    Adds ``--config FILE.yaml`` (unless ``config_file`` is False) and ``--<field-name>`` for each
    field not in ``exclude`` and not declared with ``option(flag=False)``. The decorated command
    receives ``config``: an instance of ``cls`` resolved as defaults < YAML < flags (each value
    type- and range-checked by :func:`from_mapping`); the per-field arguments are consumed.

    Args:
        cls: the config dataclass (fields made with :func:`option`).
        exclude: fields without a flag on this command (YAML only).
        config_file: add the ``--config`` option.

    Example::

        @click.command("align")
        @click.argument("data_dir")
        @config_options(AlignConfig)
        def align_cmd(data_dir, config): ...
    """
    import click

    hints = typing.get_type_hints(cls)
    exclude = set(exclude)
    unknown = exclude - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"config_options({cls.__name__}): no field(s) {sorted(unknown)}")
    fields = [f for f in dataclasses.fields(cls) if f.name not in exclude
              and getattr(field_meta(cls, f.name), "flag", True)]

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            path = kwargs.pop("config_file", ()) if config_file else ()
            flags = {f.name: kwargs.pop(f.name) for f in fields}
            return func(*args, config=resolve_config(cls, path, flags), **kwargs)

        for field in reversed(fields):
            command = _click_option(cls, field, hints[field.name])(command)
        if config_file:
            command = click.option(
                "--config", "config_file", type=click.Path(exists=True, dir_okay=False),
                multiple=True, metavar="FILE",
                help=f"YAML file of {cls.__name__} fields (unknown keys are errors); given "
                     f"again, each file overrides the ones before it, and flags override "
                     f"them all.")(command)
        command.config_class = cls  # type: ignore[attr-defined]
        return command

    return decorate


def config_class(command: Any) -> Optional[type]:
    """The config dataclass behind a click command made with :func:`config_options`."""
    return getattr(getattr(command, "callback", None), "config_class", None)

