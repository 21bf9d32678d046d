"""Forced alignment (gmm-align-compiled), equal alignment, ali-to-pdf/phones and pdf counts.

Training graphs are compiled without transition probabilities (Kaldi's compile-train-graphs:
transition and self-loop scale 0); the current model's probabilities are added to a copy of
the graph at alignment time (transition scale 1.0, self-loop scale 0.1), and acoustic
likelihoods come from a [T, num_transition_ids] matrix through DecodableCtc.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.hmm.config import AlignOptions
from asrkt.hmm.kaldi import kaldifst, khg, read_fst
from asrkt.hmm.kaldi_model import check_model_lang, model_pipeline
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import GmmModel
from asrkt.io.tables import (
    ArkScpWriter,
    read_kaldi_text_vector,
    read_table,
    write_kaldi_text_vector,
)
from asrkt.utils.config import save_config
from asrkt.utils.fileio import atomic_output
from asrkt.utils.parallel import limit_threads, run_jobs, split_evenly

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.align")
# the files of a GMM model dir that an ALI_DIR copies so it serves as a model dir (final.mat,
# splice_opts and cmvn_opts: an LDA+MLLT model's; delta_opts and phones.txt: a Kaldi model dir's,
# as steps/align_si.sh copies them)
MODEL_FILES = ("final.mdl", "final.npz", "tree", "feature_pipeline.yaml", "final.mat",
               "splice_opts", "cmvn_opts", "delta_opts", "phones.txt")


def graph_compiler(model: GmmModel, lang: Lang):
    """A TrainingGraphCompiler over lang/L.fst with scales 0 (no probabilities in the graphs).

    Args:
        model: supplies the transition model and tree.
        lang: the lang dir (L.fst, phones/disambig.int).
    """
    lex = read_fst(lang.path / "L.fst")
    kaldifst.arcsort(lex, sort_type="olabel")
    opts = khg.TrainingGraphCompilerOptions(transition_scale=0.0, self_loop_scale=0.0)
    return khg.TrainingGraphCompiler(model.tm, model.tree, lex, lang.disambig_phones, opts)


def compile_graphs(compiler, transcripts: Dict[str, List[int]]
                   ) -> Tuple[Dict[str, object], List[str]]:
    """Compile one training graph per utterance; empty transcripts and failures are skipped.

    Args:
        compiler: from :func:`graph_compiler`.
        transcripts: utterance -> word ids.

    Returns:
        (utterance -> graph, names of utterances whose graph could not be built).
    """
    graphs, failed = {}, []
    for utt, word_ids in transcripts.items():
        if not word_ids:
            failed.append(utt)
            continue
        fst = compiler.compile_graph_from_text(word_ids)
        if fst.num_states == 0:
            failed.append(utt)
            continue
        graphs[utt] = fst
    return graphs, failed


def equal_align(graph, num_frames: int, seed: int = 0) -> Optional[List[int]]:
    """align-equal-compiled: a random path of the graph spread evenly over the frames.

    Args:
        graph: training graph.
        num_frames: number of frames.
        seed: random seed for the path choice.

    Returns:
        transition-ids per frame, or None when the utterance is too short for the graph.
    """
    ok, path = kaldifst.equal_align(graph, num_frames, seed, 10)
    if not ok:
        return None
    ok, isyms, _, _ = kaldifst.get_linear_symbol_sequence(path)
    if not ok or len(isyms) != num_frames:
        return None
    return list(isyms)


def tid_matrix(pdf_loglikes: np.ndarray, tid2pdf: np.ndarray, scale: float) -> np.ndarray:
    """Gather pdf log-likelihoods to transition-ids: [T, num_tids], column j = tid j+1.

    Args:
        pdf_loglikes: [T, num_pdfs].
        tid2pdf: pdf of each transition-id (index 0 unused).
        scale: acoustic scale applied to the values.
    """
    return np.ascontiguousarray(scale * pdf_loglikes[:, tid2pdf[1:]], dtype=np.float32)


def align_utterance(model: GmmModel, graph, pdf_loglikes: np.ndarray, opts: AlignOptions,
                    utt: str) -> Tuple[Optional[List[int]], float]:
    """Viterbi-align one utterance against its training graph.

    Args:
        model: the acoustic model (its transition probabilities are added to a graph copy).
        graph: training graph without probabilities.
        pdf_loglikes: [T, num_pdfs] log-likelihoods (already boosted if wanted).
        opts: beams and scales.
        utt: utterance id.

    Returns:
        (transition-ids per frame or None when alignment failed, log-likelihood).
    """
    fst = graph.copy()
    khg.add_transition_probs(model.tm, [], opts.transition_scale, opts.self_loop_scale, fst)
    decodable = khg.DecodableCtc(tid_matrix(pdf_loglikes, model.tid2pdf(), opts.acoustic_scale))
    config = khg.AlignConfig(beam=opts.beam, retry_beam=opts.retry_beam, careful=opts.careful)
    _, num_error, _, like, _, alignment, _ = khg.align_utterance_wrapper(
        config, utt, opts.acoustic_scale, fst, decodable, 0, 0, 0, 0.0, 0)
    if num_error or len(alignment) != pdf_loglikes.shape[0]:
        return None, 0.0
    return list(alignment), float(like)


def ali_to_pdf(model: GmmModel, alignment: Sequence[int]) -> np.ndarray:
    """pdf-id per frame (ali-to-pdf)."""
    return model.tid2pdf()[np.asarray(alignment, dtype=np.int64)].astype(np.int32)


def ali_to_phones(model: GmmModel, alignment: Sequence[int], per_frame: bool = False) -> np.ndarray:
    """Phone sequence of an alignment (ali-to-phones), or the phone of each frame.

    Args:
        model: gives the transition model.
        alignment: transition-ids.
        per_frame: one phone per frame (ali-to-phones --per-frame) instead of one per phone.
    """
    tids = np.asarray(alignment, dtype=np.int64)
    phones = model.tid2phone()[tids].astype(np.int32)
    if per_frame:
        return phones
    # Alignments from reordered graphs (Kaldi's default) enter each HMM state through its
    # forward transition, self-loops follow; so a phone starts with a non-self-loop transition
    # out of HMM state 0 (as SplitToPhones for reordered alignments).
    tm = model.tm
    n = tm.num_transition_ids
    start = np.array([False] + [tm.transition_ids_is_start_of_phone(t) and not tm.is_self_loop(t)
                                for t in range(1, n + 1)])
    starts = np.flatnonzero(start[tids])
    if len(tids) and (not len(starts) or starts[0] != 0):
        starts = np.concatenate([[0], starts])
    return phones[starts]


def convert_alignments(model_dir: PathLike, ali_rspecifier: str, out_ark: PathLike,
                       convert: Callable[[GmmModel, np.ndarray], np.ndarray]) -> int:
    """Convert every alignment of a table and write the results as int32 vectors.

    Args:
        model_dir: the model dir (final.mdl) the alignments were made with.
        ali_rspecifier: table of transition-id alignments (``scp:ali.scp``, ``ark:ali.ark``).
        out_ark: output archive; the matching ``.scp`` is written beside it.
        convert: (model, transition-ids) -> converted vector, e.g. :func:`ali_to_pdf`.

    Returns:
        The number of utterances written.
    """
    model = GmmModel.load(model_dir)
    out_ark = Path(out_ark)
    count = 0
    with ArkScpWriter(out_ark, out_ark.with_suffix(".scp")) as writer:
        for utt, ali in read_table(ali_rspecifier, "int-vector"):
            ali = np.asarray(ali).astype(np.int64)
            if ali.ndim != 1 or (len(ali) and (ali.min() < 1
                                               or ali.max() > model.tm.num_transition_ids)):
                raise AsrktError(f"{ali_rspecifier} ({utt}): not transition-ids of this model "
                                 f"(1..{model.tm.num_transition_ids})")
            writer.write(utt, convert(model, ali).astype(np.int32))
            count += 1
    return count


def write_pdf_alignments(model_dir: PathLike, ali_rspecifier: str, out_ark: PathLike) -> int:
    """Kaldi's ali-to-pdf over a table: pdf-id per frame into OUT_ARK + .scp.

    Args:
        model_dir: the model dir the alignments were made with.
        ali_rspecifier: table of transition-id alignments.
        out_ark: output archive (the .scp is written beside it).

    Returns:
        The number of utterances written.
    """
    return convert_alignments(model_dir, ali_rspecifier, out_ark, ali_to_pdf)


def write_phone_alignments(model_dir: PathLike, ali_rspecifier: str, out_ark: PathLike,
                           per_frame: bool = False) -> int:
    """Kaldi's ali-to-phones over a table: phone ids (one per phone, or per frame) into OUT_ARK.

    Args:
        model_dir: the model dir the alignments were made with.
        ali_rspecifier: table of transition-id alignments.
        out_ark: output archive (the .scp is written beside it).
        per_frame: one phone per frame instead of one per phone.

    Returns:
        The number of utterances written.
    """
    return convert_alignments(model_dir, ali_rspecifier, out_ark,
                              lambda model, ali: ali_to_phones(model, ali, per_frame))


def pdf_counts(model: GmmModel, alignments: Sequence[Sequence[int]]) -> np.ndarray:
    """Frames per pdf over all alignments (for priors of a hybrid model)."""
    counts = np.zeros(model.num_pdfs, dtype=np.float64)
    tid2pdf = model.tid2pdf()
    for ali in alignments:
        counts += np.bincount(tid2pdf[np.asarray(ali, dtype=np.int64)], minlength=model.num_pdfs)
    return counts


def read_pdf_counts(path: PathLike) -> np.ndarray:
    """Read ALI_DIR/pdf_counts (Kaldi text vector ``[ c0 c1 ... ]``) as a float64 array.

    Args:
        path: the counts file.
    """
    if not Path(path).is_file():
        raise AsrktError(f"{path}: pdf counts file does not exist (run 'asrkt align')")
    return read_kaldi_text_vector(path)


_JOB: dict = {}


def _align_data_job(job: int, utts: List[str], tick) -> Dict[str, Optional[List[int]]]:
    model, graphs, opts, source, boost = (_JOB["model"], _JOB["graphs"], _JOB["opts"],
                                          _JOB["source"], _JOB["boost"])
    out: Dict[str, Optional[List[int]]] = {}
    for utt, feats in source(utts):
        ll = model.pdf_loglikes(feats, utt)
        if boost is not None:
            ll[:, boost[0]] += boost[1]
        out[utt], _ = align_utterance(model, graphs[utt], ll, opts, utt)
        tick(1)
    return out


def align_data(data_dir: PathLike, lang_dir: PathLike, model_dir: PathLike, ali_dir: PathLike,
               opts: Optional[AlignOptions] = None, boost_silence: float = 1.0,
               nj: int = 1) -> Tuple[int, List[str]]:
    """Align a data dir with a trained model (steps/align_si.sh).

    Writes ALI_DIR/ali.ark+ali.scp (transition-ids, Kaldi int vectors), pdf_counts (Kaldi text
    vector of frames per pdf), and copies of the model (final.mdl/npz, tree,
    feature_pipeline.yaml, final.mat of an LDA+MLLT model: :data:`MODEL_FILES`) so ALI_DIR
    serves as a model dir.

    Args:
        data_dir: data dir with features and text.
        lang_dir: lang dir (L.fst).
        model_dir: model dir from train-mono.
        ali_dir: output directory.
        opts: beams and scales (align_si.sh defaults when None).
        boost_silence: factor on optional-silence likelihoods.
        nj: parallel jobs.

    Returns:
        (number aligned, utterances that failed).
    """
    import shutil

    limit_threads(1)
    opts = opts or AlignOptions()
    data, lang = DataDir(data_dir), Lang(lang_dir)
    model_dir, ali_dir = Path(model_dir), Path(ali_dir)
    model = GmmModel.load(model_dir)
    check_model_lang(model, lang, model_dir)
    pipeline = model_pipeline(model_dir, model)
    utts = data.utterances
    if not utts:
        raise AsrktError(f"{data.path}: no utterances to align")
    transcripts = lang.map_transcripts({u: data.text.get(u, []) for u in utts}, data.file("text"))
    graphs, failed = compile_graphs(graph_compiler(model, lang), transcripts)
    boost = None
    if boost_silence != 1.0:
        pdfs = sorted(set(khg.get_pdfs_for_phones(model.tm, [lang.optional_silence])[1]))
        boost = (pdfs, float(np.log(boost_silence)))

    def source(subset):
        return pipeline.iter_features(data, subset)

    _JOB.update(model=model, graphs=graphs, opts=opts, source=source, boost=boost)
    todo = [u for u in utts if u in graphs]
    try:
        parts = run_jobs(_align_data_job, split_evenly(todo, nj), len(todo), "align")
    finally:
        _JOB.clear()
    result = {k: v for part in parts for k, v in part.items()}
    failed += [u for u, a in result.items() if a is None]
    good = {u: a for u, a in result.items() if a is not None}
    if not good:
        raise AsrktError(f"alignment failed for all {len(utts)} utterances of {data.path}")
    if failed:
        logger.warning("could not align %d utterance(s), left out: %s", len(failed),
                       " ".join(failed[:20]))
    ali_dir.mkdir(parents=True, exist_ok=True)
    save_config(opts, ali_dir / "config.yaml")
    with ArkScpWriter(ali_dir / "ali.ark", ali_dir / "ali.scp") as writer:
        for utt in sorted(good, key=lambda u: u.encode("utf-8")):
            writer.write(utt, np.asarray(good[utt], dtype=np.int32))
    write_kaldi_text_vector(ali_dir / "pdf_counts", pdf_counts(model, good.values()))
    if ali_dir.resolve() != model_dir.resolve():
        for name in MODEL_FILES:
            src = model_dir / name
            if src.is_file():
                with atomic_output(ali_dir / name) as tmp:
                    shutil.copyfile(src, tmp)
    return len(good), failed


def model_pipeline_path(model_dir: PathLike) -> Path:
    """``MODEL_DIR/feature_pipeline.yaml`` of a GMM model dir; an error naming it when missing.

    Args:
        model_dir: a model dir from train-mono (or an ALI_DIR, which carries a copy).
    """
    model_dir = Path(model_dir)
    path = model_dir / "feature_pipeline.yaml"
    if not path.is_file():
        raise AsrktError(f"{path}: missing (the model dir should come from 'asrkt train-mono')")
    return path
