"""Configuration dataclasses of the HMM commands: prepare-lang, make-word-loop, train-mono,
align, build-tree, train-deltas, train-lda-mllt.

Fields are declared with :func:`asrkt.utils.config.option` (default, help, range); the click
options of the commands are generated from them. No numpy or Kaldi imports here, so the CLI
builds its options without loading them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Optional, Set

from asrkt.errors import AsrktError
from asrkt.utils.config import option

KALDI_REALIGN_ITERS = "1 2 3 4 5 6 7 8 9 10 12 14 16 18 20 23 26 29 32 35 38"


@dataclass
class LangConfig:
    """``asrkt prepare-lang`` (utils/prepare_lang.sh options)."""

    sil_prob: float = option(0.5, ge=0, lt=1, help="Probability of optional silence between "
                                                   "words (0: none).")
    position_dependent_phones: bool = option(False, help="Word-position dependent phones "
                                                         "(_B/_E/_I/_S).")
    oov_word: Optional[str] = option(None, help="Lexicon word that unknown words map to, "
                                                "e.g. '<UNK>'.")


@dataclass
class WordLoopConfig:
    """``asrkt make-word-loop``."""

    one_word: bool = option(False, help="Accept exactly one word (start -word-> final) instead "
                                        "of any word sequence: isolated-word tasks.")


@dataclass
class AlignOptions:
    """Scales and beams of gmm-align-compiled as steps/align_si.sh / train_mono.sh use them."""

    beam: float = option(10.0, gt=0, help="Alignment beam.")
    retry_beam: float = option(40.0, gt=0, help="Beam of the second try when the first fails.")
    acoustic_scale: float = option(0.1, gt=0, help="Scale of the acoustic log-likelihoods.")
    transition_scale: float = option(1.0, ge=0, help="Scale of the transition log-probabilities.")
    self_loop_scale: float = option(0.1, ge=0, help="Scale of the self-loop log-probabilities.")
    careful: bool = option(False, help="Careful alignment: better at detecting failures "
                                       "(gmm-align-compiled --careful).")


    def align_options(self, **changes) -> AlignOptions:
        """These fields alone (of a config that extends this class), with ``changes``."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(AlignOptions)}
        return AlignOptions(**{**values, **changes})


@dataclass
class AlignConfig(AlignOptions):
    """``asrkt align`` (steps/align_si.sh)."""

    boost_silence: float = option(1.0, gt=0, help="Factor on optional-silence likelihoods.")


@dataclass
class GmmEmConfig(AlignConfig):
    """EM options that every GMM trainer shares: passes, realignment, mixing up and gmm-est's
    update (Kaldi's names and defaults)."""

    num_iters: int = option(40, ge=1, help="Training passes.")
    max_iter_inc: int = option(30, ge=0, help="Last pass that adds Gaussians.")
    totgauss: int = option(1000, ge=1, help="Target number of Gaussians.")
    realign_iters: str = option(KALDI_REALIGN_ITERS, help="Passes that realign (space separated).")
    power: float = option(0.25, ge=0, help="Exponent allocating Gaussians to states by "
                                           "occupancy.")
    min_gaussian_occupancy: float = option(10.0, ge=0, help="gmm-est: minimum occupancy to "
                                                            "update a Gaussian.")
    min_gaussian_weight: float = option(1e-5, ge=0, le=1, help="gmm-est: minimum weight of a "
                                                               "Gaussian.")
    min_variance: float = option(1e-3, gt=0, help="gmm-est: variance floor.")
    min_count: float = option(20.0, ge=0, help="Per-Gaussian count kept when splitting.")
    perturb_factor: float = option(0.01, ge=0, help="Mean perturbation when splitting.")
    transition_floor: float = option(0.01, ge=0, le=1, help="Floor of the transition "
                                                            "probabilities.")
    transition_min_count: float = option(5.0, ge=0, help="Minimum count to update a "
                                                         "transition state.")

    def validate(self) -> None:
        pass_numbers(self.realign_iters, "realign_iters")

    def realign_passes(self) -> Set[int]:
        """``realign_iters`` as a set of pass numbers."""
        return pass_numbers(self.realign_iters, "realign_iters")


def pass_numbers(text: str, name: str) -> Set[int]:
    """A space-separated list of pass numbers (``realign_iters``, ``mllt_iters``) as a set."""
    try:
        return {int(x) for x in text.split()}
    except ValueError:
        raise AsrktError(f"{name} must be integers, got {text!r}") from None


@dataclass
class GmmTrainConfig(GmmEmConfig):
    """:class:`GmmEmConfig` on delta features (train-mono, train-deltas)."""

    delta_order: int = option(2, ge=0, help="Deltas up to this order.")
    cmvn: Literal["speaker", "utterance", "none"] = option("speaker", help="Mean normalisation "
                                                                           "of the features.")


@dataclass
class TrainMonoConfig(GmmTrainConfig):
    """``asrkt train-mono``: steps/train_mono.sh options (Kaldi defaults). The alignment
    fields (:class:`AlignConfig`'s) apply to the realignments: the first with ``beam`` and
    ``retry_beam``, the later ones with ``realign_beam`` and ``realign_retry_beam``."""

    beam: float = option(6.0, gt=0, help="Beam of the first realignment (later ones: "
                                         "realign_beam).")
    retry_beam: float = option(24.0, gt=0, help="Retry beam of the first realignment.")
    realign_beam: float = option(10.0, gt=0, help="Beam of the later realignments.")
    realign_retry_beam: float = option(40.0, gt=0, help="Retry beam of the later realignments.")
    init_utts: int = option(10, ge=1, help="Utterances for the global mean/variance "
                                           "initialisation.")
    seed: int = option(0, ge=0, lt=2 ** 32, help="Offset of the equal-alignment seeds (0: "
                                                 "Kaldi's).")


