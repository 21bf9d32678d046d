"""Every command answers --help with a usage example; the README reference matches the CLI."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.cli.reference import END, START, render

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "Example:" in result.output, \
        f"'asrkt {name} --help' must show a usage line and an example"


def test_help_is_instant_no_heavy_imports():
    code = ("import sys; from asrkt.cli.main import cli; "
            "heavy = [m for m in ('torch', 'kaldi_hmm_gmm', 'kaldifst', 'kaldiio', 'numpy') "
            "if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the CLI pulls in {out.stdout.strip()}"


def test_readme_reference_matches_cli(repo_root):
    readme = (repo_root / "README.md").read_text()
    block = readme[readme.index(START):readme.index(END) + len(END)]
    assert block == render(), ("README command reference is stale: "
                               "python -m asrkt.cli.reference --write README.md")


def _backticked(text: str, start: str, end: str):
    part = text[text.index(start) + len(start):]
    return set(re.findall(r"`([a-z][a-z-]*)`", part[:part.index(end)]))


def test_readme_conventions_name_exactly_the_commands_with_a_config(repo_root):
    """The README's Conventions section lists which commands take --config (options generated
    from a config dataclass) and which have only plain flags; both lists must match the CLI."""
    from asrkt.utils.config import config_class

    readme = (repo_root / "README.md").read_text()
    with_config = _backticked(readme, "Commands with a config:", "\n  Commands with only")
    plain = _backticked(readme, "Commands with only paths and switches", ". `--nj`")
    expected = {name for name, command in cli.commands.items() if config_class(command)}
    assert with_config == expected
    assert plain == set(cli.commands) - expected
    for name in COMMANDS:
        has_config = any(p.name == "config_file" for p in cli.commands[name].params)
        assert has_config == (name in expected), name
