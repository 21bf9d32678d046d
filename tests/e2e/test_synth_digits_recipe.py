"""recipes/synth_digits/run.sh end to end in a tiny configuration (the `make demo` recipe).

Every stage runs for real — corpus synthesis, features, monophone GMM, alignments, triphone GMMs
(tri1 on deltas, tri2 LDA+MLLT), RBMs, DNN teacher, soft targets, LSTM baseline, KT pre-training,
fine-tuning, hybrid decoding, RESULTS.md — on a few utterances with one epoch per neural stage.
A second run must skip every stage, and a run from scratch must write the same RESULTS.md but for
its date line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # ~1 minute: the whole recipe, twice
STAGES = 15

TINY = {
    "corpus.yaml": "seed: 3\nnum_train_speakers: 3\nnum_test_speakers: 1\nutts_per_speaker: 8\n"
                   "test_utts_per_speaker: 4\nsnrs: [10]\nnoise_types: [white]\n",
    "rbm.yaml": "nn_depth: 2\nhid_dim: 32\nrbm_iter: 1\nsplice: 2\n",
    "dnn.yaml": "model: dnn\nnum_layers: 2\nhidden_dim: 32\nsplice: 2\nmax_epochs: 1\n",
    "lstm.yaml": "model: lstm\nnum_layers: 1\nhidden_dim: 32\nproj_dim: 16\ntarget_delay: 2\n"
                 "num_streams: 4\nchunk_len: 10\nmax_epochs: 1\n",
    "kt.yaml": "model: lstm\nnum_layers: 1\nhidden_dim: 32\nproj_dim: 16\ntarget_delay: 2\n"
               "num_streams: 4\nchunk_len: 10\nmax_epochs: 1\n",
}


@pytest.fixture(scope="module")
def tiny_run(repo_root, tmp_path_factory):
    conf = tmp_path_factory.mktemp("conf")
    recipe = repo_root / "recipes" / "synth_digits"
    for name in ("mfcc.yaml", "fbank.yaml"):
        shutil.copy(recipe / "conf" / name, conf / name)
    for name, text in TINY.items():
        (conf / name).write_text(text)
    work = tmp_path_factory.mktemp("work")
    cmd = ["bash", str(recipe / "run.sh"), "--nj", "2", "--conf-dir", str(conf),
           "--work", str(work), "--totgauss", "100", "--tri1-leaves", "100", "--tri1-gauss", "200",
           "--tri2-leaves", "100", "--tri2-gauss", "200", "--tri-opts", "--thresh 20",
           "--decode-opts", "--min-lmwt 9 --max-lmwt 10"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return cmd, work, first


@pytest.mark.slow
def test_all_stages_produce_a_results_table(tiny_run):
    cmd, work, first = tiny_run
    assert first.returncode == 0, first.stderr[-3000:]
    for n in range(STAGES):
        assert re.search(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d stage {n}: ", first.stderr, re.M), \
            f"stage {n}"
    results = (work / "RESULTS.md").read_text()
    assert "--conf-dir" in results and "seed(s): 777" in results
    for system in ("mono", "tri1", "tri2", "dnn_rbm", "lstm_ce", "lstm_kt_rbm_ft"):
        row = next(line for line in results.splitlines() if line.startswith(f"| `{system}`"))
        cells = [c.strip() for c in row.split("|")[2:-1]]
        assert len(cells) == 3 and all(re.fullmatch(r"\d+\.\d\d", c) for c in cells), row
    exp = work / "exp"

    def num_pdfs(model: str) -> int:
        return int(re.search(r"<NUMPDFS> (\d+)", (exp / model / "final.mdl").read_text()).group(1))

    # the triphone stages ran: trees with more pdfs than the monophone, decoded and scored
    assert num_pdfs("tri1") > num_pdfs("mono") and num_pdfs("tri2") > num_pdfs("mono")
    for system in ("tri1", "tri2"):
        assert (exp / system / "tree").exists()
        assert (exp / system / "decode_test_clean" / "scoring_kaldi" / "best_wer").exists()
    assert (exp / "tri1_ali" / "pdf.ark").exists()
    for system in ("dnn_rbm", "lstm_ce", "lstm_kt_rbm", "lstm_kt_rbm_ft"):
        assert (exp / system / "final.pt").exists() and (exp / system / "train.jsonl").exists()
    assert (exp / "dnn_rbm_post" / "post.scp").exists()


@pytest.mark.slow
def test_rerun_skips_done_stages(tiny_run):
    cmd, work, first = tiny_run
    assert first.returncode == 0
    again = subprocess.run(cmd + ["--stage", "1", "--stop-stage", str(STAGES - 2)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    for command in ("train-mono", "train-deltas", "train-lda-mllt", "finetune"):
        assert f"asrkt {command}" not in again.stderr, command
    assert "done already, skipping" in again.stderr


@pytest.mark.slow
def test_two_runs_give_the_same_results(tiny_run):
    """Run-to-run determinism of the demo: the same command again in a fresh work dir of the same
    path (the first run's dir moved aside) gives the same RESULTS.md, all but its date line."""
    cmd, work, first = tiny_run
    assert first.returncode == 0
    moved = work.with_name(work.name + "_first")
    work.rename(moved)
    try:
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert second.returncode == 0, second.stderr[-3000:]

        def table(path: Path) -> list:
            return [line for line in path.read_text().splitlines()
                    if not line.startswith("- date:")]

        assert table(work / "RESULTS.md") == table(moved / "RESULTS.md")
    finally:
        if work.exists():
            shutil.rmtree(moved)
        else:
            moved.rename(work)


def test_missing_conf_is_a_clear_error(repo_root, tmp_path):
    result = subprocess.run(["bash", str(repo_root / "recipes" / "synth_digits" / "run.sh"),
                             "--conf-dir", str(tmp_path), "--work", str(tmp_path / "w")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "corpus.yaml not found" in result.stderr
