#!/usr/bin/env python3
"""Show that the FSDD recipe scripts of the working tree run the same asrkt commands, and write
the same tables, as those of a git revision (default 0a94943, the last whose run.sh had the study
flags), on a tiny FSDD subset.

Every scenario (the command named in the header of a committed table) runs twice: with the
recipes of the revision (``git archive``) and with those of the working tree, each in its own
directory, with a wrapper ``asrkt`` first on PATH that logs each command (cwd, OMP_NUM_THREADS,
argv) and then runs the real one. The two multisets of commands must be equal in canonical form:

- options parsed with the click command's own option list, so their order does not matter
  (positional arguments keep their order);
- paths made absolute against the cwd, the side's directory replaced by ``<SIDE>``;
- threads as the command uses them: ``--num-threads N`` when N > 0, else OMP_NUM_THREADS (which
  torch and BLAS read); the environment sets OMP_NUM_THREADS=1, as the recipes do. (This is the
  one difference in form between the scripts of 0a94943 and their successors: forward and
  dump-posteriors got ``--num-threads 1`` where the same thread count came from the environment.)

The tables a scenario writes must be equal but for their command and date lines. The tiny
configuration is recipes/fsdd/conf/tiny on a copy of three speakers' first recordings.

Usage: scripts/recipe_trace.py --fsdd ../shared/data/fsdd --out /tmp/trace [--rev 0a94943]
  [--only main,cvlmwt,...]      (the asrkt and python of this environment are used)
Exit status 0 when every scenario matches; the report is printed and written to OUT/report.md.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--speakers", "george jackson", "--max-index", "5", "--folds", "george",
        "--conditions", "full", "--seeds", "1", "--conf", "conf/tiny"]
CELLS = ["--folds", "george", "--conditions", "full", "--seeds", "1", "--conf", "conf/tiny"]
OFFICIAL = ["--protocol", "official", "--conditions", "full", "--seeds", "1", "--conf", "conf/tiny",
            "--speakers", "george jackson", "--max-index", "7"]

# name -> (work dir, old commands, new commands, tables); "{fsdd}", "{work}", "{lmwt}" are filled
# in; commands run in the side's recipes/fsdd, in this order, after the scenarios before them.
SCENARIOS: dict[str, tuple[str, list[list[str]], list[list[str]], list[str]]] = {
    "main": ("main",
             [["run.sh", "--work", "{work}", *TINY, "--kt-reg", "0.5", "--teacher-freq-mask", "8",
               "{fsdd}"]],
             [["run.sh", "--work", "{work}", *TINY, "{fsdd}"]],
             ["RESULTS.md"]),
    "cvlmwt": ("main",
               [["run.sh", "--work", "{work}", *TINY, "--stage", "4", "--kt-reg", "0.5",
                 "--cv-lmwt", "{lmwt}", "{fsdd}"]],
               [["local/run_cv_lmwt.sh", "--work", "{work}", *CELLS, "{lmwt}"]],
               ["RESULTS_cvlmwt.md"]),
    "cv_study": ("main",
                 [["local/cv_study.sh", "--seeds", "1", "--conf", "conf/tiny", "{work}",
                   "si_george"]],
                 [["local/cv_study.sh", "--seeds", "1", "--conf", "conf/tiny", "{work}",
                   "si_george"]],
                 ["CV_STUDY.md"]),
    "official": ("official",
                 [["run.sh", "--work", "{work}", *OFFICIAL, "{fsdd}"]],
                 [["run.sh", "--work", "{work}", *OFFICIAL, "--stop-stage", "11", "{fsdd}"],
                  ["local/results.sh", "--work", "{work}", *OFFICIAL[:8]]],
                 ["RESULTS.md"]),
    "teacher_study": ("nest",
                      [["local/teacher_study.sh", "--seeds", "1", "--conf", "conf/tiny",
                        "--speakers", "george jackson theo", "--max-index", "5", "{fsdd}",
                        "{work}", "theo"]],
                      [["local/teacher_study.sh", "--seeds", "1", "--conf", "conf/tiny",
                        "--speakers", "george jackson theo", "--max-index", "5", "{fsdd}",
                        "{work}", "theo"]],
                      ["TEACHER_STUDY_theo.md"]),
    "choose_lmwt": ("lmwt_theo",
                    [["local/choose_lmwt.sh", "--conditions", "full", "--conf", "conf/tiny",
                      "{fsdd}", "{work}", "theo"]],
                    [["local/choose_lmwt.sh", "--conditions", "full", "--conf", "conf/tiny",
                      "{fsdd}", "{work}", "theo"]],
                    ["lmwt_full", "lmwt_full.md"]),
}

WRAPPER = """#!/usr/bin/env bash
"{python}" -c 'import json, os, sys
with open(os.environ["ASRKT_TRACE"], "a") as f:
    f.write(json.dumps({{"cwd": os.getcwd(), "omp": os.environ.get("OMP_NUM_THREADS"),
                        "argv": sys.argv[1:]}}) + "\\n")' "$@"
