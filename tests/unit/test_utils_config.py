"""Config precedence: defaults < YAML < flags; unknown keys, wrong types and out-of-range values
rejected in one line; click options generated from the dataclass fields (type, default, help)."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import List, Literal, Optional

import click
import pytest
from click.testing import CliRunner

from asrkt.errors import AsrktError
from asrkt.utils.config import (
    check_config,
    config_class,
    config_options,
    field_meta,
    format_default,
    from_mapping,
    load_config,
    option,
    option_help,
    resolve_config,
    save_config,
)


@dataclass
class Cfg:
    lr: float = 0.1
    epochs: int = 3
    kind: Literal["a", "b"] = "a"
    seed: Optional[int] = None
    shuffle: bool = True


def test_precedence(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 0.5\nepochs: 7\n")
    cfg = resolve_config(Cfg, tmp_path / "c.yaml", {"epochs": 9, "kind": None})
    assert (cfg.lr, cfg.epochs, cfg.kind) == (0.5, 9, "a")
    save_config(cfg, tmp_path / "saved.yaml")
    assert load_config(Cfg, tmp_path / "saved.yaml") == cfg


@pytest.mark.parametrize("text,match", [
    ("lrr: 1\n", "unknown key.*lrr"),
    ("epochs: two\n", "epochs' must be an integer"),
    ("kind: c\n", "kind' must be one of a, b"),
    ("shuffle: 1\n", "shuffle' must be true or false"),
    ("lr: [1\n", "invalid YAML"),
    ("- 1\n", "expected a mapping"),
])
def test_rejections_name_the_file(tmp_path, text, match):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(AsrktError, match=match) as info:
        resolve_config(Cfg, tmp_path / "c.yaml")
    assert "c.yaml" in str(info.value)


def test_flags_are_type_checked():
    with pytest.raises(AsrktError, match="command line: 'lr' must be a number"):
        resolve_config(Cfg, None, {"lr": "fast"})


# --- options generated from the dataclass (asrkt.utils.config.option / config_options) --------



@dataclass
class Opts:
    rate: float = option(0.5, gt=0, le=1, help="A rate.")
    count: int = option(3, ge=1, help="A count.", aliases=("--n",))
    kind: Literal["a", "b"] = option("a", help="A kind.")
    shuffle: bool = option(True, help="Shuffle.")
    limit: Optional[int] = option(None, ge=0, help="A limit (default: none).")
    sizes: List[int] = option(default_factory=lambda: [2, 4], ge=1, help="Sizes.")
    hidden: float = option(1.5, finite=False, flag=False, help="YAML only.")


@dataclass
class SubOpts(Opts):
    rate: float = 0.25  # only the default changes; help and range are inherited


def _command(cls=Opts):
    @click.command()
    @config_options(cls)
    def command(config):
        click.echo(repr(config))
    return command


def _param(command, name):
    return next(p for p in command.params if p.name == name)


def test_generated_options_type_default_help():
    command = _command()
    assert [p.name for p in command.params] == ["config_file", "rate", "count", "kind", "shuffle",
                                                "limit", "sizes"]  # flag=False: no option
    rate, count, kind = (_param(command, n) for n in ("rate", "count", "kind"))
    assert rate.opts == ["--rate"] and rate.type is click.FLOAT and rate.default is None
    assert rate.help == "A rate. [in (0, 1]; default: 0.5]"
    assert count.opts == ["--count", "--n"] and count.type is click.INT
    assert count.help == "A count. [>= 1; default: 3]"
    assert isinstance(kind.type, click.Choice) and list(kind.type.choices) == ["a", "b"]
    shuffle = _param(command, "shuffle")
    assert shuffle.is_flag and shuffle.secondary_opts == ["--no-shuffle"]
    assert shuffle.default is None
    assert _param(command, "limit").help == "A limit (default: none). [>= 0]"
    assert _param(command, "sizes").help == "Sizes. [>= 1; default: 2,4]"
    # a subclass changes the default only; help and range come from the parent's declaration
    sub = _param(_command(SubOpts), "rate")
    assert sub.help == "A rate. [in (0, 1]; default: 0.25]"
    assert field_meta(SubOpts, "rate") is field_meta(Opts, "rate")
    assert config_class(command) is Opts


def test_generated_command_precedence(tmp_path):
    command = _command()
    default = CliRunner().invoke(command, [])
    assert default.exit_code == 0 and default.output.strip() == repr(Opts())
    (tmp_path / "c.yaml").write_text("rate: 0.75\ncount: 5\nshuffle: false\nhidden: .inf\n")
    result = CliRunner().invoke(command, ["--config", str(tmp_path / "c.yaml"), "--n", "7",
                                          "--sizes", "8,9", "--kind", "b"])
    assert result.exit_code == 0, result.output
    expected = Opts(rate=0.75, count=7, kind="b", shuffle=False, sizes=[8, 9], hidden=math.inf)
    assert result.output.strip() == repr(expected)
    again = CliRunner().invoke(command, ["--config", str(tmp_path / "c.yaml"), "--shuffle"])
    assert "shuffle=True" in again.output and "rate=0.75" in again.output



def test_a_second_config_file_overrides_the_first_field_by_field(tmp_path):
    """--config twice: the second file sets only what it names over the first, flags override
    both; an error in the second names that file and line."""
    command = _command()
    (tmp_path / "c.yaml").write_text("rate: 0.75\ncount: 5\n")
    (tmp_path / "quarter.yaml").write_text("# the condition's own\nrate: 0.25\n")
    both = CliRunner().invoke(command, ["--config", str(tmp_path / "c.yaml"),
                                        "--config", str(tmp_path / "quarter.yaml")])
    assert both.exit_code == 0, both.output
    assert both.output.strip() == repr(Opts(rate=0.25, count=5))
    flag = CliRunner().invoke(command, ["--config", str(tmp_path / "c.yaml"),
                                        "--config", str(tmp_path / "quarter.yaml"),
                                        "--rate", "0.5"])
    assert flag.output.strip() == repr(Opts(rate=0.5, count=5))
    (tmp_path / "bad.yaml").write_text("rate: 0.25\nrate_typo: 1\n")
    with pytest.raises(AsrktError, match="bad.yaml:2"):
        resolve_config(Opts, [tmp_path / "c.yaml", tmp_path / "bad.yaml"])
    assert resolve_config(Opts, tmp_path / "c.yaml") == Opts(rate=0.75, count=5)

def test_excluded_fields_are_yaml_only(tmp_path):
    @click.command()
    @config_options(Opts, exclude=("count", "sizes"))
    def command(config):
        click.echo(repr(config))

    assert {p.name for p in command.params} == {"config_file", "rate", "kind", "shuffle", "limit"}
    assert CliRunner().invoke(command, ["--count", "4"]).exit_code == 2  # no such option
    (tmp_path / "c.yaml").write_text("count: 4\n")
    result = CliRunner().invoke(command, ["--config", str(tmp_path / "c.yaml")])
    assert "count=4" in result.output
    with pytest.raises(TypeError, match="no field"):
        config_options(Opts, exclude=("nope",))


@pytest.mark.parametrize("values, match", [
    ({"rate": math.nan}, r"^command line: 'rate' must be a finite number in \(0, 1\], got nan$"),
    ({"rate": math.inf}, r"'rate' must be a finite number in \(0, 1\], got inf$"),
    ({"rate": 0}, r"'rate' must be a finite number in \(0, 1\], got 0.0$"),
    ({"count": 0}, r"^command line: 'count' must be an integer >= 1, got 0$"),
    ({"limit": -1}, r"'limit' must be an integer >= 0, got -1$"),
    ({"sizes": [3, 0]}, r"'sizes' must be an integer >= 1, got 0$"),
])
def test_ranges_are_checked(values, match):
    with pytest.raises(AsrktError, match=match):
        from_mapping(Opts, values, "command line")


@pytest.mark.parametrize("content, match", [
    (b"count: 2\nrate: -1\n", r"c.yaml:2: 'rate' must be a finite number in \(0, 1\], got -1.0"),
    (b"rate: .nan\n", r"c.yaml:1: 'rate' must be a finite number"),
    (b"1: 2\n", r"c.yaml:1: keys must be option names, got 1"),
    (b"\xff\xfe\x00r\x00a", r"c.yaml: not a UTF-8 text file"),
    (b"rate: 0.5\n\x00\x01\n", r"c.yaml: not a text file"),
    (b"- rate\n- 0.5\n", r"c.yaml: expected a mapping of option: value, got a list"),
    (b"count: 2\nratte: 0.5\n", r"c.yaml:2: unknown key\(s\) ratte"),
])
def test_bad_yaml_is_one_line_error(tmp_path, content, match):
    (tmp_path / "c.yaml").write_bytes(content)
    with pytest.raises(AsrktError, match=match) as info:
        resolve_config(Opts, tmp_path / "c.yaml")
    assert "\n" not in str(info.value)


def test_bad_flags_through_the_command_are_one_line_errors(tmp_path):
    from asrkt.cli.main import AsrktGroup

    group = AsrktGroup(commands={"cmd": _command()})
    result = CliRunner().invoke(group, ["cmd", "--rate", "nan"])
    assert result.exit_code == 1
    assert result.output == "asrkt cmd: error: command line: 'rate' must be a finite number in " \
                            "(0, 1], got nan\n"
    result = CliRunner().invoke(group, ["cmd", "--sizes", "1,x"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "--sizes expects comma-separated integers, got '1,x'" in result.output


def test_check_config_for_direct_construction():
    check_config(Opts())
    with pytest.raises(AsrktError, match=r"^config: 'count' must be an integer >= 1, got -2$"):
        check_config(Opts(count=-2))


def _command_configs():
    from asrkt.cli.main import cli

    return {name: config_class(command) for name, command in cli.commands.items()
            if config_class(command) is not None}


def _all_config_classes():
    from asrkt.feats.pipeline import PipelineConfig
    from asrkt.nnet.config import ModelSpec

    return set(_command_configs().values()) | {PipelineConfig, ModelSpec}


def test_every_numeric_field_of_every_config_has_a_range():
    import typing

    commands = _command_configs()
    for name in ("prepare-lang", "train-mono", "align", "make-graph", "decode", "decode-nnet",
                 "make-feats", "pretrain-rbm", "train-teacher", "dump-posteriors", "kt-pretrain",
                 "finetune", "forward", "eval-frames", "synth-digits"):
        assert name in commands, f"{name} has no config class"
    for cls in _all_config_classes():
        check_config(cls(), f"{cls.__name__} defaults")
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            meta = field_meta(cls, field.name)
            assert meta is not None and meta.help, f"{cls.__name__}.{field.name}: use option()"
            numeric = {int, float} & {hints[field.name], *typing.get_args(hints[field.name])}
            if numeric and numeric != {float}:
                assert meta.bounded, f"{cls.__name__}.{field.name}: integer without a range"
            if float in numeric:
                assert meta.bounded or meta.finite, f"{cls.__name__}.{field.name}: no check"


def test_help_shows_the_dataclass_defaults():
    """Every generated option's help (as `asrkt CMD --help` prints it) carries the default and
    range of its dataclass field; e.g. align's beam and finetune's learning rate."""
    from asrkt.cli.main import cli
    from asrkt.hmm.config import AlignConfig
    from asrkt.nnet.config import FinetuneConfig, TeacherConfig

    squash = lambda text: re.sub(r"\s+", "", text)  # noqa: E731 (click wraps help text)
    for name, cls in _command_configs().items():
        output = squash(CliRunner().invoke(cli, [name, "--help"]).output)
        for field in dataclasses.fields(cls):
            if field_meta(cls, field.name).flag:
                assert squash(option_help(cls, field)) in output, (name, field.name)
    align = squash(CliRunner().invoke(cli, ["align", "--help"]).output)
    assert squash(f"Alignment beam. [> 0; default: {format_default(AlignConfig().beam)}]") in align
    for command, cls in (("train-teacher", TeacherConfig), ("finetune", FinetuneConfig)):
        output = squash(CliRunner().invoke(cli, [command, "--help"]).output)
        assert squash(f"default: {cls().learning_rate}]") in output
    assert TeacherConfig().learning_rate != FinetuneConfig().learning_rate


def test_model_spec_is_derived_from_the_training_config():
    from asrkt.nnet.config import FinetuneConfig, ModelSpec, StudentConfig, TrainConfig

    spec_fields = [f.name for f in dataclasses.fields(ModelSpec)]
    assert set(spec_fields) <= {f.name for f in dataclasses.fields(TrainConfig)}
    assert issubclass(TrainConfig, ModelSpec)
    student = StudentConfig(hidden_dim=64)
    spec = ModelSpec.from_config(student)
    assert type(spec) is ModelSpec and spec.model == "lstm" and spec.hidden_dim == 64
    assert spec.to_dict() == {n: getattr(student, n) for n in spec_fields}
    assert ModelSpec.from_config(FinetuneConfig()) == ModelSpec.from_config(StudentConfig())
    # final.pt files written before the field was renamed store it as "name"
    old = {"name": "gru", "num_layers": 1, "hidden_dim": 8, "proj_dim": 0, "splice": 0,
           "target_delay": 2, "dropout": 0.0}
    assert ModelSpec.from_dict(old) == ModelSpec("gru", 1, 8, 0, 0, 2, 0.0)
    assert ModelSpec.from_dict(old).name == "gru"
