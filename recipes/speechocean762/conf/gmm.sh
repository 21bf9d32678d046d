# The GMM sizes and LM-weight sweep of the recipe, sourced by run.sh (whose options --mono-gauss,
# --tri1-leaves, ... override them) and by local/kaldi_anchor.sh (the Kaldi anchor trains the same
# sizes and is scored over the same weights).
mono_gauss=1000         # train-mono --totgauss (train_mono.sh's default)
tri1_leaves=500         # train-deltas --num-leaves / --totgauss (chosen on dev: DEV_STUDY_gmm.md)
tri1_gauss=4000
tri2_leaves=500         # train-lda-mllt --num-leaves / --totgauss (chosen on dev: DEV_STUDY_gmm_tri2.md)
tri2_gauss=4000
# The 25% condition's triphone sizes (run.sh --conditions quarter: 474 utterances, about 0.7 h of
# speech; --quarter-tri1-leaves ...), its own since a quarter of the data supports fewer
# parameters; mono_gauss is shared. Both chosen on dev (DEV_STUDY_gmm_quarter.md): tri1 150:1000
# against 100:800 ... 500:4000, then tri2 150:1000 against 100:800 and 250:2000 on that tri1.
quarter_tri1_leaves=150
quarter_tri1_gauss=1000
quarter_tri2_leaves=150
quarter_tri2_gauss=1000
# The GMMs' LM-weight sweep (asrkt decode --min-lmwt/--max-lmwt; the tables take each GMM's
# lowest-dev-WER weight): 7..25 as the dev studies swept, since tri2's best dev weight is 18
# (DEV_STUDY_gmm_tri2.md: 58.07 at 18, 58.26 at 17) and the quarter's tri1 study's best is 17
# of 7..25, beyond or at the end of asrkt decode's default 7..17.
gmm_min_lmwt=7
gmm_max_lmwt=25
