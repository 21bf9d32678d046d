"""asrkt/kernels.py: torch's CPU kernels are pinned to AVX2 before torch loads, so a run
gives the same bits on AVX2 and AVX512 machines; a value already set or ASRKT_CPU_KERNELS=native
is left alone, and a bad ASRKT_CPU_KERNELS is one error line."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from asrkt.kernels import (
    choice_error,
    cpu_has_avx2,
    numpy_avx512_active,
    numpy_avx512_features,
    pin_cpu_kernels,
    pinned_values,
)

PINNED = pinned_values()

X86 = platform.machine().lower() in ("x86_64", "amd64")
needs_x86 = pytest.mark.skipif(not X86, reason="kernels are pinned on x86-64 only")


@pytest.fixture
def cpuinfo(tmp_path):
    def write(flags: str) -> str:
        path = tmp_path / "cpuinfo"
        path.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n")
        return str(path)
    return write


def test_avx2_needs_both_flags(cpuinfo, tmp_path):
    assert cpu_has_avx2(cpuinfo("fpu sse2 avx avx2 fma avx512f"))
    assert not cpu_has_avx2(cpuinfo("fpu sse2 avx fma"))
    assert not cpu_has_avx2(str(tmp_path / "absent"))


@needs_x86
def test_pins_every_library_once(cpuinfo):
    env = {"MKL_CBWR": "COMPATIBLE"}
    set_now = pin_cpu_kernels(env, cpuinfo("avx avx2 fma avx512f"))
    assert env["MKL_CBWR"] == "COMPATIBLE"          # the user's own setting wins
    assert set_now == {k: v for k, v in PINNED.items() if k != "MKL_CBWR"}
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["NPY_DISABLE_CPU_FEATURES"] == numpy_avx512_features()
    env = {}                                         # no AVX-512: numpy has nothing to disable
    assert pin_cpu_kernels(env, cpuinfo("avx avx2 fma")) == env
    assert "NPY_DISABLE_CPU_FEATURES" not in env and env["OPENBLAS_CORETYPE"] == "Haswell"


def test_numpys_avx512_names_follow_its_version():
    assert numpy_avx512_features("2.4.6").split() == ["X86_V4", "AVX512_ICL", "AVX512_SPR"]
    assert numpy_avx512_features("3.0.0") == numpy_avx512_features("2.4.0")
    for old in ("1.26.4", "2.3.1"):
        names = numpy_avx512_features(old).split()
        assert "AVX512F" in names and "AVX512_SKX" in names and "X86_V4" not in names
    assert "AVX512_SPR" in numpy_avx512_features("2.0.2")
    assert "AVX512_SPR" not in numpy_avx512_features("1.26.4")   # not a target before 2.0


def test_nothing_pinned_natively_or_without_avx2(cpuinfo):
    env = {"ASRKT_CPU_KERNELS": "native"}
    assert pin_cpu_kernels(env, cpuinfo("avx avx2 fma")) == {} and set(env) == {"ASRKT_CPU_KERNELS"}
    env = {}
    assert pin_cpu_kernels(env, cpuinfo("sse2 avx")) == {} and env == {}


def test_bad_choice_pins_nothing_and_is_reported(cpuinfo):
    env = {"ASRKT_CPU_KERNELS": "avx512"}
    assert pin_cpu_kernels(env, cpuinfo("avx avx2 fma")) == {}
    assert "ASRKT_CPU_KERNELS='avx512'" in choice_error(env)
    assert choice_error({}) is None and choice_error({"ASRKT_CPU_KERNELS": "Native"}) is None
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    env["ASRKT_CPU_KERNELS"] = "avx512"
    result = subprocess.run([sys.executable, "-m", "asrkt", "validate-data-dir", "--help"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "asrkt validate-data-dir: error: " + choice_error(env)]


@needs_x86
@pytest.mark.skipif(not cpu_has_avx2(), reason="this CPU has no AVX2: nothing is pinned")
def test_torch_runs_the_pinned_kernels():
    env = {k: v for k, v in os.environ.items() if k not in PINNED and k != "ASRKT_CPU_KERNELS"}
    code = ("import os, asrkt, asrkt.kernels, torch; "
            "print(torch.backends.cpu.get_cpu_capability(), "
            "os.environ['MKL_CBWR'], os.environ['ONEDNN_MAX_CPU_ISA'], "
            "os.environ['OPENBLAS_CORETYPE'], asrkt.kernels.numpy_avx512_active())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["AVX2", "AVX2", "AVX2", "Haswell", "False"]   # no AVX-512 loop in numpy


def test_numpy_avx512_counts_only_the_dispatch_targets(monkeypatch):
    """An AVX-512 CPU with numpy's AVX-512 target groups disabled: its AVX512F... features stay
    listed as present, yet no loop of numpy runs them (found on an AMD EPYC with AVX-512)."""
    np = pytest.importorskip("numpy")
    umath = (getattr(np, "_core", None) or np.core)._multiarray_umath
    features = {"AVX2": True, "AVX512F": True, "AVX512BW": True, "X86_V4": False,
                "AVX512_ICL": False}
    monkeypatch.setattr(umath, "__cpu_features__", features, raising=False)
    monkeypatch.setattr(umath, "__cpu_dispatch__", ["X86_V3", "X86_V4", "AVX512_ICL"],
                        raising=False)
    assert numpy_avx512_active() is False
    features["X86_V4"] = True                        # a target group left on
    assert numpy_avx512_active() is True
    features["X86_V4"] = False
    monkeypatch.delattr(umath, "__cpu_dispatch__")   # a build without the table: any feature
    assert numpy_avx512_active() is True
    monkeypatch.delattr(umath, "__cpu_features__")
    assert numpy_avx512_active() is None
