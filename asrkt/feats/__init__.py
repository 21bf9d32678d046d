"""Features: Kaldi-compatible fbank/MFCC extraction, CMVN statistics, the FeaturePipeline."""