exec "{real}" "$@"
"""


def tiny_fsdd(src: Path, dst: Path, speakers=("george", "jackson", "theo"),
              max_index: int = 7) -> None:
    """A corpus dir whose recordings/ links the first recordings of a few speakers."""
    rec = dst / "recordings"
    rec.mkdir(parents=True, exist_ok=True)
    for wav in sorted((src / "recordings").glob("*.wav")):
        _digit, spk, index = wav.stem.split("_")
        if spk in speakers and int(index) < max_index and not (rec / wav.name).exists():
            (rec / wav.name).symlink_to(wav.resolve())


def make_side(side: Path, rev: str | None) -> None:
    """recipes/ and scripts/ of a revision (git archive) or of the working tree."""
    if rev is None:
        for d in ("recipes", "scripts"):
            shutil.copytree(ROOT / d, side / d,
                            ignore=shutil.ignore_patterns("__pycache__", "exp", "data"))
        return
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "recipes", "scripts"],
                         check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(side)


def flag_options() -> dict[str, set]:
    """asrkt command -> its options that take no value."""
    from asrkt.cli.main import cli

    flags = {}
    for name, cmd in cli.commands.items():
        flags[name] = {o for p in cmd.params
                       if getattr(p, "is_flag", False) or getattr(p, "count", False)
                       for o in list(p.opts) + list(p.secondary_opts)}
    return flags


def norm_value(value: str, cwd: str, side: str) -> str:
    prefix = ""
    m = re.match(r"^(scp|ark|ark,t|scp,t):", value)
    if m:
        prefix, value = m.group(0), value[m.end():]
    if "/" in value and " " not in value:
        value = os.path.normpath(value if value.startswith("/") else os.path.join(cwd, value))
    return prefix + value.replace(side, "<SIDE>")


def canonical(record: dict, side: str, flags: dict[str, set]) -> str:
    argv, cwd = record["argv"], record["cwd"]
    name, args = argv[0], argv[1:]
    options, positionals, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a:
            options.append(tuple(a.split("=", 1)))
        elif a.startswith("-") and len(a) > 1 and not re.fullmatch(r"-\d.*", a):
            if a in flags.get(name, set()):
                options.append((a, True))
            else:
                options.append((a, args[i + 1]))
                i += 1
        else:
            positionals.append(a)
        i += 1
    opts = {}
    for key, value in options:
        opts[key] = value if value is True else norm_value(value, cwd, side)
    threads = opts.pop("--num-threads", None)
    if threads in (None, "0"):  # torch's default: OMP_NUM_THREADS
        threads = record["omp"] or "default"
    return json.dumps([name, sorted(opts.items()), [norm_value(p, cwd, side) for p in positionals],
                       f"threads {threads}"])


def table_lines(path: Path, side: str) -> list[str]:
    skip = re.compile(r"command:|- date:|\bon \d{4}-\d\d-\d\d", re.IGNORECASE)
    return [line.replace(side, "<SIDE>") for line in path.read_text().splitlines()
            if not skip.search(line)]


def run_side(side: Path, name: str, fsdd: Path, lmwt: Path, env: dict) -> tuple[list[dict], int]:
    work, old_cmds, new_cmds, _ = SCENARIOS[name]
    cmds = old_cmds if side.name == "old" else new_cmds
    trace = side / f"trace_{name}.jsonl"
    trace.unlink(missing_ok=True)
    env = dict(env, ASRKT_TRACE=str(trace))
    for cmd in cmds:
        filled = [a.format(fsdd=fsdd, work=side / work, lmwt=lmwt) for a in cmd]
        with open(side / f"log_{name}.txt", "a") as log:
            rc = subprocess.run(["bash", *filled], cwd=side / "recipes" / "fsdd", env=env,
                                check=False, stdout=log, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            return [], rc
    records = ([json.loads(line) for line in trace.read_text().splitlines()]
               if trace.exists() else [])
    return records, 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fsdd", type=Path, default=ROOT.parent / "shared" / "data" / "fsdd")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rev", default="0a94943",
                        help="revision to compare with "
                        "(default: the last whose run.sh had the study flags)")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args()
    real = shutil.which("asrkt")
    if real is None:
        sys.exit("recipe_trace.py: asrkt not on PATH")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    fsdd, lmwt = out / "fsdd", out / "lmwt"
    tiny_fsdd(args.fsdd.resolve(), fsdd)
    (lmwt / "lmwt_george").mkdir(parents=True, exist_ok=True)
    (lmwt / "lmwt_george" / "lmwt_full").write_text("gmm 7\nnn 9\n")
    bin_dir = out / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "asrkt").write_text(WRAPPER.format(python=sys.executable, real=real))
    (bin_dir / "asrkt").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    sides = {"old": out / "old", "new": out / "new"}
    for label, side in sides.items():
        if not (side / "recipes").exists():
            make_side(side, args.rev if label == "old" else None)
    flags = flag_options()
    report, ok = ["# Recipe trace: old (" + args.rev + ") vs new (working tree)", ""], True
    for name in args.only.split(","):
        results = {}
        for label, side in sides.items():
            records, rc = run_side(side, name, fsdd, lmwt, env)
            if rc != 0:
                report.append(f"- {name}: {label} side failed "
                              f"(exit {rc}; see {side}/log_{name}.txt)")
                print(report[-1], flush=True)
                ok = False
                break
            results[label] = collections.Counter(canonical(r, str(side), flags) for r in records)
        else:
            old, new = results["old"], results["new"]
            same = old == new
            tables = []
            for table in SCENARIOS[name][3]:
                paths = [side / SCENARIOS[name][0] / table for side in sides.values()]
                equal = all(p.exists() for p in paths) and \
                    table_lines(paths[0], str(sides["old"])) \
                    == table_lines(paths[1], str(sides["new"]))
                tables.append(f"{table} {'equal' if equal else 'DIFFERENT'}")
                same = same and equal
            summary = len(report)
            report.append(f"- {name}: {sum(old.values())} vs {sum(new.values())} asrkt commands, "
                          f"multisets {'equal' if old == new else 'DIFFERENT'}; "
                          + ", ".join(tables))
            for label, extra in (("only old", old - new), ("only new", new - old)):
                for cmd, n in sorted(extra.items()):
                    report.append(f"  - {label} ({n}x): {cmd}")
            ok = ok and same
            print(report[summary], flush=True)
    text = "\n".join(report) + "\n"
    (out / "report.md").write_text(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
