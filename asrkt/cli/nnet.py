"""CLI commands: nnet (see the module docstring of asrkt.cli.main for conventions)."""

COMMANDS: list = []
