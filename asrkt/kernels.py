"""Pin torch's CPU kernels to one instruction set, so that a run gives the same bits on every
x86 machine with AVX2 (issue 22: the same commands gave different features and %WER on an
AVX512 machine than on an AVX2 one, up to 2.5 points on speech_commands).

torch picks its vectorised kernels (ATen: ``ATEN_CPU_CAPABILITY``), its BLAS/FFT code paths
(MKL: ``MKL_CBWR``) and its oneDNN primitives (``ONEDNN_MAX_CPU_ISA``) by the CPU it runs on,
and their results differ in the last bits, which the GMM's EM and the networks' training amplify.
Each is read once, when torch first uses it, so :func:`pin_cpu_kernels` has to run before torch
is imported: ``asrkt/__init__.py`` calls it, and the command line imports torch inside its
commands.

Set ``ASRKT_CPU_KERNELS=native`` to leave torch's own choice (the fastest kernels of the
machine); a variable already in the environment is never overridden.
"""

from __future__ import annotations

import os
import platform
from typing import Dict, Optional

#: what each library is told under the default ``ASRKT_CPU_KERNELS=avx2``
PINNED: Dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


CHOICES = ("avx2", "native")


def choice_error(environ=None) -> Optional[str]:
    """The error line's text for an ``ASRKT_CPU_KERNELS`` that is neither avx2 nor native
    (None when it is fine); nothing was pinned for such a value."""
    env = os.environ if environ is None else environ
    value = env.get("ASRKT_CPU_KERNELS", "avx2")
    if value.strip().lower() in CHOICES:
        return None
    return (f"environment variable ASRKT_CPU_KERNELS={value!r}: use avx2 (the default: the "
            f"same results on every AVX2 machine) or native (torch's fastest kernels here)")


def cpu_has_avx2(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU's flags list avx2 and fma (what torch's AVX2 kernels need).

    Args:
        cpuinfo: the kernel's CPU description (Linux); other systems: False (nothing pinned).
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return {"avx2", "fma"} <= flags
    except OSError:
        pass
    return False


def pin_cpu_kernels(environ=None, cpuinfo: str = "/proc/cpuinfo") -> Dict[str, str]:
    """Set the variables of :data:`PINNED` in ``environ`` that are not set yet, on x86-64
    machines with AVX2, unless ``ASRKT_CPU_KERNELS`` is ``native``.

    Args:
        environ: the environment to change (default ``os.environ``).
        cpuinfo: passed to :func:`cpu_has_avx2`.

    Returns:
        The variables this call set (empty where nothing was pinned).
    """
    env = os.environ if environ is None else environ
    if env.get("ASRKT_CPU_KERNELS", "avx2").strip().lower() != "avx2":
        return {}  # native, or a bad value that the command line reports (choice_error)
    if platform.machine().lower() not in ("x86_64", "amd64") or not cpu_has_avx2(cpuinfo):
        return {}
    set_now = {k: v for k, v in PINNED.items() if k not in env}
    env.update(set_now)
    return set_now
