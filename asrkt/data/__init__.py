"""Kaldi data directories: read, write, validate, fix, subset."""

from asrkt.data.datadir import DataDir, write_data_dir  # noqa: F401
