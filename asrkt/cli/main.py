"""The ``asrkt`` command group.

Commands live in one module per area (data, feats, hmm, nnet, corpora); each module exposes a
``COMMANDS`` list. Importing them is cheap: torch, kaldiio and the Kaldi bindings are imported
inside the commands, so ``asrkt --help`` is instant.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Optional

import click

from asrkt import __version__
from asrkt.errors import AsrktError, os_error_text


def error_line(command: Optional[str], message: str) -> str:
    """The one line every failure prints: ``asrkt <command>: error: <message>``.

    Newlines and other control characters in ``message`` (e.g. from a corrupt token) are
    escaped, so the error stays one line.
    """
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(message))
    prefix = f"asrkt {command}" if command else "asrkt"
    return f"{prefix}: error: {text}"


# click >= 8.2 raises this for a group called without arguments
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class AsrktGroup(click.Group):
    """Click group that turns :class:`AsrktError`, OSError and click's usage errors into one
    line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AsrktError as exc:
            self._fail(ctx.invoked_subcommand, str(exc))
        except OSError as exc:  # disk full, read-only or missing output location, ...
            self._fail(ctx.invoked_subcommand, os_error_text(exc))
        except KeyboardInterrupt:
            click.echo("asrkt: interrupted", err=True)
            sys.exit(130)

    def main(self, *args, **kwargs):
        """Click's usage errors (bad option values, missing paths, unknown commands) as one
        line and exit 1, like every other error (click would print usage and exit 2).

        A file-size limit (``ulimit -f``) makes writes fail with EFBIG instead of killing the
        process with SIGXFSZ, and a log file that cannot be written is not reported by a
        traceback per record: the failing command reports the error once. A process that was
        a rank of a data-parallel job ends here, with its exit status, without the interpreter's
        teardown (:func:`asrkt.nnet.distributed.leave_process`).
        """
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        logging.raiseExceptions = False
        try:
            result = self._main(*args, **kwargs)
        except SystemExit as exc:
            _leave_if_rank(exc.code)
            raise
        _leave_if_rank(0)
        return result

    def _main(self, *args, **kwargs):
        try:
            return super().main(*args, standalone_mode=False, **kwargs) or sys.exit(0)
        except _NO_ARGS_IS_HELP as exc:  # plain `asrkt`: the help, as `asrkt --help`
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            command = ctx.info_name if ctx is not None and ctx.parent is not None else None
            self._fail(command, exc.format_message())
        except click.Abort:
            click.echo("asrkt: interrupted", err=True)
            sys.exit(130)

    @staticmethod
    def _fail(command: Optional[str], message: str) -> None:
        click.echo(error_line(command, message), err=True)
        sys.exit(1)

    def list_commands(self, ctx):  # keep the order of the pipeline, not the alphabet
        return list(self.commands)


def _leave_if_rank(code) -> None:
    """A process that was a rank of a data-parallel job (torchrun) ends here with its exit
    status, without the interpreter's teardown (:func:`asrkt.nnet.distributed.leave_process`);
    any other process returns and exits normally."""
    distributed = sys.modules.get("asrkt.nnet.distributed")  # loaded only by neural commands
    if distributed is not None:
        distributed.leave_process(code if isinstance(code, int) else 0 if code is None else 1)


@click.group(cls=AsrktGroup, context_settings={"help_option_names": ["-h", "--help"],
                                               "max_content_width": 100})
@click.version_option(__version__, prog_name="asrkt")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """asrkt: hybrid NN-HMM acoustic models with knowledge-transfer pre-training.

    Each command is one step of the pipeline and passes Kaldi-format data (data dirs, ark/scp
    tables, FSTs) to the next. Run `asrkt COMMAND --help` for usage and an example.
    """
    from asrkt.kernels import choice_error
    from asrkt.utils.logs import setup_console_logging

    problem = choice_error()
    if problem:
        raise AsrktError(problem)
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
