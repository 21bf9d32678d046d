"""recipes/speech_commands/run.sh end to end on a tiny subset of ../shared/data/speech_commands:
two clips of each word per split (--max-per-word 2), one condition (full; the quarter condition's
list is checked, its systems are the same commands on a subset), one seed, the tiny configs
(recipes/speech_commands/conf/tiny), a 4-pass monophone GMM and 6-pass triphone GMMs; dev
decoded, then a second call adds an extra test set (a folder of the same layout, a few clips)
without retraining. Checks the plumbing, not the accuracy; the test speakers are never decoded
(no --test true).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SYSTEMS = ("dnn_rand", "dnn_rbm", "lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft",
           "lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg")
TINY = ["--max-per-word", "2", "--conditions", "full", "--seeds", "1", "--conf",
        str(Path(__file__).resolve().parents[2] / "recipes" / "speech_commands" / "conf" / "tiny"),
        "--totgauss", "100",
        "--mono-opts", "--num-iters 4 --max-iter-inc 2 --realign-iters '2'",
        "--tri1-leaves", "200", "--tri1-gauss", "300",
        "--tri2-leaves", "200", "--tri2-gauss", "300",
        "--tri-opts", "--num-iters 6 --max-iter-inc 4 --realign-iters '3' --thresh 20"]


def _run(cmd, repo_root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(repo_root), OMP_NUM_THREADS="1")
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def _extra_corpus(src: Path, dst: Path) -> None:
    """A folder of the corpus layout with a few dev-speaker clips (symlinks)."""
    for word in ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"):
        (dst / word).mkdir(parents=True)
    (dst / "_unknown_").mkdir()
    for word in ("yes", "stop"):
        for clip in sorted((src / word).glob("*.flac"))[:2]:
            (dst / word / clip.name).symlink_to(clip)
    for clip in sorted((src / "_unknown_").glob("marvin_*.flac"))[:1]:
        (dst / "_unknown_" / clip.name).symlink_to(clip)


@pytest.mark.slow
def test_run_sh_trains_every_system_and_decodes_dev_and_an_extra_set(
        speech_commands_dir, repo_root, tmp_path):
    run_sh = str(repo_root / "recipes" / "speech_commands" / "run.sh")
    work = tmp_path / "work"
    result = _run(["bash", run_sh, "--work", str(work), *TINY, str(speech_commands_dir)],
                  repo_root)
    log = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, log
    for n in range(16):
        assert f"stage {n}:" in result.stderr, f"stage {n} did not run\n{log}"
    data = work / "data"
    train_spk = {line.split()[0] for line in (data / "train" / "spk2utt").open()}
    dev_spk = {line.split()[0] for line in (data / "dev" / "spk2utt").open()}
    assert train_spk and dev_spk and not train_spk & dev_spk
    quarter = (data / "lists" / "train_quarter.list").read_text().split()
    full = [line.split()[0] for line in
            (data / "fbank" / "full" / "train" / "text").read_text().splitlines()]
    assert 0 < len(quarter) < len(full) and set(quarter) <= set(full)
    aug = data / "fbank" / "full" / "train_aug"       # the noisy copy (dev study's noise round)
    assert len((aug / "text").read_text().splitlines()) == 2 * len(full)
    assert len((aug / "utt2noise").read_text().splitlines()) == len(full)
    for system in SYSTEMS:                              # every neural system trained on it
        log = next((work / "exp" / "full" / "seed1" / system / "log").glob("*.log"))
        assert "train_aug" in log.read_text(), system
    for system in SYSTEMS:   # the teachers: masking (--teacher-freq-mask 8), nnet1's initialisation
        config = yaml.safe_load(
            (work / "exp" / "full" / "seed1" / system / "config.yaml").read_text())
        teacher = system.startswith("dnn_")
        assert config["freq_mask"] == (8 if teacher else 0), (system, config)
        if teacher:
            assert config["weight_init"] == "nnet1", (system, config)  # conf/tiny/dnn.yaml
    pdfs = {system: int(re.search(r"<NUMPDFS> (\d+)",
                                  (work / "exp" / "full" / system / "final.mdl").read_text())[1])
            for system in ("mono", "tri1", "tri2")}
    assert pdfs["tri1"] > pdfs["mono"] and pdfs["tri2"] > pdfs["mono"], pdfs
    decodes = [work / "exp" / "full" / gmm / "decode_dev" for gmm in ("mono", "tri1", "tri2")]
    decodes += [work / "exp" / "full" / "seed1" / s / "decode_dev" for s in SYSTEMS]
    for decode in decodes:
        assert "%WER" in (decode / "scoring_kaldi" / "best_wer").read_text(), decode
    assert not list((work / "exp").rglob("decode_test"))   # test read only on demand
    assert not (work / "exp" / "quarter").exists()           # only the conditions asked for
    table = (work / "ACCURACY_dev.md").read_text()
    assert table.count("| full |") == 2 * (3 + len(SYSTEMS)) and "| quarter |" not in table
    assert "10 command words" in table
    results = (work / "RESULTS_dev.md").read_text()                  # kt_results.py, one split
    assert "## full training data" in results and "(a) KT-pre-trained LSTM" in results
    # --nn-gmm mono (the noisy copy's alignments follow it), --nn-prior-scale 0.5
    assert "alignments of the condition's `mono` GMM" in results
    assert "log-posterior - 0.5 log-prior" in results
    assert "DNN teachers (1)/(2): conf/dnn.yaml, --freq-mask 8 (run.sh --teacher-freq-mask 8)" \
        in results
    assert (work / "exp" / "full" / "mono_ali_aug" / "pdf.scp").exists()
    assert (work / "RESULTS_dev.png").stat().st_size > 0

    extra = tmp_path / "extra"
    _extra_corpus(speech_commands_dir, extra)
    models = sorted(work.glob("exp/*/seed1/*/final.pt"))
    stamps = [m.stat().st_mtime_ns for m in models]
    result = _run(["bash", run_sh, "--work", str(work), *TINY, "--extra-test", str(extra),
                   str(speech_commands_dir)], repo_root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert [m.stat().st_mtime_ns for m in models] == stamps          # nothing retrained
    assert len((data / "extra" / "all" / "text").read_text().splitlines()) == 5
    for s in SYSTEMS:
        assert (work / "exp" / "full" / "seed1" / s / "decode_extra" / "scoring_kaldi"
                / "best_wer").is_file()
    assert "5 clips" in (work / "ACCURACY_extra.md").read_text()
    assert "set 'extra'" in (work / "RESULTS_extra.md").read_text()
    for gmm in ("mono", "tri1", "tri2"):                             # the GMMs decode it too
        decode = work / "exp" / "full" / gmm / "decode_extra"
        assert (decode / "scoring_kaldi" / "best_wer").is_file(), gmm
