"""asrkt: hybrid NN-HMM acoustic models with knowledge-transfer (KT) pre-training."""

from asrkt.kernels import pin_cpu_kernels as _pin_cpu_kernels

__version__ = "0.1.0"

# before anything imports torch: the same bits on every AVX2 machine (asrkt/kernels.py)
_pin_cpu_kernels()
