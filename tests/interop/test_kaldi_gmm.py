"""scripts/kaldi_gmm.sh (Kaldi's GMM chain with the reference build's binaries on asrkt dirs) on
the toy corpus (tests/helpers/toy_hmm.py): every stage, mono to LDA+MLLT, gives Kaldi exp dirs
that Kaldi's gmm-info and asrkt's model loader read, with likelihoods that rise over the EM
passes; tri1 from asrkt's monophone alignment (``--ali-dir``); one error line on bad input.
Skipped with a message without the build's tree and GMM tools (the FSDD comparisons with asrkt
are scripts/kaldi_interop.sh's stage 3, tests/interop/test_kaldi_interop.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.interop.test_kaldi_interop import KALDI_ROOT

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "kaldi_gmm.sh"
TOOLS = ("gmm-init-mono", "gmm-init-model", "build-tree", "acc-tree-stats", "convert-ali",
         "acc-lda", "est-mllt", "gmm-acc-mllt", "gmm-info")
SMALL = ["--mono-totgauss", "60", "--mono-num-iters", "8", "--mono-max-iter-inc", "6",
         "--mono-realign-iters", "1 2 4 6", "--num-iters", "6", "--max-iter-inc", "4",
         "--realign-iters", "3", "--mllt-iters", "2 4", "--tri1-leaves", "24", "--tri1-gauss",
         "80", "--tri2-leaves", "24", "--tri2-gauss", "80", "--lda-dim", "12"]


def kaldi_gmm(*args, kaldi_root: Path = KALDI_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), "--kaldi-root", str(kaldi_root),
                           *map(str, args)], capture_output=True, text=True, timeout=600)


def needs_build() -> None:
    missing = [t for t in TOOLS if not (KALDI_ROOT / "bin" / t).exists()]
    if missing:
        pytest.skip(f"no reference Kaldi build with {', '.join(missing)} in {KALDI_ROOT} (run "
                    "scripts/build_kaldi_reference.sh or set ASRKT_KALDI_ROOT)")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from tests.helpers.gmm_toy import toy_mono_dirs

    return toy_mono_dirs(tmp_path_factory.mktemp("kaldi_gmm"))


def gmm_info(model: Path) -> dict:
    out = subprocess.run([str(KALDI_ROOT / "bin" / "gmm-info"), str(model)],
                         capture_output=True, text=True, check=True).stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"number of (\w+) (\d+)", out)}


def pass_likes(log_dir: Path) -> list:
    likes = {}
    for path in log_dir.glob("acc.*.1.log"):
        m = re.search(r"Overall avg like per frame \(Gaussian only\) = (\S+)", path.read_text())
        likes[int(path.name.split(".")[1])] = float(m.group(1))
    return [likes[x] for x in sorted(likes)]


@pytest.mark.slow
def test_every_stage_gives_kaldi_dirs_that_kaldi_and_asrkt_read(toy, tmp_path):
    from asrkt.hmm.model import GmmModel

    needs_build()
    exp = tmp_path / "exp"
    result = kaldi_gmm(*SMALL, toy / "train", toy / "lang", exp)
    assert result.returncode == 0, result.stderr[-2000:]
    for system in ("mono", "mono_ali", "tri1", "tri1_ali", "tri2"):
        d = exp / system
        for name in ("final.mdl", "tree", "ali.1.gz", "num_jobs", "cmvn_opts", "phones.txt"):
            assert (d / name).is_file(), d / name
    assert (exp / "tri2" / "final.mat").resolve().name == "4.mat"   # the last MLLT pass
    mono, tri1 = gmm_info(exp / "mono" / "final.mdl"), gmm_info(exp / "tri1" / "final.mdl")
    assert tri1["pdfs"] > mono["pdfs"]
    assert tri1["gaussians"] >= 70 and mono["gaussians"] >= 50
    for system in ("mono", "tri1", "tri2"):
        likes = pass_likes(exp / system / "log")
        assert likes[-1] > likes[0], (system, likes)
        assert GmmModel.load(exp / system).num_pdfs == gmm_info(exp / system / "final.mdl")["pdfs"]
    # one log per step, named as the scripts' (build-tree's with its likelihood lines)
    log = (exp / "tri1" / "log" / "build_tree.log").read_text()
    assert "After decision tree split" in log and "Num-leaves is now" in log
    assert (exp / "tri2" / "log" / "lda_est.log").is_file()
    assert (exp / "tri2" / "log" / "mupdate.2.log").is_file()


@pytest.mark.slow
def test_tri1_from_an_asrkt_alignment_dir(toy, tmp_path):
    needs_build()
    exp = tmp_path / "exp"
    result = kaldi_gmm(*SMALL, "--stage", "3", "--stop-stage", "3", "--ali-dir",
                       toy / "mono_ali", toy / "train", toy / "lang", exp)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in exp.iterdir()) == ["tri1"]
    assert "from " + str(toy / "mono_ali") in result.stderr
    convert = (exp / "tri1" / "log" / "convert.1.log").read_text()
    assert "Succeeded converting alignments for 40 files" in convert


@pytest.mark.slow
def test_rand_seed_perturb_factor_and_keep_models(toy, tmp_path):
    """--rand-seed seeds rand() (Kaldi's RandGauss/RandInt): seed 1 is the binaries' unseeded
    default (the same tri1 bytes), another seed another tri1; --perturb-factor reaches gmm-mixup
    and gmm-est; --keep-models keeps every pass's model."""
    needs_build()
    tri1 = ["--stage", "3", "--stop-stage", "3", "--ali-dir", toy / "mono_ali"]
    models = {}
    for name, extra in {"default": [], "seed1": ["--rand-seed", "1"],
                        "seed2": ["--rand-seed", "2"],
                        "pf0": ["--perturb-factor", "0", "--keep-models", "true"]}.items():
        exp = tmp_path / name
        result = kaldi_gmm(*SMALL, *tri1, *extra, toy / "train", toy / "lang", exp)
        assert result.returncode == 0, (name, result.stderr[-2000:])
        models[name] = (exp / "tri1" / "final.mdl").read_bytes()
    assert models["seed1"] == models["default"] and models["seed2"] != models["default"]
    d = tmp_path / "pf0" / "tri1"
    assert sorted(int(p.stem) for p in d.glob("[0-9]*.mdl")) == list(range(1, 7))
    assert "--perturb-factor=0 " in (d / "log" / "mixup.log").read_text()
    assert "--perturb-factor=0 " in (d / "log" / "update.5.log").read_text()
    assert not list((tmp_path / "default" / "tri1").glob("[0-5].mdl"))


def test_bad_input_is_one_error_line(toy, tmp_path):
    cases = {
        "unknown option": (["--bogus", "1", toy / "train", toy / "lang", tmp_path / "e"],
                           "unknown option --bogus"),
        "no feats": ([tmp_path, toy / "lang", tmp_path / "e"], "feats.scp does not exist"),
        "bad seed": (["--rand-seed", "-3", toy / "train", toy / "lang", tmp_path / "e"],
                     "--rand-seed must be a non-negative integer, not '-3'"),
        "no build": (["--kaldi-root", tmp_path / "none", toy / "train", toy / "lang",
                      tmp_path / "e"], "no Kaldi build with the GMM tools"),
    }
    for name, (args, message) in cases.items():
        result = subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True,
                                text=True, timeout=60)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, (name, result.stderr)
        assert lines[0].startswith("kaldi_gmm.sh: error: ") and message in lines[0], name
    usage = subprocess.run(["bash", str(SCRIPT), toy / "train"], capture_output=True, text=True)
    assert usage.returncode == 1 and usage.stderr.startswith("Usage:")