@dataclass
class TreeConfig:
    """Decision-tree building: Kaldi's acc-tree-stats, cluster-phones and build-tree options
    (their names and defaults; ``num_leaves`` is build-tree's --max-leaves, which
    steps/train_deltas.sh passes as <num-leaves>)."""

    num_leaves: int = option(2000, ge=0, help="Maximum number of leaves (pdfs) of the tree "
                                              "(0: no maximum, only --thresh stops).")
    thresh: float = option(300.0, ge=0, help="Log-likelihood improvement a split must exceed.")
    cluster_thresh: float = option(-1.0, help="Leaves of one root merge while the merge "
                                              "costs at most this (negative: the smallest "
                                              "split made; 0: no clustering).")
    round_num_leaves: bool = option(True, help="Merge further leaves (the cheapest merges "
                                               "within a root first) until their number is a "
                                               "multiple of 8 (build-tree --round-num-leaves).")
    context_width: int = option(3, ge=1, help="Phone context window N (3: triphones).")
    central_position: int = option(1, ge=0, help="Position P of the central phone in the "
                                                 "window.")
    var_floor: float = option(0.01, gt=0, help="Variance floor of the statistics' Gaussian "
                                               "objective (acc-tree-stats --var-floor).")
    pdf_class_list: str = option("1", help="Pdf-classes whose statistics cluster the phones "
                                           "into questions (cluster-phones, ':'-separated).")
    kmeans_tries: int = option(10, ge=1, help="Random restarts of each 2-means split when "
                                              "clustering phones.")
    seed: int = option(0, ge=0, lt=2 ** 32, help="Seed of the 2-means initialisations.")

    def validate(self) -> None:
        if self.central_position >= self.context_width:
            raise AsrktError(f"central_position {self.central_position} must be less than "
                             f"context_width {self.context_width}")
        if self.num_leaves <= 0 and self.thresh <= 0:
            raise AsrktError("num_leaves and thresh cannot both be 0 (the tree would never "
                             "stop splitting)")
        self.pdf_classes()

    def pdf_classes(self):
        """``pdf_class_list`` as a list of integers."""
        try:
            values = [int(x) for x in self.pdf_class_list.split(":")]
        except ValueError:
            values = []
        if not values or min(values) < 0:
            raise AsrktError(f"pdf_class_list must be ':'-separated non-negative integers, "
                             f"got {self.pdf_class_list!r}")
        return values


@dataclass
class TreeTrainConfig(TreeConfig, GmmEmConfig):
    """What train-deltas and train-lda-mllt share (steps/train_deltas.sh and
    train_lda_mllt.sh defaults; their positional <num-leaves> <tot-gauss> are ``num_leaves``
    and ``totgauss``): the tree options (:class:`TreeConfig`), one Gaussian per leaf mixed up
    to ``num_leaves``, then EM with realignment on ``realign_iters`` with ``beam`` /
    ``retry_beam`` and mixing up to ``totgauss``."""

    num_iters: int = 35
    max_iter_inc: int = 25
    totgauss: int = 10000
    realign_iters: str = "10 20 30"
    init_var_floor: float = option(0.01, gt=0, help="Variance floor of the one-Gaussian "
                                                    "initialisation from the tree statistics "
                                                    "(gmm-init-model --var-floor).")
    mixup_power: float = option(0.2, ge=0, help="Exponent allocating the first mixing up "
                                                "(to num_leaves Gaussians) by occupancy "
                                                "(gmm-mixup --power).")
    seed: int = option(0, ge=0, lt=2 ** 32, help="Seed of the 2-means initialisations of the "
                                                 "phone questions and of the mean perturbation "
                                                 "of split Gaussians.")

    def validate(self) -> None:
        TreeConfig.validate(self)
        GmmEmConfig.validate(self)


@dataclass
class TrainDeltasConfig(TreeTrainConfig, GmmTrainConfig):
    """``asrkt train-deltas``: steps/train_deltas.sh options (Kaldi defaults): the tree and EM
    options of :class:`TreeTrainConfig` on delta features."""


@dataclass
class TrainLdaMlltConfig(TreeTrainConfig):
    """``asrkt train-lda-mllt``: steps/train_lda_mllt.sh options (Kaldi defaults): spliced
    features, LDA to ``dim`` from ALI_DIR's alignments, then the tree and EM options of
    :class:`TreeTrainConfig` with an MLLT update on ``mllt_iters``."""

    splice: int = option(3, ge=0, help="Context frames on each side (splice-feats "
                                       "--left-context/--right-context, as the recipes' "
                                       "--splice-opts).")
    dim: int = option(40, ge=1, help="Dimension after LDA (est-lda --dim).")
    allow_large_dim: bool = option(False, help="Allow a dim not below the number of LDA "
                                               "classes (ALI_DIR's pdfs; est-lda "
                                               "--allow-large-dim).")
    silence_weight: float = option(0.0, ge=0, help="Weight of silence-phone frames in the LDA "
                                                   "and MLLT statistics (weight-silence-post).")
    mllt_iters: str = option("2 4 6 12", help="Passes that update the MLLT (space separated).")
    cmvn: Optional[Literal["speaker", "utterance", "none"]] = option(
        None, help="Mean normalisation of the features (default: ALI_DIR's model's).")

    def validate(self) -> None:
        TreeTrainConfig.validate(self)
        pass_numbers(self.mllt_iters, "mllt_iters")

    def mllt_passes(self) -> Set[int]:
        """``mllt_iters`` as a set of pass numbers."""
        return pass_numbers(self.mllt_iters, "mllt_iters")
