"""asrkt: hybrid NN-HMM acoustic models with knowledge-transfer (KT) pre-training."""

__version__ = "0.1.0"
