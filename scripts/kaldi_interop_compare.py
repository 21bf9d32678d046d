"""Comparisons for scripts/kaldi_interop.sh: asrkt's tables against what Kaldi's binaries wrote.

Every subcommand prints one line ``PASS <what>: <detail>`` or ``FAIL <what>: <detail>`` and exits
0 or 1. Tables are read with asrkt's own readers (asrkt.io), so a check also proves that asrkt
reads the Kaldi file.

Usage: python scripts/kaldi_interop_compare.py <subcommand> [args]
  tables A B [--rtol R] [--atol A] [--kind K]   same keys, same shapes, values within tolerance
  hyps   A B                                    word hypotheses (Kaldi text) equal per utterance
  posts  SCP TEXT_ARK                           our Posterior table == copy-post's text output
  kaldi-conf YAML WAV_SCP OUT                   a Kaldi --config file from make-feats' saved YAML
  oracle PDF_RSPEC NUM_PDFS OUT_ARK             log-likelihoods 0 on the aligned pdf, -100 elsewhere
  text-int TEXT WORDS_TXT OUT                   transcripts as word ids (utils/sym2int.pl)
  counts A B [--offset X]                       pdf counts (Kaldi text vectors): A == B + X
  same-weights A B                              two final.pt hold the same network weights
  wer-equal A B                                 two '%WER x.xx ...' lines agree in their numbers
  wer-within A B MAX                            two '%WER' lines (files or strings) within MAX
  treeacc TREEACC DATA LANG ALI_DIR [--write-kaldi OUT]
                                                Kaldi's acc-tree-stats output == asrkt's statistics
                                                from ALI_DIR's alignments, event by event
  treeacc-files A B                             two Kaldi treeacc files hold the same statistics
  em-likes KALDI_LOG_DIR ASRKT_LOG MAX          per EM pass, Kaldi's gmm-acc-stats-ali likelihood
                                                per frame (acc.X.1.log) within MAX of asrkt's
  build-tree TREEACC QUESTIONS LANG TREE LOG --num-leaves N
                                                asrkt's build_tree on Kaldi's statistics, questions
                                                and lang roots == Kaldi's tree and build-tree log
  matrices A B [--rtol R] [--up-to-sign]        two Kaldi matrix files equal row by row (an LDA
                                                row's sign is arbitrary: --up-to-sign)
  lda-est ACC MAT LOG [--dim N] [--rtol R]      asrkt's estimate_lda on acc-lda's (text)
                                                statistics == est-lda's matrix and log
  mllt-stats MACC LOG DATA LANG MODEL_DIR ALI_DIR [--rtol R]
                                                gmm-acc-mllt's (text) statistics and log ==
                                                asrkt's accumulate_mllt with the same model
  mllt-est MACC MAT LOG [--rtol R]              asrkt's estimate_mllt on gmm-acc-mllt's
                                                statistics == est-mllt's transform and log
  gmm-est ACC MODEL_IN MODEL_OUT TREE --mix-up N [--power 0.25] [--min-count 20] [--rtol 1e-4]
                                                asrkt's estimate (update, Gaussian removal,
                                                mixing up without perturbation) on gmm-sum-accs
                                                --binary=false's statistics and MODEL_IN ==
                                                gmm-est --perturb-factor=0's MODEL_OUT: the
                                                Gaussians of every pdf, weights and means
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List

import numpy as np
import yaml

from asrkt.data.datadir import DataDir
from asrkt.errors import AsrktError
from asrkt.feats.pipeline import read_matrix
from asrkt.hmm.config import TreeConfig
from asrkt.hmm.kaldi_model import model_pipeline
from asrkt.hmm.lang import Lang
from asrkt.hmm.lda_mllt import accumulate_mllt, estimate_lda, estimate_mllt, weighted_frames
from asrkt.hmm.model import GmmModel
from asrkt.hmm.train_mono import TrainMonoConfig, estimate, load_corpus
from asrkt.hmm.tree import Tree, build_tree, compile_questions, map_rows, read_int_sets
from asrkt.hmm.tree_dir import accumulate_from_dirs, lang_roots
from asrkt.hmm.tree_stats import TreeStats
from asrkt.io.posterior import read_posteriors
from asrkt.io.tables import read_kaldi_text_vector, read_table

# make-feats keys that are asrkt's own (not compute-*-feats options)
_NOT_KALDI = {"type"}


def _report(ok: bool, what: str, detail: str) -> int:
    print(f"{'PASS' if ok else 'FAIL'} {what}: {detail}")
    return 0 if ok else 1


def compare_tables(a: str, b: str, rtol: float, atol: float, kind: str) -> int:
    """Same keys and shapes; max |a-b| <= atol + rtol*max|b| per utterance.

    Args:
        a, b: rspecifiers (``scp:...``/``ark:...``) or paths.
        rtol, atol: tolerance, relative to the utterance's largest magnitude, and absolute.
        kind: asrkt.io reader kind ("matrix", "vector", "int-vector") or "" (any).
    """
    ta = dict(read_table(a, kind or None))
    tb = dict(read_table(b, kind or None))
    what = f"{a} vs {b}"
    if set(ta) != set(tb):
        return _report(False, what, f"keys differ ({len(set(ta) ^ set(tb))} not in both)")
    worst, worst_key, ok = 0.0, "", True
    for key, x in ta.items():
        y = tb[key]
        if x.shape != y.shape:
            return _report(False, what, f"{key}: shape {x.shape} vs {y.shape}")
        if x.size == 0:
            continue
        scale = float(np.max(np.abs(y)))
        diff = float(np.max(np.abs(x.astype(np.float64) - y)))
        ok = ok and diff <= atol + rtol * scale
        if diff / (scale or 1.0) > worst:
            worst, worst_key = diff / (scale or 1.0), key
    return _report(ok, what, f"{len(ta)} entries, largest difference {worst:.3g} relative "
                             f"to the entry's max |value| ({worst_key or '-'})")


def _read_hyps(path: str) -> Dict[str, List[str]]:
    hyps = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts:
            hyps[parts[0]] = parts[1:]
    return hyps


def compare_hyps(a: str, b: str) -> int:
    """Equal word sequences for every utterance (Kaldi text files)."""
    ha, hb = _read_hyps(a), _read_hyps(b)
    keys = sorted(set(ha) | set(hb))
    differ = [k for k in keys if ha.get(k) != hb.get(k)]
    return _report(not differ, f"{a} vs {b}",
                   f"{len(keys) - len(differ)} of {len(keys)} utterances equal"
                   + (f" (first difference {differ[0]}: {ha.get(differ[0])} vs {hb.get(differ[0])})"
                      if differ else ""))


def compare_posts(scp: str, text_ark: str) -> int:
    """Our Posterior table (asrkt's reader) equals copy-post's text output, pair by pair."""
    ours = dict(read_posteriors(f"scp:{scp}"))
    theirs = dict(read_posteriors(f"ark:{text_ark}"))  # the checked reader reads text Posteriors
    if set(ours) != set(theirs):
        return _report(False, f"{scp} vs {text_ark}", "keys differ")
    frames = 0
    for key, post in ours.items():
        a, b = post.to_pairs(), theirs[key].to_pairs()
        same = len(a) == len(b) and all(
            [i for i, _ in fa] == [i for i, _ in fb]
            and np.allclose([w for _, w in fa], [w for _, w in fb], rtol=0, atol=1e-5)
            for fa, fb in zip(a, b, strict=True))
        if not same:
            return _report(False, f"{scp} vs {text_ark}", f"{key}: pairs differ")
        frames += post.ids.shape[0]
    return _report(True, f"{scp} vs {text_ark}",
                   f"{len(ours)} utterances, {frames} frames, same (pdf, weight) pairs")


def kaldi_conf(yaml_path: str, wav_scp: str, out: str) -> int:
    """Write compute-{fbank,mfcc}-feats options from make-feats' resolved config.

    asrkt takes the sample frequency from the audio when ``sample_frequency`` is unset; Kaldi
    needs it as an option (default 16000, a mismatch is an error), so it is read from the first
    file of WAV_SCP (a plain path entry) then.
    """
    import wave

    cfg = yaml.safe_load(Path(yaml_path).read_text())
    if cfg.get("sample_frequency") is None:
        first = Path(wav_scp).read_text().split("\n", 1)[0].split()
        with wave.open(first[1]) as handle:
            cfg["sample_frequency"] = float(handle.getframerate())
    lines = []
    for key, value in cfg.items():
        if key in _NOT_KALDI or value is None:
            continue
        if isinstance(value, bool):
            value = str(value).lower()
        if cfg.get("type") == "fbank" and key in ("num_ceps", "cepstral_lifter"):
            continue
        if cfg.get("type") == "mfcc" and key == "use_log_fbank":
            continue
        lines.append(f"--{key.replace('_', '-')}={value}")
    Path(out).write_text("\n".join(lines) + "\n")
    return 0


def oracle(pdf_rspec: str, num_pdfs: int, out_ark: str) -> int:
    """Log-likelihoods that make each frame's aligned pdf certain (0) and the others -100."""
    import kaldiio

    with kaldiio.WriteHelper(f"ark:{out_ark}") as writer:
        for key, pdfs in read_table(pdf_rspec, "int-vector"):
            mat = np.full((len(pdfs), num_pdfs), -100.0, dtype=np.float32)
            mat[np.arange(len(pdfs)), pdfs] = 0.0
            writer(key, mat)
    return 0


def text_int(text: str, words_txt: str, out: str) -> int:
    """Transcripts as integer word ids (utils/sym2int.pl; unknown words are an error)."""
    ids = dict(line.split() for line in Path(words_txt).read_text().splitlines() if line.strip())
    lines = []
    for line in Path(text).read_text().splitlines():
        parts = line.split()
        lines.append(" ".join([parts[0]] + [ids[w] for w in parts[1:]]))
    Path(out).write_text("\n".join(lines) + "\n")
    return 0


def compare_counts(a: str, b: str, offset: float) -> int:
    """pdf counts A == B + offset (Kaldi text vectors: analyze-counts --binary=false, asrkt's
    pdf_counts; analyze-counts adds half a frame to every count)."""
    va, vb = read_kaldi_text_vector(a), read_kaldi_text_vector(b)
    ok = va.shape == vb.shape and np.array_equal(va, vb + offset)
    return _report(ok, f"{a} vs {b}", f"{va.size} vs {vb.size} pdfs, {va.sum():g} vs "
                                      f"{vb.sum():g} frames, A == B + {offset:g}: {ok}")


def same_weights(a: str, b: str) -> int:
    """Two asrkt models (final.pt) have identical network weights (priors may differ)."""
    import torch

    sa = torch.load(a, map_location="cpu", weights_only=False)["state_dict"]
    sb = torch.load(b, map_location="cpu", weights_only=False)["state_dict"]
    ok = sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    return _report(ok, f"{a} vs {b}", f"{len(sa)} tensors, "
                                      f"{'identical' if ok else 'different'} weights")


def wer_equal(a: str, b: str) -> int:
    """Two '%WER x.xx [ e / n, ...' lines (files or strings) agree in WER and counts."""
    na, nb = _wer_numbers(a), _wer_numbers(b)
    return _report(bool(na) and na == nb, "WER", f"{na} vs {nb} ([WER, errors, words])")


def _wer_numbers(s: str) -> List[str]:
    s = Path(s).read_text() if Path(s).is_file() else s
    m = re.search(r"%WER\s+([\d.]+)\s*\[\s*(\d+)\s*/\s*(\d+)", s)
    return list(m.groups()) if m else []


def wer_within(a: str, b: str, limit: float) -> int:
    """Two '%WER' lines (files or strings) whose WERs differ by at most ``limit`` absolute."""
    na, nb = _wer_numbers(a), _wer_numbers(b)
    ok = bool(na) and bool(nb) and abs(float(na[0]) - float(nb[0])) <= limit
    detail = (f"%WER {na[0]} vs {nb[0]} (difference {abs(float(na[0]) - float(nb[0])):.2f}, "
              f"limit {limit:g})" if na and nb else f"{na} vs {nb}")
    return _report(ok, "WER", detail)


def _stats_by_event(stats: TreeStats) -> Dict[tuple, int]:
    return {tuple(int(v) for v in row): i for i, row in enumerate(stats.events)}


def _compare_stats(ta: TreeStats, tb: TreeStats, what: str, rtol: float) -> int:
    """Same events; counts and sums within ``rtol`` of each event's largest magnitude."""
    ea, eb = _stats_by_event(ta), _stats_by_event(tb)
    if set(ea) != set(eb):
        only_a, only_b = sorted(set(ea) - set(eb)), sorted(set(eb) - set(ea))
        return _report(False, what, f"{len(ea)} vs {len(eb)} events; {len(only_a)} only in the "
                                    f"first (e.g. {only_a[:1]}), {len(only_b)} only in the "
                                    f"second (e.g. {only_b[:1]})")
    if ta.dim != tb.dim:
        return _report(False, what, f"dimension {ta.dim} vs {tb.dim}")
    ia = np.array([ea[k] for k in sorted(ea)])
    ib = np.array([eb[k] for k in sorted(ea)])
    sa, sb = ta.stacked()[ia], tb.stacked()[ib]
    scale = np.maximum(np.max(np.abs(sb), axis=1), 1e-30)
    worst = float(np.max(np.abs(sa - sb).max(axis=1) / scale))
    counts_equal = np.allclose(sa[:, 0], sb[:, 0], rtol=1e-9, atol=0)
    ok = worst <= rtol and counts_equal and np.float32(ta.var_floor) == np.float32(tb.var_floor)
    return _report(ok, what, f"{len(ea)} events, {sa[:, 0].sum():.0f} frames, counts "
                             f"{'equal' if counts_equal else 'differ'}, largest difference of "
                             f"the sums {worst:.3g} relative to the event's largest value, "
                             f"var-floor {ta.var_floor:g} vs {tb.var_floor:g}")


def compare_treeacc(kaldi: str, data: str, lang: str, ali_dir: str, write_kaldi: str,
                    rtol: float = 1e-6) -> int:
    """Kaldi's acc-tree-stats output == asrkt's statistics (accumulate_from_dirs with the
    ci-phones of the lang dir) from the same alignments; optionally write asrkt's in Kaldi's
    format (TreeStats.write_kaldi) for sum-tree-stats to read."""
    config = TreeConfig()
    theirs = TreeStats.read_kaldi(kaldi, config.context_width, config.central_position)
    ours = accumulate_from_dirs(data, lang, ali_dir, config)
    if write_kaldi:
        ours.write_kaldi(write_kaldi)
    return _compare_stats(ours, theirs, f"asrkt vs {kaldi}", rtol)


def compare_treeacc_files(a: str, b: str, rtol: float = 1e-6) -> int:
    """Two Kaldi treeacc files (e.g. sum-tree-stats of asrkt's) hold the same statistics."""
    return _compare_stats(TreeStats.read_kaldi(a), TreeStats.read_kaldi(b), f"{a} vs {b}", rtol)


def compare_em_likes(kaldi_log_dir: str, asrkt_log: str, limit: float) -> int:
    """The Gaussian log-likelihood per frame of every EM pass: gmm-acc-stats-ali's ``Overall avg
    like per frame (Gaussian only)`` in KALDI_LOG_DIR/acc.X.1.log against asrkt's
    ``pass X...: avg log-like per frame`` lines; the largest difference at most ``limit``."""
    ours = {int(m.group(1)): float(m.group(2)) for m in re.finditer(
        r"pass (\d+)[^:\n]*: avg log-like per frame (\S+)", Path(asrkt_log).read_text())}
    theirs = {}
    for path in Path(kaldi_log_dir).glob("acc.*.1.log"):
        m = re.search(r"Overall avg like per frame \(Gaussian only\) = (\S+)", path.read_text())
        if m:
            theirs[int(path.name.split(".")[1])] = float(m.group(1))
    common = sorted(set(ours) & set(theirs))
    if not common or len(common) < max(len(ours), len(theirs)):
        return _report(False, "EM likelihoods", f"passes: asrkt {sorted(ours)}, Kaldi "
                                                f"{sorted(theirs)}")
    diff = {x: ours[x] - theirs[x] for x in common}
    worst = max(common, key=lambda x: abs(diff[x]))
    last = common[-1]
    return _report(abs(diff[worst]) <= limit, "EM likelihoods",
                   f"{len(common)} passes; first (pass {common[0]}) {ours[common[0]]:.4f} vs "
                   f"{theirs[common[0]]:.4f}, last (pass {last}) {ours[last]:.4f} vs "
                   f"{theirs[last]:.4f} per frame; largest difference {diff[worst]:+.4f} "
                   f"(pass {worst}, limit {limit:g})")


def _kaldi_text_object(path: str) -> list:
    """The tokens of a Kaldi object written with --binary=false: its <Markers> and numbers as
    strings, each ``[ ... ]`` as one flat float64 array."""
    out: list = []
    group = None
    for tok in Path(path).read_text().split():
        if tok == "[":
            group = []
        elif tok == "]":
            if group is None:
                raise AsrktError(f"{path}: ']' without '['")
            out.append(np.array(group, dtype=np.float64))
            group = None
        elif group is not None:
            group.append(float(tok))
        else:
            out.append(tok)
    if group is not None:
        raise AsrktError(f"{path}: '[' without ']'")
    return out


def _after(tokens: list, marker: str, path: str, count: int = 1) -> list:
    """The ``count`` tokens after ``marker``."""
    where = [i for i, tok in enumerate(tokens) if isinstance(tok, str) and tok == marker]
    if not where:
        raise AsrktError(f"{path}: no {marker} (a Kaldi text object written with --binary=false?)")
    return tokens[where[0] + 1:where[0] + 1 + count]


def _symmetric(packed: np.ndarray, path: str) -> np.ndarray:
    """A SpMatrix's packed lower triangle (row by row) as the full symmetric matrix."""
    n = int(round((np.sqrt(8 * len(packed) + 1) - 1) / 2))
    if n * (n + 1) // 2 != len(packed):
        raise AsrktError(f"{path}: {len(packed)} numbers are not a packed symmetric matrix")
    m = np.zeros((n, n))
    m[np.tril_indices(n)] = packed
    return m + np.tril(m, -1).T


def read_lda_acc(path: str):
    """acc-lda --binary=false's statistics as asrkt's accumulate_lda gives them: per-class
    counts [C], sums [C, D] and the total second-order sum [D, D] (Kaldi writes the
    within-class scatter: the class means' part is added back, as est-lda does when reading)."""
    tokens = _kaldi_text_object(path)
    dim, num_classes = (int(x) for x in (_after(tokens, "<VECSIZE>", path)[0],
                                          _after(tokens, "<NUMCLASSES>", path)[0]))
    counts = _after(tokens, "<ZERO_ACCS>", path)[0]
    sums = _after(tokens, "<FIRST_ACCS>", path)[0].reshape(num_classes, dim)
    second = _symmetric(_after(tokens, "<SECOND_ACCS>", path)[0], path)
    seen = counts != 0
    second += (sums[seen] / counts[seen, None]).T @ sums[seen]
    return counts, sums, second


def read_mllt_acc(path: str):
    """gmm-acc-mllt --binary=false's statistics: (beta, G [D, D, D])."""
    tokens = _kaldi_text_object(path)
    beta, dim = _after(tokens, "<MlltAccs>", path, 2)
    dim = int(dim)
    mats = _after(tokens, "<G>", path, dim)
    return float(beta), np.stack([_symmetric(m, path) for m in mats])


def read_gmm_acc(path: str):
    """gmm-sum-accs --binary=false's statistics: (transition counts, per pdf (occupancy [G],
    sum x [G, D], sum x^2 [G, D])), as asrkt's accumulate gives them."""
    tokens = _kaldi_text_object(path)
    if not tokens or not isinstance(tokens[0], np.ndarray):
        raise AsrktError(f"{path}: no transition counts (gmm-sum-accs --binary=false output?)")
    num_pdfs = int(_after(tokens, "<NUMPDFS>", path)[0])
    starts = [i for i, tok in enumerate(tokens) if isinstance(tok, str) and tok == "<GMMACCS>"]
    if len(starts) != num_pdfs:
        raise AsrktError(f"{path}: {len(starts)} <GMMACCS> for <NUMPDFS> {num_pdfs}")
    stats = []
    for i in starts:
        part = tokens[i:]
        dim = int(_after(part, "<VECSIZE>", path)[0])
        num = int(_after(part, "<NUMCOMPONENTS>", path)[0])
        occ, = _after(part, "<OCCUPANCY>", path)
        sx, = _after(part, "<MEANACCS>", path)
        sx2, = _after(part, "<DIAGVARACCS>", path)
        if occ.size != num or sx.size != num * dim or sx2.size != num * dim:
            raise AsrktError(f"{path}: statistics of pdf {len(stats)} are not {num} x {dim}")
        stats.append((occ, sx.reshape(num, dim), sx2.reshape(num, dim)))
    return tokens[0], stats


def compare_gmm_est(acc: str, model_in: str, model_out: str, tree: str, mixup: int,
                    power: float, min_count: float, rtol: float) -> int:
    """asrkt's estimate on Kaldi's statistics and model == gmm-est --perturb-factor=0's model:
    the same number of Gaussians in every pdf; weights and means (in standard deviations)
    within ``rtol`` where the counts agree."""
    trans, stats = read_gmm_acc(acc)
    model = GmmModel.from_kaldi(model_in, tree)
    kaldi = GmmModel.from_kaldi(model_out, tree)
    if len(stats) != model.num_pdfs or kaldi.num_pdfs != model.num_pdfs:
        raise AsrktError(f"{acc}: {len(stats)} pdfs, {model_in} {model.num_pdfs}, {model_out} "
                         f"{kaldi.num_pdfs}")
    cfg = TrainMonoConfig(perturb_factor=0.0, power=power, min_count=min_count)
    info = estimate(model, stats, trans, cfg, cfg.min_gaussian_occupancy, mixup,
                    np.random.default_rng(0))
    ours = [len(g.weights) for g in model.gmms]
    theirs = [len(g.weights) for g in kaldi.gmms]
    other = [p for p in range(len(ours)) if ours[p] != theirs[p]]
    worst = 0.0
    for p in range(len(ours)):
        if p not in other:
            a, b = model.gmms[p], kaldi.gmms[p]
            worst = max(worst, float(np.max(np.abs(a.weights - b.weights))),
                        float(np.max(np.abs(a.means - b.means) / np.sqrt(b.vars))))
    return _report(not other and worst <= rtol, "gmm-est",
                   f"--mix-up {mixup}: asrkt {sum(ours)} Gaussians ({info['removed']} removed), "
                   f"Kaldi {sum(theirs)}; {len(other)} pdfs with another number"
                   + (f" (pdf: asrkt, Kaldi {[(p, ours[p], theirs[p]) for p in other[:5]]})"
                      if other else "")
                   + f"; weights and means within {worst:.2g} elsewhere (limit {rtol:g})")


def _rows_up_to_sign(a: np.ndarray, b: np.ndarray):
    """(the largest row difference of A and B, each row's sign chosen to agree, relative to
    that row's largest |value| in B; the number of rows whose sign differs)."""
    sign = np.where(np.sum(a * b, axis=1) < 0, -1.0, 1.0)
    diff = np.abs(a - sign[:, None] * b).max(axis=1) / np.maximum(np.abs(b).max(axis=1), 1e-30)
    return float(diff.max()), int(np.sum(sign < 0))


def compare_matrices(a: str, b: str, rtol: float, up_to_sign: bool) -> int:
    """Two Kaldi matrix files (binary or text): the same shape, every row of A within rtol of
    B's (relative to the row's largest |value|); with ``up_to_sign`` a row may be negated (an
    LDA row's sign is arbitrary: the eigenvector's)."""
    ma, mb = read_matrix(a, "matrix A"), read_matrix(b, "matrix B")
    if ma.shape != mb.shape:
        return _report(False, "matrices", f"shapes {ma.shape} vs {mb.shape}")
    ma, mb = ma.astype(np.float64), mb.astype(np.float64)
    if up_to_sign:
        diff, flips = _rows_up_to_sign(ma, mb)
    else:
        diff = float((np.abs(ma - mb).max(axis=1) / np.maximum(np.abs(mb).max(axis=1),
                                                                1e-30)).max())
    return _report(diff <= rtol, "matrices",
                   f"{ma.shape[0]}x{ma.shape[1]}, largest row difference {diff:.3g} relative to "
                   f"the row's largest value (limit {rtol:g})"
                   + (f", {flips} rows of opposite sign" if up_to_sign else ""))


def compare_lda_est(acc: str, kaldi_mat: str, est_log: str, dim: int, rtol: float) -> int:
    """asrkt's estimate_lda on acc-lda's statistics == est-lda's matrix from them (rows up to
    sign), and the same sum of the kept between-class eigenvalues (est-lda's log)."""
    counts, sums, second = read_lda_acc(acc)
    ours, values = estimate_lda(counts, sums, second, dim)
    theirs = read_matrix(kaldi_mat, "est-lda's matrix").astype(np.float64)
    if ours.shape != theirs.shape:
        return _report(False, "est-lda", f"shapes {ours.shape} vs {theirs.shape}")
    diff, flips = _rows_up_to_sign(ours, theirs)
    detail = (f"{counts.sum():.0f} frames, {int(np.sum(counts > 0))} of {len(counts)} classes "
              f"seen; {dim}x{ours.shape[1]} matrix, largest row difference {diff:.3g} relative "
              f"to the row's largest value (limit {rtol:g}, {flips} rows of opposite sign); "
              f"between-class eigenvalues kept {values[:dim].sum():.6g} of {values.sum():.6g}")
    m = re.search(r"Sum of selected singular values is (\S+)", Path(est_log).read_text())
    kaldi_kept = float(m.group(1)) if m else float("nan")
    ok = diff <= rtol and abs(kaldi_kept - values[:dim].sum()) <= 1e-5 * values.sum()
    return _report(ok, "est-lda", f"{detail} (est-lda: {kaldi_kept:.6g})")


def compare_mllt_stats(macc: str, acc_log: str, data: str, lang: str, model_dir: str,
                       ali_dir: str, rtol: float) -> int:
    """gmm-acc-mllt's statistics (--rand-prune 0, silence weight 0) == asrkt's accumulate_mllt
    with MODEL_DIR's model and features (its transform) on ALI_DIR's alignments of DATA: the
    same frame count, G within rtol (relative to each G_d's largest value) and the same average
    log-likelihood per frame."""
    beta, g = read_mllt_acc(macc)
    model = GmmModel.load(model_dir)
    ali = dict(read_table(Path(ali_dir) / "ali.scp", "int-vector"))
    data_dir = DataDir(data)
    utts = [u for u in data_dir.utterances if u in ali]
    corpus = load_corpus(model_pipeline(model_dir, model), data_dir, utts)
    frames, pdfs, weights = weighted_frames(
        model, corpus, {i: np.asarray(ali[u], dtype=np.int64) for i, u in enumerate(utts)},
        Lang(lang).silence_phones, 0.0)
    ours, our_beta, like = accumulate_mllt(model, corpus.feats, frames, pdfs, weights)
    if ours.shape != g.shape:
        return _report(False, "gmm-acc-mllt", f"G of shape {ours.shape} vs {g.shape}")
    scale = np.maximum(np.abs(g).max(axis=(1, 2)), 1e-30)
    diff = float((np.abs(ours - g).max(axis=(1, 2)) / scale).max())
    m = re.search(r"Overall avg like per frame \(Gaussian only\) = (\S+)",
                  Path(acc_log).read_text())
    kaldi_like = float(m.group(1)) if m else float("nan")
    ok = (diff <= rtol and abs(our_beta - beta) <= 1e-6 * beta
          and abs(like / our_beta - kaldi_like) <= 1e-3)
    return _report(ok, "gmm-acc-mllt",
                   f"{our_beta:.0f} vs {beta:.0f} frames; G ({g.shape[0]} matrices) largest "
                   f"difference {diff:.3g} relative to the matrix's largest value (limit "
                   f"{rtol:g}); avg log-like per frame {like / our_beta:.4f} vs {kaldi_like:.4f}")


def compare_mllt_est(macc: str, kaldi_mat: str, est_log: str, rtol: float) -> int:
    """asrkt's estimate_mllt on gmm-acc-mllt's statistics == est-mllt's transform from them
    (both from the unit matrix, 200 passes over the rows) and the same objective improvement."""
    beta, g = read_mllt_acc(macc)
    ours, improvement = estimate_mllt(g, beta)
    theirs = read_matrix(kaldi_mat, "est-mllt's transform").astype(np.float64)
    if ours.shape != theirs.shape:
        return _report(False, "est-mllt", f"shapes {ours.shape} vs {theirs.shape}")
    diff = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    m = re.search(r"improvement for MLLT is (\S+) over", Path(est_log).read_text())
    kaldi_impr = float(m.group(1)) if m else float("nan")
    ok = diff <= rtol and abs(improvement / beta - kaldi_impr) <= 1e-4 * max(1.0, kaldi_impr)
    return _report(ok, "est-mllt",
                   f"{theirs.shape[0]}x{theirs.shape[1]} transform, largest difference "
                   f"{diff:.3g} relative to its largest value (limit {rtol:g}); objective "
                   f"improvement {improvement / beta:.6g} vs {kaldi_impr:.6g} per frame over "
                   f"{beta:.0f} frames")


_KALDI_TREE_LOG = {
    "leaves_after_split": r"After decision tree split, num-leaves = (\d+)",
    "split_gain_per_frame": r"like-impr = (\S+) per frame",
    "frames": r"per frame over (\S+) frames",
    "cluster_thresh": r"Setting clustering threshold to smallest split (\S+)",
    "leaves_merged": r"BuildTree: removed (\d+) leaves",
    "cluster_change_per_frame": r"Objf change due to clustering (\S+) per frame",
    "leaves": r"Num-leaves is now (\d+)",
}


def _partition_agreement(a: Tree, b: Tree, events: np.ndarray) -> float:
    """Fraction of events whose leaf pairs (a, b) agree with a one-to-one leaf mapping."""
    la, lb = map_rows(a.root, events), map_rows(b.root, events)
    pairs = set(zip(la.tolist(), lb.tolist()))
    # a leaf of one tree that pairs with several of the other breaks the bijection
    ca, cb = Counter(p for p, _ in pairs), Counter(q for _, q in pairs)
    good = [ca[p] == 1 and cb[q] == 1 for p, q in zip(la.tolist(), lb.tolist())]
    return float(np.mean(good)) if good else 1.0


def compare_build_tree(treeacc: str, questions: str, lang_dir: str, kaldi_tree: str,
                       kaldi_log: str, num_leaves: int, thresh: float,
                       cluster_thresh: float) -> int:
    """asrkt's build_tree on Kaldi's statistics, Kaldi's questions (cluster-phones plus
    extra_questions.int) and the lang dir's roots: the number of leaves before and after
    clustering equal to Kaldi's, the likelihood improvement of the splits and the change of
    clustering per frame within 1e-4 (relative, plus 1e-4 absolute: Kaldi sums float32
    objectives) of build-tree's --verbose=1 log, and, reported, the fraction of the statistics'
    events both trees put in corresponding leaves and the number of phone contexts (every
    pdf-class of every phone between any two phones or 0) both trees give the same pdf.
    """
    import kaldi_hmm_gmm as khg

    config = TreeConfig(num_leaves=num_leaves, thresh=thresh, cluster_thresh=cluster_thresh)
    stats = TreeStats.read_kaldi(treeacc, config.context_width, config.central_position)
    lang = Lang(lang_dir)
    topo = khg.HmmTopology()
    topo.read(lang.topo_text)
    num_classes = topo.get_phone_to_num_pdf_classes()
    compiled = compile_questions(read_int_sets(questions, "questions"), max(num_classes),
                                 questions, list(topo.phones))
    ours = build_tree(stats, compiled, lang_roots(lang), num_classes, config)
    theirs = Tree.read(kaldi_tree, num_classes)
    text = Path(kaldi_log).read_text()
    kaldi = {}
    for key, pattern in _KALDI_TREE_LOG.items():
        m = re.search(pattern, text)
        if m:
            kaldi[key] = float(m.group(1))
    missing = sorted(set(_KALDI_TREE_LOG) - set(kaldi) - {"cluster_thresh", "leaves_merged"})
    if missing:
        return _report(False, "build-tree", f"{kaldi_log}: no {', '.join(missing)} "
                                            f"(build-tree --verbose=1?)")
    s = ours.summary
    same_leaves = (int(kaldi["leaves"]) == theirs.num_pdfs == ours.num_pdfs
                   and int(kaldi["leaves_after_split"]) == s["leaves_after_split"])

    def close(key: str) -> bool:  # Kaldi sums float32 objectives of ~1e6: 1e-4 per frame
        return abs(s[key] - kaldi[key]) <= 1e-4 * abs(kaldi[key]) + 1e-4

    ok = same_leaves and close("split_gain_per_frame") and close("cluster_change_per_frame")
    agree = _partition_agreement(ours, theirs, stats.events)
    # every context of the topology's phones (0 at the edges), every pdf-class of the centre
    phones = [0] + list(topo.phones)
    rows = [(k, left, c, r) for c in topo.phones for k in range(num_classes[c])
            for left in phones for r in phones]
    contexts = np.array(rows, dtype=np.int64)
    same = int(np.sum(map_rows(ours.root, contexts) == map_rows(theirs.root, contexts)))
    return _report(ok, "build-tree",
                   f"leaves after splitting {s['leaves_after_split']} vs "
                   f"{int(kaldi['leaves_after_split'])}, after clustering {ours.num_pdfs} vs "
                   f"{theirs.num_pdfs}; split gain {s['split_gain_per_frame']:.6g} vs "
                   f"{kaldi['split_gain_per_frame']:.6g} per frame over "
                   f"{s['frames']:.0f} frames; clustering {s['cluster_change_per_frame']:.6g} vs "
                   f"{kaldi['cluster_change_per_frame']:.6g} per frame (threshold "
                   f"{s.get('cluster_thresh', 0):.6g} vs {kaldi.get('cluster_thresh', '-')}); "
                   f"{100 * agree:.2f}% of {stats.num_events} events in corresponding leaves; "
                   f"the same pdf in {same} of {len(rows)} phone contexts")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tables")
    t.add_argument("a")
    t.add_argument("b")
    t.add_argument("--rtol", type=float, default=0.0)
    t.add_argument("--atol", type=float, default=0.0)
    t.add_argument("--kind", default="")
    c = sub.add_parser("counts")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--offset", type=float, default=0.0)
    w = sub.add_parser("wer-within")
    for arg in ("a", "b"):
        w.add_argument(arg)
    w.add_argument("max", type=float)
    ta = sub.add_parser("treeacc")
    for arg in ("treeacc", "data", "lang", "ali_dir"):
        ta.add_argument(arg)
    ta.add_argument("--write-kaldi", default="")
    em = sub.add_parser("em-likes")
    for arg in ("kaldi_log_dir", "asrkt_log"):
        em.add_argument(arg)
    em.add_argument("max", type=float)
    bt = sub.add_parser("build-tree")
    for arg in ("treeacc", "questions", "lang", "tree", "log"):
        bt.add_argument(arg)
    bt.add_argument("--num-leaves", type=int, required=True)
    bt.add_argument("--thresh", type=float, default=300.0)
    bt.add_argument("--cluster-thresh", type=float, default=-1.0)
    mx = sub.add_parser("matrices")
    for arg in ("a", "b"):
        mx.add_argument(arg)
    mx.add_argument("--rtol", type=float, default=1e-5)
    mx.add_argument("--up-to-sign", action="store_true")
    le = sub.add_parser("lda-est")
    for arg in ("acc", "mat", "log"):
        le.add_argument(arg)
    le.add_argument("--dim", type=int, default=40)
    le.add_argument("--rtol", type=float, default=1e-4)
    ms = sub.add_parser("mllt-stats")
    for arg in ("macc", "log", "data", "lang", "model_dir", "ali_dir"):
        ms.add_argument(arg)
    ms.add_argument("--rtol", type=float, default=1e-5)
    me = sub.add_parser("mllt-est")
    for arg in ("macc", "mat", "log"):
        me.add_argument(arg)
    me.add_argument("--rtol", type=float, default=1e-4)
    ge = sub.add_parser("gmm-est")
    for arg in ("acc", "model_in", "model_out", "tree"):
        ge.add_argument(arg)
    ge.add_argument("--mix-up", type=int, required=True)
    ge.add_argument("--power", type=float, default=0.25)
    ge.add_argument("--min-count", type=float, default=20.0)
    ge.add_argument("--rtol", type=float, default=1e-4)
    for name, args in (("hyps", ["a", "b"]), ("posts", ["scp", "text_ark"]),
                       ("kaldi-conf", ["yaml", "wav_scp", "out"]),
                       ("oracle", ["pdf", "num_pdfs", "out"]),
                       ("text-int", ["text", "words", "out"]), ("wer-equal", ["a", "b"]),
                       ("same-weights", ["a", "b"]), ("treeacc-files", ["a", "b"])):
        sp = sub.add_parser(name)
        for arg in args:
            sp.add_argument(arg)
    a = p.parse_args(argv)
    if a.cmd == "tables":
        return compare_tables(a.a, a.b, a.rtol, a.atol, a.kind)
    if a.cmd == "hyps":
        return compare_hyps(a.a, a.b)
    if a.cmd == "posts":
        return compare_posts(a.scp, a.text_ark)
    if a.cmd == "kaldi-conf":
        return kaldi_conf(a.yaml, a.wav_scp, a.out)
    if a.cmd == "oracle":
        return oracle(a.pdf, int(a.num_pdfs), a.out)
    if a.cmd == "text-int":
        return text_int(a.text, a.words, a.out)
    if a.cmd == "counts":
        return compare_counts(a.a, a.b, a.offset)
    if a.cmd == "same-weights":
        return same_weights(a.a, a.b)
    if a.cmd == "wer-within":
        return wer_within(a.a, a.b, a.max)
    if a.cmd == "treeacc":
        return compare_treeacc(a.treeacc, a.data, a.lang, a.ali_dir, a.write_kaldi)
    if a.cmd == "treeacc-files":
        return compare_treeacc_files(a.a, a.b)
    if a.cmd == "em-likes":
        return compare_em_likes(a.kaldi_log_dir, a.asrkt_log, a.max)
    if a.cmd == "matrices":
        return compare_matrices(a.a, a.b, a.rtol, a.up_to_sign)
    if a.cmd == "lda-est":
        return compare_lda_est(a.acc, a.mat, a.log, a.dim, a.rtol)
    if a.cmd == "mllt-stats":
        return compare_mllt_stats(a.macc, a.log, a.data, a.lang, a.model_dir, a.ali_dir,
                                  a.rtol)
    if a.cmd == "mllt-est":
        return compare_mllt_est(a.macc, a.mat, a.log, a.rtol)
    if a.cmd == "gmm-est":
        return compare_gmm_est(a.acc, a.model_in, a.model_out, a.tree, a.mix_up, a.power,
                               a.min_count, a.rtol)
    if a.cmd == "build-tree":
        return compare_build_tree(a.treeacc, a.questions, a.lang, a.tree, a.log, a.num_leaves,
                                  a.thresh, a.cluster_thresh)
    return wer_equal(a.a, a.b)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AsrktError, OSError, KeyError, ValueError) as exc:
        print(f"kaldi_interop_compare.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
