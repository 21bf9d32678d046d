"""The one place the k2-fsa Kaldi wheels are imported.

``kaldi_hmm_gmm`` must be imported before ``kaldifst`` and ``kaldilm`` in a process, or the
process deadlocks (measured with kaldi-hmm-gmm 1.1.4 / kaldifst 1.7.17 / kaldilm 1.15.5). Every
other module does ``from asrkt.hmm.kaldi import khg, kaldifst, kaldilm``.
"""

from __future__ import annotations

# The order of these imports is load-bearing (see the docstring): pyproject.toml exempts this
# file from import sorting.
import kaldi_hmm_gmm as khg
import kaldifst
import kaldilm

from asrkt.errors import AsrktError
from asrkt.utils.fileio import atomic_output

__all__ = ["khg", "kaldifst", "kaldilm", "read_fst", "write_fst"]


def read_fst(path) -> kaldifst.StdVectorFst:
    """Read an OpenFst binary file with a one-line error when it is missing or unreadable.

    Args:
        path: the .fst file.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: FST file does not exist")
    fst = kaldifst.StdVectorFst.read(str(path))
    if fst is None:
        raise AsrktError(f"{path}: cannot read FST (not an OpenFst vector FST?)")
    return fst


def write_fst(fst, path) -> None:
    """Write an FST atomically (temporary name, then rename).

    Args:
        fst: a kaldifst FST.
        path: final file name.
    """
    with atomic_output(path) as tmp:
        if not fst.write(str(tmp)):
            raise AsrktError(f"{path}: cannot write FST")
