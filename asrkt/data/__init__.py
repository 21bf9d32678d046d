"""Kaldi data directories: read and write (datadir, kaldi_files), validate/fix, subset, combine,
VTLN-perturbed copies (perturb) and their warp factors (warp).

Import from the modules (``asrkt.data.datadir`` ...): this package imports nothing, so the
CLI's option declarations can read ``asrkt.data.warp``'s range without loading numpy.
"""
