"""HMM side: lang directories, grammars, monophone GMM training and alignment.

Every module that needs the Kaldi bindings imports them from :mod:`asrkt.hmm.kaldi`, which
imports ``kaldi_hmm_gmm`` before ``kaldifst``/``kaldilm`` (the other order deadlocks).
"""
