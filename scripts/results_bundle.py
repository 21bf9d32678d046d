#!/usr/bin/env python3
"""Pack what a recipe's tables read from a work dir into one small archive, and unpack such
archives into another work dir: the cells of one experiment (conditions x seeds) can then be run
on several machines, or on one machine in several sittings that do not keep their work dirs, and
tabulated together by the recipe's table stage.

What is packed, under each DIR given (relative to --work), found recursively:
  <decode dir>/wer_<LMWT>, scoring_kaldi/best_wer, options      every decode dir (one with
                                                                 scoring_kaldi/best_wer)
  <decode dir>/scoring/<LMWT>.txt                                only the hypotheses the tables
                                                                 read: at the decode dir's own
                                                                 best weight and at the best
                                                                 weight of each sibling decode
                                                                 dir (test at dev's choice)
  <model dir>/train.jsonl, config.yaml                           per-epoch history, the resolved
                                                                 training config
Models, lattices, alignments and features are not: a bundle holds text only (tens to hundreds of
kB per cell, gzipped), enough for scripts/kt_results.py (WER per LM weight, the weight chosen on
dev, per-utterance errors for the age table, CV accuracy). ``bundle.txt`` at its root says when,
where (with the packages and the CPU the numbers depend on: results_table.environment) and from
what it was packed (``--note``: the code's commit and the command, say).

Unpacking writes each file through a temporary name, with its packed modification time (a
table's "decoded <date>" notes stay true); a file already in the work dir with other
content stops it before anything is written (the same content is skipped), so cells of
different runs never mix silently. Entries that are not plain relative paths are refused.

Usage: scripts/results_bundle.py pack OUT.tar.gz --work W [--note TEXT ...] DIR [DIR ...]
         e.g. scripts/results_bundle.py pack so762_full_seed1.tar.gz --work /work/so762 \\
                --note "code 7e0254c; ./run.sh --conditions full --seeds 1 --test true" \\
                exp/full/seed1 exp/mono exp/tri1 exp/tri2
       scripts/results_bundle.py unpack B.tar.gz [B2.tar.gz ...] --work W
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import re
import sys
import tarfile
from pathlib import Path, PurePosixPath
from typing import Dict, List, Set, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import atomic_open, atomic_output  # noqa: E402
from results_table import environment  # noqa: E402
from wer_grid import best, pool, read_counts  # noqa: E402

MANIFEST = "bundle.txt"
MODEL_FILES = ("train.jsonl", "config.yaml")


def decode_dirs(root: Path) -> List[Path]:
    """Decode dirs under ``root`` (itself included): those with ``scoring_kaldi/best_wer``."""
    return sorted(p.parent.parent for p in root.rglob("scoring_kaldi/best_wer"))


def best_weight(decode: Path) -> int | None:
    """The LM weight with the lowest WER of a decode dir's wer_<LMWT> files (ties to the lower
    weight: kt_results.choose's rule); None without any."""
    counts = read_counts(decode)
    chosen = best(pool([counts])) if counts else None
    return chosen[0] if chosen else None


def needed_hyps(decode: Path) -> Set[int]:
    """LM weights whose hypotheses the tables read: the dir's own best (best_wer) and the best
    of each sibling decode dir (kt_results.py --lmwt-from), those that this dir decoded."""
    weights = set()
    match = re.search(r"wer_(\d+)\s*$", (decode / "scoring_kaldi" / "best_wer").read_text())
    if match:
        weights.add(int(match.group(1)))
    decoded = read_counts(decode)
    for sibling in decode.parent.iterdir():
        if sibling != decode and (sibling / "scoring_kaldi" / "best_wer").exists():
            weight = best_weight(sibling)
            if weight in decoded:
                weights.add(weight)
    return weights


