"""Kaldi data directories: read and write (datadir, kaldi_files), validate/fix, subset, combine,
VTLN-perturbed copies (perturb) and their warp factors (warp)."""

from asrkt.data.datadir import DataDir, write_data_dir  # noqa: F401
