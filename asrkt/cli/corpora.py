"""CLI commands: corpora (see the module docstring of asrkt.cli.main for conventions)."""

COMMANDS: list = []
