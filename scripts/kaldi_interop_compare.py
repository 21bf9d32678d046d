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
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import yaml

from asrkt.errors import AsrktError
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
    def nums(s: str) -> List[str]:
        s = Path(s).read_text() if Path(s).is_file() else s
        m = re.search(r"%WER\s+([\d.]+)\s*\[\s*(\d+)\s*/\s*(\d+)", s)
        return list(m.groups()) if m else []
    na, nb = nums(a), nums(b)
    return _report(bool(na) and na == nb, "WER", f"{na} vs {nb} ([WER, errors, words])")


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
    for name, args in (("hyps", ["a", "b"]), ("posts", ["scp", "text_ark"]),
                       ("kaldi-conf", ["yaml", "wav_scp", "out"]),
                       ("oracle", ["pdf", "num_pdfs", "out"]),
                       ("text-int", ["text", "words", "out"]), ("wer-equal", ["a", "b"]),
                       ("same-weights", ["a", "b"])):
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
    return wer_equal(a.a, a.b)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AsrktError, OSError, KeyError, ValueError) as exc:
        print(f"kaldi_interop_compare.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
