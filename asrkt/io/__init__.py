"""Kaldi-format I/O: audio from wav.scp entries, ark/scp tables over kaldiio."""
