"""Decoding through HCLG of per-frame pdf log-likelihoods, from a GMM or a neural net.

Both paths reduce to a [T, num_pdfs] log-likelihood matrix. Every decode is one bounded lattice
search per utterance (asrkt.decode.lattice: LatticeFasterDecoder's beam, max-active, min-active
and lattice beam): one LM weight searches at acoustic scale 1/LMWT and takes the best path; a
sweep of LM weights (score.sh's) searches once at ``acoustic_scale`` (Kaldi's --acwt) and takes
each weight's best path from that lattice (what lattice-scale --inv-acoustic-scale=LMWT +
lattice-best-path give). kaldi-hmm-gmm's LatticeFasterDecoder, Kaldi's own one-best search, is
kept as the reference that tests and scripts/compare_sweep.py check the search against.

Output: DECODE_DIR/scoring/<LMWT>.txt (word hypotheses per utterance, Kaldi text format)
and DECODE_DIR/log/decode.log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import iter_lines, write_map
from asrkt.decode.config import DecodeConfig
from asrkt.decode.lattice import LatticeSearch, load_graph
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import FeaturePipeline
from asrkt.hmm.align import tid_matrix
from asrkt.hmm.kaldi import khg, read_fst
from asrkt.hmm.lang import read_symbol_table
from asrkt.hmm.model import GmmModel
from asrkt.io.tables import as_rspecifier, load_scp, read_scp_entry, read_table
from asrkt.utils.config import save_config
from asrkt.utils.parallel import check_stop, limit_threads, run_jobs, split_evenly

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.decode")


class Decoder:
    """Decodes pdf log-likelihood matrices with one HCLG and transition model.

    Args:
        graph_dir: directory with HCLG.fst and words.txt.
        model: the transition model's owner (GmmModel).
        config: decoder options.
    """

    def __init__(self, graph_dir: PathLike, model: GmmModel, config: DecodeConfig):
        self.graph_dir = Path(graph_dir)
        self.model = model
        self.config = config
        tids = self.graph_dir / "num_transition_ids"
        if tids.is_file() and tids.read_text().strip() != str(model.tm.num_transition_ids):
            raise AsrktError(f"{self.graph_dir}: graph built for a model with "
                             f"{tids.read_text().strip()} transition-ids, this model has "
                             f"{model.tm.num_transition_ids} (rebuild it with make-graph)")
        graph = load_graph(self.graph_dir / "HCLG.fst")
        self.id2word = {i: w for w, i in read_symbol_table(self.graph_dir / "words.txt").items()}
        self.tid2pdf = model.tid2pdf()
        try:
            self.search = LatticeSearch(graph, self.tid2pdf, config.beam, config.max_active,
                                        config.min_active, config.lattice_beam)
        except AsrktError as exc:
            raise AsrktError(f"{self.graph_dir}: {exc}") from None
        self._kaldi_decoder = None

    def checked(self, utt: str, pdf_loglikes: np.ndarray) -> np.ndarray:
        """The [T, num_pdfs] log-likelihoods as float32, checked (shape, finite)."""
        if pdf_loglikes.ndim != 2 or pdf_loglikes.shape[1] != self.model.num_pdfs:
            raise AsrktError(f"utterance '{utt}': log-likelihoods have shape "
                             f"{tuple(pdf_loglikes.shape)}, the model has "
                             f"{self.model.num_pdfs} pdfs")
        if not np.all(np.isfinite(pdf_loglikes)):
            raise AsrktError(f"utterance '{utt}': log-likelihoods contain NaN or inf")
        return np.ascontiguousarray(pdf_loglikes, dtype=np.float32)

    def _words(self, ids) -> List[str]:
        return [self.id2word.get(w, f"<unk:{w}>") for w in ids]

    def decode(self, utt: str, pdf_loglikes: np.ndarray, scales: Sequence[float],
               interrupt: Optional[Callable[[], None]] = None) -> Optional[List[List[str]]]:
        """Best word sequence at each acoustic scale, from one search.

        One scale: the search runs at that scale (Kaldi's one-best at 1/LMWT). Several: it runs
        at ``config.acoustic_scale`` and each scale's best path is taken from its lattice.

        Args:
            utt: utterance id.
            pdf_loglikes: [T, num_pdfs] log-likelihoods.
            scales: acoustic scales (1/LMWT).
            interrupt: called every 16 frames (an exception it raises stops the search).

        Returns:
            One word list per scale, or None when decoding failed.
        """
        if not scales:
            raise AsrktError("no acoustic scale to decode at")
        search_scale = scales[0] if len(scales) == 1 else self.config.acoustic_scale
        try:
            paths = self.search.best_paths(self.checked(utt, pdf_loglikes), search_scale,
                                           scales, self.config.allow_partial, interrupt)
        except RuntimeError as exc:   # the search's own invariants (a bug, not the input)
            raise AsrktError(f"utterance '{utt}': internal decoder error: {exc}") from None
        if paths is None or any(p is None for p in paths):
            return None
        return [self._words(p.words) for p in paths]

    def kaldi_decode(self, utt: str, pdf_loglikes: np.ndarray, acoustic_scale: float
                     ) -> Tuple[Optional[List[str]], List[int]]:
        """Kaldi's own one-best search (kaldi-hmm-gmm's LatticeFasterDecoder, same options):
        the reference that :meth:`decode` is checked against.

        Args:
            utt: utterance id.
            pdf_loglikes: [T, num_pdfs] log-likelihoods.
            acoustic_scale: scale applied to them.

        Returns:
            (words or None when decoding failed, transition-id alignment).
        """
        mat = tid_matrix(self.checked(utt, pdf_loglikes), self.tid2pdf, acoustic_scale)
        if mat.shape[0] == 0:
            return None, []
        if self._kaldi_decoder is None:
            opts = khg.LatticeFasterDecoderConfig(
                beam=self.config.beam, max_active=self.config.max_active,
                min_active=self.config.min_active, lattice_beam=self.config.lattice_beam)
            self._fst = read_fst(self.graph_dir / "HCLG.fst")
            self._kaldi_decoder = khg.LatticeFasterDecoder(self._fst, opts)
        ok, alignment, words, _ = khg.decode_utterance_lattice_faster(
            self._kaldi_decoder, khg.DecodableCtc(mat), self.model.tm, utt,
            self.config.allow_partial)
        if not ok:
            return None, []
        return self._words(words), list(alignment)


_JOB: dict = {}


def _decode_job(job: int, utts: List[str], tick: Callable[[int], None]
                ) -> Dict[str, Dict[str, List[str]]]:
    decoder = Decoder(_JOB["graph_dir"], _JOB["model"], _JOB["config"])
    weights = _JOB["config"].weights()
    out: Dict[str, Dict[str, List[str]]] = {name: {} for name, _ in weights}
    scales = [scale for _, scale in weights]
    failed = []
    for utt, loglikes in _JOB["source"](utts):
        # check_stop: a SIGTERM (parent dead, another job failed) stops even a long utterance
        hyps = decoder.decode(utt, loglikes, scales, interrupt=check_stop)
        if hyps is None:
            failed.append(utt)
            hyps = [[] for _ in weights]
        for (name, _), words in zip(weights, hyps, strict=True):
            out[name][utt] = words
        tick(1)
    if failed:
        logger.warning("no final state reached / decoding failed for %d utterance(s) (e.g. %s); "
                       "empty hypotheses written", len(failed), failed[0])
    return out


def run_decode(graph_dir: PathLike, model: GmmModel, utts: List[str],
               source: Callable[[List[str]], Iterator[Tuple[str, np.ndarray]]],
               decode_dir: PathLike, config: DecodeConfig, nj: int = 1
               ) -> Dict[str, Dict[str, List[str]]]:
    """Decode ``utts`` (``nj`` forked jobs) and write DECODE_DIR/scoring/<LMWT>.txt.

    Args:
        graph_dir: directory with HCLG.fst and words.txt.
        model: the model whose transition-ids the graph uses.
        utts: utterances to decode.
        source: yields (utt, [T, num_pdfs] log-likelihoods) for a list of utterances.
        decode_dir: output directory.
        config: decoder options.
        nj: parallel jobs.

    Returns:
        LMWT -> utterance -> words.
    """
    if not utts:
        raise AsrktError("no utterances to decode (empty test set)")
    limit_threads(1)
    decode_dir = Path(decode_dir)
    (decode_dir / "scoring").mkdir(parents=True, exist_ok=True)
    save_config(config, decode_dir / "config.yaml")
    Decoder(graph_dir, model, config)  # fail early on a bad graph dir
    _JOB.update(graph_dir=graph_dir, model=model, config=config, source=source)
    try:
        parts = run_jobs(_decode_job, split_evenly(utts, nj), len(utts), "decode")
    finally:
        _JOB.clear()
    merged: Dict[str, Dict[str, List[str]]] = {name: {} for name, _ in config.weights()}
    for part in parts:
        for name, hyps in part.items():
            merged[name].update(hyps)
    for name, hyps in merged.items():
        write_map(decode_dir / "scoring" / f"{name}.txt", {u: " ".join(w) for u, w in hyps.items()})
    logger.info("decoded %d utterances at %d LM weight(s) -> %s", len(utts), len(merged),
                decode_dir / "scoring")
    return merged


def gmm_source(model: GmmModel, data_dir: PathLike,
               pipeline: Union[PathLike, FeaturePipeline]):
    """Log-likelihood source for :func:`run_decode` from a GMM and a data dir's features.

    Args:
        model: the GMM.
        data_dir: data dir with feats.scp (and cmvn.scp when the pipeline uses speaker CMN).
        pipeline: the feature pipeline, or its feature_pipeline.yaml saved at training time.
    """
    if not isinstance(pipeline, FeaturePipeline):
        pipeline = FeaturePipeline.load(pipeline)
    data = DataDir(data_dir)

    def source(utts: List[str]) -> Iterator[Tuple[str, np.ndarray]]:
        for utt, feats in pipeline.iter_features(data, utts):
            yield utt, model.pdf_loglikes(feats, utt)

    return source


def table_source(rspecifier: str):
    """Log-likelihood source reading a matrix table (ark/scp) of [T, num_pdfs] log-likelihoods.

    Args:
        rspecifier: Kaldi rspecifier or .scp/.ark path.
    """
    rspec = as_rspecifier(rspecifier)
    path = rspec.split(":", 1)[1]

    def source(utts: List[str]) -> Iterator[Tuple[str, np.ndarray]]:
        if rspec.split(":", 1)[0].split(",")[0] == "scp":
            loader = load_scp(path)
            for utt in utts:
                yield utt, np.asarray(read_scp_entry(loader, utt, path, "matrix"), dtype=np.float32)
        else:
            wanted = set(utts)
            for utt, mat in read_table(rspec, "matrix"):
                if utt in wanted:
                    yield utt, np.asarray(mat, dtype=np.float32)

    return source


def table_keys(rspecifier: str) -> List[str]:
    """Keys of a table (scp: from the file; ark: by reading it)."""
    rspec = as_rspecifier(rspecifier)
    kind, path = rspec.split(":", 1)
    if kind.split(",")[0] == "scp":
        return [key for _, key, _ in iter_lines(path)]
    return [key for key, _ in read_table(rspec)]
