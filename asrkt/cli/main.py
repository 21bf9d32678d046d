"""The ``asrkt`` command group.

Commands live in one module per area (data, feats, hmm, nnet, corpora); each module exposes a
``COMMANDS`` list. Importing them is cheap: torch, kaldiio and the Kaldi bindings are imported
inside the commands, so ``asrkt --help`` is instant.
"""

from __future__ import annotations

import sys

import click

from asrkt import __version__
from asrkt.errors import AsrktError


class AsrktGroup(click.Group):
    """Click group that turns :class:`AsrktError` into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AsrktError as exc:
            name = ctx.invoked_subcommand or ctx.info_name
            click.echo(f"asrkt {name}: error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("asrkt: interrupted", err=True)
            sys.exit(130)

    def list_commands(self, ctx):  # keep the order of the pipeline, not the alphabet
        return list(self.commands)


@click.group(cls=AsrktGroup, context_settings={"help_option_names": ["-h", "--help"],
                                               "max_content_width": 100})
@click.version_option(__version__, prog_name="asrkt")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """asrkt: hybrid NN-HMM acoustic models with knowledge-transfer pre-training.

    Each command is one step of the pipeline and passes Kaldi-format data (data dirs, ark/scp
    tables, FSTs) to the next. Run `asrkt COMMAND --help` for usage and an example.
    """
    from asrkt.utils.logs import setup_console_logging

    setup_console_logging(verbose)


def _register() -> None:
    from asrkt.cli import corpora, data, feats, hmm, nnet

    for module in (corpora, data, feats, hmm, nnet):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="asrkt")


if __name__ == "__main__":
    main()