def bundle_files(work: Path, dirs: List[str]) -> List[Path]:
    """The files of a bundle, relative to ``work`` (module docstring)."""
    files: Set[Path] = set()
    for name in dirs:
        root = work / name
        if not root.is_dir():
            raise SystemExit(f"results_bundle.py: {root}: no such directory")
        found = []
        for decode in decode_dirs(root):
            found += sorted(decode.glob("wer_*")) + [decode / "scoring_kaldi" / "best_wer"]
            found += [decode / "options"] if (decode / "options").exists() else []
            for weight in sorted(needed_hyps(decode)):
                hyps = decode / "scoring" / f"{weight}.txt"
                if not hyps.exists():
                    raise SystemExit(f"results_bundle.py: {hyps}: missing (the hypotheses of LM "
                                     f"weight {weight}, which the tables read)")
                found.append(hyps)
        for history in root.rglob("train.jsonl"):
            found += [history.parent / f for f in MODEL_FILES if (history.parent / f).exists()]
        if not found:
            raise SystemExit(f"results_bundle.py: {root}: no decode dir (scoring_kaldi/best_wer) "
                             "and no train.jsonl under it: nothing to pack")
        files.update(p.relative_to(work) for p in found)
    return sorted(files)


def pack(out: Path, work: Path, dirs: List[str], notes: List[str]) -> int:
    """Write the bundle of ``dirs`` (relative to ``work``) to ``out``; returns its file count."""
    files = bundle_files(work, dirs)
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    manifest = [f"packed {stamp} on {platform.node()} from {work.resolve()}",
                f"environment: {environment()}", f"dirs: {' '.join(dirs)}",
                f"files: {len(files)}"] + [f"note: {n}" for n in notes]
    with atomic_output(out) as tmp, tarfile.open(tmp, "w:gz") as tar:
        data = ("\n".join(manifest) + "\n").encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(data), int(datetime.datetime.now().timestamp())
        tar.addfile(info, io.BytesIO(data))
        for rel in files:
            tar.add(work / rel, arcname=rel.as_posix(), recursive=False)
    return len(files)


def read_bundle(path: Path) -> Dict[str, Tuple[bytes, int]]:
    """Member name -> (content, modification time) of a bundle (the manifest left out); refuses
    what is not a plain file at a relative path inside the work dir."""
    out = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or not member.isfile():
                    raise SystemExit(f"results_bundle.py: {path}: entry '{member.name}' is not a "
                                     "plain file at a relative path: not a bundle of this script")
                if member.name != MANIFEST:
                    out[member.name] = (tar.extractfile(member).read(), member.mtime)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise SystemExit(f"results_bundle.py: {path}: not a readable .tar.gz ({err})") from None
    return out


def unpack(bundles: List[Path], work: Path) -> int:
    """Write the files of ``bundles`` under ``work``; returns how many were new. A file present
    with other content, or given differently by two bundles, stops it before anything is
    written."""
    pending: Dict[Path, bytes] = {}
    origin: Dict[Path, Path] = {}
    mtimes: Dict[Path, int] = {}
    for bundle in bundles:
        for name, (data, mtime) in read_bundle(bundle).items():
            target = work / name
            if target in pending and pending[target] != data:
                raise SystemExit(f"results_bundle.py: {name}: {origin[target]} and {bundle} "
                                 "differ: two runs of the same cell")
            if target.exists() and target.read_bytes() != data:
                raise SystemExit(f"results_bundle.py: {target}: already there with other content "
                                 f"than {bundle}'s: the work dir holds another run of this cell")
            pending[target], origin[target] = data, bundle
            mtimes.setdefault(target, mtime)
    new = 0
    for target, data in pending.items():
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_open(target, "wb") as handle:
                handle.write(data)
            os.utime(target, (mtimes[target], mtimes[target]))
            new += 1
    return new


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="pack the table inputs under DIRs of --work into OUT")
    p.add_argument("out", type=Path)
    p.add_argument("dirs", nargs="+", metavar="DIR", help="relative to --work")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--note", action="append", default=[], help="a line of bundle.txt (repeatable)")
    u = sub.add_parser("unpack", help="write the files of bundles under --work")
    u.add_argument("bundles", nargs="+", type=Path)
    u.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "pack":
        count = pack(args.out, args.work, args.dirs, args.note)
        print(f"results_bundle.py: {count} files of {len(args.dirs)} dir(s) -> {args.out}")
    else:
        new = unpack(args.bundles, args.work)
        print(f"results_bundle.py: {new} new files from {len(args.bundles)} bundle(s) -> "
              f"{args.work}")


if __name__ == "__main__":
    main()
