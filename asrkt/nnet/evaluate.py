"""``asrkt eval-frames``: frame cross-entropy and accuracy of a trained model on any data
directory with pdf alignments, as Kaldi's ``nnet-train-frmshuff --cross-validate=true``.

Used to see how well a model generalises beyond its own CV set, e.g. to a held-out speaker
(align the held-out data with the GMM first: ``asrkt align`` + ``ali-to-pdf``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import torch

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.nnet.config import resolve_device
from asrkt.nnet.corpus import TargetSource, check_target_values, report_skipped
from asrkt.nnet.inference import iter_logits
from asrkt.nnet.modelio import load_model, resolve_model_path
from asrkt.nnet.targets import PdfAlignments
from asrkt.utils.fileio import write_text_atomic

logger = logging.getLogger("asrkt.nnet")
PathLike = Union[str, Path]


def evaluate_frames(model_path: PathLike, data_dir: PathLike, ali_dir: PathLike,
                    device: str = "auto", tolerance: int = 5, max_skip_fraction: float = 0.1,
                    out: Optional[PathLike] = None) -> Dict[str, Any]:
    """Frame-level CE (nats per frame) and accuracy of a model against pdf alignments.

    The model sees whole utterances (as in ``forward``); frames are paired with alignments as
    in training: utterances without an alignment or whose length differs by more than
    ``tolerance`` frames are skipped and named in the log, both cut to the shorter otherwise.

    Besides the totals, the result has ``utt_acc`` (frame accuracy per utterance) and
    ``mean_error_run`` (mean length of the runs of consecutive misclassified frames: how
    clustered in time the errors are).

    Args:
        model_path: model file or EXP_DIR.
        data_dir: data directory with features.
        ali_dir: alignment directory with pdf.scp/pdf.ark (``ali-to-pdf``) and pdf_counts.
        device: 'auto', 'cpu', 'cuda'.
        tolerance: allowed |alignment frames - feature frames|.
        max_skip_fraction: fail when more than this fraction of utterances is skipped.
        out: optional JSON file for the result (written atomically).
    """
    dev = resolve_device(device)
    loaded = load_model(model_path, dev)
    data = DataDir(data_dir)
    alignments = PdfAlignments(ali_dir)
    if alignments.num_pdfs != loaded.model.num_pdfs:
        raise AsrktError(f"{ali_dir}: alignments have {alignments.num_pdfs} pdfs, model "
                         f"{resolve_model_path(model_path)} has {loaded.model.num_pdfs}")
    # alignments read per utterance: memory bounded by forward's read-ahead, not the corpus
    sources = {"pdf": TargetSource(alignments.lazy(), str(alignments.table))}
    total_ce, correct, frames, runs, run_frames = 0.0, 0, 0, 0, 0
    per_utt: Dict[str, float] = {}
    skipped: List[Tuple[str, str]] = []
    for utt, logits in iter_logits(loaded, data, dev, "eval-frames"):
        values = {"pdf": sources["pdf"].values[utt]} if utt in sources["pdf"].values else {}
        length, reason = check_target_values(utt, logits.shape[0], sources, values, tolerance)
        if not length:
            skipped.append((utt, reason or "no frames"))
            continue
        target = torch.from_numpy(values["pdf"][:length]).to(dev)
        logits = logits[:length].float()
        total_ce += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
        hits = logits.argmax(-1) == target
        correct += int(hits.sum())
        frames += length
        per_utt[utt] = float(hits.float().mean())
        wrong = (~hits).to(torch.int8)
        runs += int(wrong[0]) + int((wrong[1:] - wrong[:-1] == 1).sum())  # error runs starting
        run_frames += int(wrong.sum())
    report_skipped(skipped, len(data.utterances), max_skip_fraction, "evaluation", data)
    result = {"model": str(resolve_model_path(model_path)), "data": str(data.path),
              "ali": str(ali_dir), "utterances": len(data.utterances) - len(skipped),
              "skipped": len(skipped), "frames": frames, "ce": total_ce / frames,
              "frame_acc": correct / frames,
              "mean_error_run": run_frames / runs if runs else 0.0, "utt_acc": per_utt}
    logger.info("%s on %s: %d frames, CE %.4f, frame accuracy %.2f%%", result["model"],
                data.path, frames, result["ce"], 100 * result["frame_acc"])
    if out is not None:
        write_text_atomic(Path(out), json.dumps(result, indent=1) + "\n")
    return result
