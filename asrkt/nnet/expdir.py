"""The experiment directory every training command shares (train-teacher, kt-pretrain,
finetune, pretrain-rbm): ``config.yaml`` checked on ``--resume``, the hyperparameters at the top
of the log, and the feature pipeline fitted from the config's feature options.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
from asrkt.utils.config import load_config, save_config

logger = logging.getLogger("asrkt.nnet")


def prepare_exp_dir(exp_dir: Path, config: Any, resume: bool) -> None:
    """Create EXP_DIR, check a resumed run's config, save ``config.yaml``.

    Args:
        exp_dir: the experiment directory.
        config: the resolved config.
        resume: continue from the checkpoints (the config must match the saved one, except
            ``device``, ``num_threads`` and ``dist_timeout``); without it, old checkpoints are
            removed.
    """
    exp_dir.mkdir(parents=True, exist_ok=True)
    saved = exp_dir / "config.yaml"
    if resume and saved.exists():
        old = load_config(type(config), saved)
        diffs = [f.name for f in dataclasses.fields(config)
                 if f.name not in ("device", "num_threads", "dist_timeout")
                 and getattr(old, f.name) != getattr(config, f.name)]
        if diffs:
            raise AsrktError(f"--resume: the config differs from {saved} in {', '.join(diffs)}; "
                             f"remove {exp_dir} to start again with the new config")
    elif not resume and (exp_dir / "checkpoints").exists():
        logger.warning("%s: removing checkpoints of an earlier run (use --resume to continue it)",
                       exp_dir)
        shutil.rmtree(exp_dir / "checkpoints")
    save_config(config, saved)


def log_hyperparameters(config: Any, extra: Dict[str, Any]) -> None:
    """All hyperparameters and inputs at the top of the log.

    Args:
        config: the resolved config (a dataclass).
        extra: inputs of the run (paths, flags) logged after the config's fields.
    """
    extra = {k: str(v) if isinstance(v, Path) else v for k, v in extra.items()}
    text = yaml.safe_dump({**dataclasses.asdict(config), **extra}, sort_keys=False)
    logger.info("hyperparameters and inputs:\n  %s", text.strip().replace("\n", "\n  "))


def new_pipeline(config: Any, data_dir: DataDir,
                 utterances: Optional[List[str]] = None) -> FeaturePipeline:
    """A feature pipeline from the config's feature options, fitted on ``utterances``.

    Args:
        config: a config with ``cmvn``, ``norm_vars``, ``delta_order`` and ``global_norm``.
        data_dir: the training data directory.
        utterances: the utterances to fit the global normalisation on (default: all).
    """
    pipeline = FeaturePipeline(PipelineConfig(
        cmvn=config.cmvn, norm_vars=config.norm_vars, delta_order=config.delta_order, splice=0,
        global_norm=config.global_norm))
    return pipeline.fit(data_dir, utterances)
