"""Decoding: HCLG graphs (``make-graph``), Viterbi decoding of GMM or neural-net likelihoods
(``decode``, ``decode-nnet``) and WER scoring (``score``)."""
