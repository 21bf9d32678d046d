"""Pin torch's CPU kernels to one instruction set, so that a run gives the same bits on every
x86 machine with AVX2 (issue 22: the same commands gave different features and %WER on an
AVX512 machine than on an AVX2 one, up to 2.5 points on speech_commands).

torch picks its vectorised kernels (ATen: ``ATEN_CPU_CAPABILITY``), its BLAS/FFT code paths
(MKL: ``MKL_CBWR``) and its oneDNN primitives (``ONEDNN_MAX_CPU_ISA``) by the CPU it runs on;
so do numpy's ufuncs (``np.exp``/``np.log`` have AVX-512 loops that round differently from
the AVX2 machine's libm: ``NPY_DISABLE_CPU_FEATURES``) and its OpenBLAS (SkylakeX against
Haswell GEMM kernels: ``OPENBLAS_CORETYPE``), which the GMM's EM runs on (the speechocean762
GMMs differed between an AVX-512 and an AVX2 machine with torch alone pinned). Their results
differ in the last bits, which the GMM's EM and the networks' training amplify. Each is read
once, when the library loads or first uses it, so :func:`pin_cpu_kernels` has to run before
numpy and torch are imported: ``asrkt/__init__.py`` calls it, and the command line imports
torch inside its commands.

Set ``ASRKT_CPU_KERNELS=native`` to leave torch's own choice (the fastest kernels of the
machine); a variable already in the environment is never overridden.
"""

from __future__ import annotations

import os
import platform
from typing import Dict, Optional, Set

#: what each library is told under the default ``ASRKT_CPU_KERNELS=avx2`` (numpy's variable,
#: whose value depends on its version, is added by :func:`pinned_values`)
PINNED: Dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",
}


def numpy_avx512_features(version: Optional[str] = None) -> str:
    """numpy's names of its AVX-512 dispatch targets, for ``NPY_DISABLE_CPU_FEATURES``
    (read from the installed version's metadata: numpy itself must not be imported yet).
    numpy 2.4 groups them as X86_V4 (+ ICL, SPR) and ignores names it does not know; earlier
    versions name each group (SPR from 2.0) and warn at import about a name they do not
    dispatch, hence the choice by version.

    Args:
        version: numpy's version (default: the installed one; '' when it is not installed).
    """
    if version is None:
        from importlib import metadata

        try:
            version = metadata.version("numpy")
        except metadata.PackageNotFoundError:
            version = ""
    try:
        major_minor = tuple(int(x) for x in version.split(".")[:2])
    except ValueError:
        major_minor = (2, 4)
    if major_minor >= (2, 4):
        return "X86_V4 AVX512_ICL AVX512_SPR"
    groups = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"
    return groups + " AVX512_SPR" if major_minor >= (2, 0) else groups


CHOICES = ("avx2", "native")

#: the CPU flags torch's AVX2 kernels (and OpenBLAS's Haswell ones) need
AVX2_FLAGS = frozenset({"avx2", "fma"})


def choice_error(environ=None) -> Optional[str]:
    """The error line's text for an ``ASRKT_CPU_KERNELS`` that is neither avx2 nor native
    (None when it is fine); nothing was pinned for such a value."""
    env = os.environ if environ is None else environ
    value = env.get("ASRKT_CPU_KERNELS", "avx2")
    if value.strip().lower() in CHOICES:
        return None
    return (f"environment variable ASRKT_CPU_KERNELS={value!r}: use avx2 (the default: the "
            f"same results on every AVX2 machine) or native (torch's fastest kernels here)")


def numpy_avx512_active() -> Optional[bool]:
    """Whether numpy runs any of its AVX-512 loops in this process (None where its build does
    not say: ``__cpu_features__`` and ``__cpu_dispatch__`` are numpy's own, unpublished,
    tables). Only the build's dispatch targets count: ``__cpu_features__`` also lists each
    AVX-512 feature the CPU has (AVX512F, ...), which ``NPY_DISABLE_CPU_FEATURES`` leaves on
    when it turns off the target groups (numpy 2.4: X86_V4, AVX512_ICL, AVX512_SPR) that
    select the loops. Imports numpy."""
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    umath = getattr(core, "_multiarray_umath", None)
    features = getattr(umath, "__cpu_features__", None)
    if features is None:
        return None
    targets = getattr(umath, "__cpu_dispatch__", None) or list(features)
    return any(features.get(name, False) for name in targets
               if name.startswith(("AVX512", "X86_V4")))


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> Set[str]:
    """The CPU's feature flags (Linux's /proc/cpuinfo; empty elsewhere or unreadable).

    Args:
        cpuinfo: the kernel's CPU description.
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_avx2(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU's flags list avx2 and fma (what torch's AVX2 kernels need).

    Args:
        cpuinfo: the kernel's CPU description (Linux); other systems: False (nothing pinned).
    """
    return AVX2_FLAGS <= cpu_flags(cpuinfo)


def pinned_values(avx512: bool = True) -> Dict[str, str]:
    """Every variable :func:`pin_cpu_kernels` sets, with its value on this installation.

    Args:
        avx512: whether the CPU has AVX-512 (numpy's variable only there: without AVX-512 its
            AVX-512 loops never run, and numpy < 2.4 warns about disabling what is absent).
    """
    if not avx512:
        return dict(PINNED)
    return dict(PINNED, NPY_DISABLE_CPU_FEATURES=numpy_avx512_features())


def pin_cpu_kernels(environ=None, cpuinfo: str = "/proc/cpuinfo") -> Dict[str, str]:
    """Set the variables of :func:`pinned_values` in ``environ`` that are not set yet, on x86-64
    machines with AVX2, unless ``ASRKT_CPU_KERNELS`` is ``native``.

    Args:
        environ: the environment to change (default ``os.environ``).
        cpuinfo: passed to :func:`cpu_flags`.

    Returns:
        The variables this call set (empty where nothing was pinned).
    """
    env = os.environ if environ is None else environ
    if env.get("ASRKT_CPU_KERNELS", "avx2").strip().lower() != "avx2":
        return {}  # native, or a bad value that the command line reports (choice_error)
    flags = cpu_flags(cpuinfo)
    if platform.machine().lower() not in ("x86_64", "amd64") or not AVX2_FLAGS <= flags:
        return {}
    set_now = {k: v for k, v in pinned_values("avx512f" in flags).items() if k not in env}
    env.update(set_now)
    return set_now
