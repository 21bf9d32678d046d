"""The neural side: DNN teacher (optionally from stacked RBMs), soft targets, recurrent students
pre-trained by knowledge transfer (Tang et al. 2015), fine-tuning, and hybrid forwarding.

Modules: ``models/`` (registry of acoustic models), ``rbm`` (CD-1 stacked RBMs), ``losses``
(hard CE, soft-target KT loss), ``corpus`` (features + targets in memory), ``loaders`` (frame
shuffling; chunked multistream BPTT), ``trainer`` (the one training loop: newbob, CV, checkpoints,
resume, logs), ``expdir`` (config.yaml, resume check, feature pipeline of a training run),
``dbn`` (pretrain-rbm), ``steps`` (train-teacher/kt-pretrain/finetune), ``modelio``
(self-contained ``final.pt``), ``targets``/``posteriors``/``priors``.
"""
