"""recipes/speechocean762/run.sh stages 0-2 on ../shared/data/speechocean762_sample (9 speakers:
6 train, 3 test): data dirs with the dev rule, dict + lang, the LMs with their perplexity table
and data/lang_test; a second call skips every stage's work; bad corpus folders stop stage 0 with
one error line and nothing in the work dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asrkt.corpora import speechocean762 as so
from asrkt.hmm.model import GmmModel

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(os.environ.get("ASRKT_SHARED_DATA", ROOT.parent / "shared" / "data")) \
    / "speechocean762_sample"


@pytest.fixture(scope="module")
def sample() -> Path:
    if not (SAMPLE / "WAVE").is_dir():
        pytest.skip(f"speechocean762 sample not found at {SAMPLE} (set ASRKT_SHARED_DATA to its "
                    "parent)")
    return SAMPLE


def _run(*args, script: str = "run.sh") -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run(["bash", str(ROOT / "recipes" / "speechocean762" / script),
                           *[str(a) for a in args]], env=env, capture_output=True, text=True,
                          timeout=300)


def _table(path: Path) -> dict:
    return dict(line.split(maxsplit=1) for line in path.read_text().splitlines())


@pytest.mark.slow
def test_stages_0_to_2_on_the_sample(sample, tmp_path):
    work = tmp_path / "work"
    result = _run("--stop-stage", 2, "--work", work, sample)
    assert result.returncode == 0, result.stderr[-3000:]
    for n in range(3):
        assert f"stage {n}:" in result.stderr
    data = work / "data"
    spk = {s: set(_table(data / s / "spk2age")) for s in ("train", "dev", "test")}
    corpus_train = {k: int(v) for k, v in _table(sample / "train" / "spk2age").items()}
    gender = _table(sample / "train" / "spk2gender")
    assert spk["dev"] == set(so.dev_speakers(corpus_train, gender))   # the rule, whole speakers
    # the sample's strata: child m 0001 0048, child f 0006, adult m 0482 0739, adult f 0575
    assert spk["dev"] == {"0001", "0006", "0482", "0575"}
    assert spk["dev"] and spk["train"] and not spk["dev"] & spk["train"]
    assert spk["dev"] | spk["train"] == set(corpus_train)
    assert spk["test"] == set(_table(sample / "test" / "spk2age"))
    utt2spk = _table(data / "dev" / "utt2spk")
    corpus_utts = [u for u, s in _table(sample / "train" / "utt2spk").items() if s in spk["dev"]]
    assert sorted(utt2spk) == sorted(corpus_utts)                    # every utterance of them
    for s in ("train", "dev", "test"):
        check = subprocess.run([str(Path(sys.executable).parent / "asrkt"), "validate-data-dir",
                                str(data / s)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    # the LM: trained on the training text only, its words exactly the lexicon's (closed)
    lm = data / "local" / "lm"
    train_text = {line.split(maxsplit=1)[1] for line in (data / "train" / "text").open()}
    assert set((lm / "train.txt").read_text().splitlines()) == {t.strip() for t in train_text}
    lexicon = so.lexicon_words(data / "local" / "dict")
    model = so.parse_arpa((lm / "lm.arpa").read_text())
    assert {g[0] for g in model[0]} - {"<s>", "</s>"} == lexicon
    assert set((data / "lang_test" / "words.txt").read_text().split()[::2]) >= lexicon
    order = int((lm / "order").read_text())
    dev = {n: so.parse_ppl_report((lm / f"ppl_{n}_dev.txt").read_text()).ppl for n in (2, 3, 4)}
    assert order == so.choose_order(dev)
    assert f"| {order} (chosen) |" in (lm / "ppl.txt").read_text()
    assert (data / "lang_test" / "G.fst").stat().st_size > 0
    phones = (data / "local" / "dict" / "nonsilence_phones.txt").read_text().split()
    assert len(phones) == 39 and "IH" in phones and "IH0" not in phones
    again = _run("--stop-stage", 2, "--work", work, sample)   # every stage's work is done already
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("done already, skipping") == 5, again.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["no train", "word", "wav"])
def test_bad_corpus_stops_with_one_line(sample, tmp_path, case):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "WAVE").symlink_to(sample / "WAVE")
    (corpus / "resource").symlink_to(sample / "resource")
    for name in ("train", "test"):
        (corpus / name).mkdir()
        for f in (sample / name).iterdir():
            (corpus / name / f.name).write_text(f.read_text())
    if case == "no train":
        for f in (corpus / "train").iterdir():
            f.unlink()
        (corpus / "train").rmdir()
        expected = f"{corpus}: no train/: not a speechocean762 folder"
    elif case == "word":
        text = corpus / "test" / "text"
        text.write_text(text.read_text().replace("\t", "\tZYZZYVA ", 1))
        expected = "word 'ZYZZYVA' is not in"
    else:
        bad = tmp_path / "bad.WAV"
        bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt nonsense")
        scp = corpus / "test" / "wav.scp"
        lines = scp.read_text().splitlines()
        lines[0] = f"{lines[0].split()[0]}\t../bad.WAV"     # the corpus's paths are relative
        scp.write_text("".join(line + "\n" for line in lines))
        expected = f"{bad}: unreadable WAV"
    work = tmp_path / "work"
    result = _run("--work", work, corpus)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert not (work / "data").exists()


@pytest.mark.slow
def test_gmm_stages_on_the_sample(sample, tmp_path):
    """Stages 3-7 (features, mono, tri1, tri2, dev decoding) with tiny sizes: the tri systems
    are context-dependent trees, tri2 carries its LDA+MLLT transform, every GMM decodes
    dev (2 training speakers: the numbers mean nothing, the plumbing does)."""
    work = tmp_path / "work"
    sizes = ["--mono-gauss", 150, "--tri1-leaves", 80, "--tri1-gauss", 250, "--tri2-leaves", 80,
             "--tri2-gauss", 250, "--decode-opts", "--beam 9 --max-active 700 --min-lmwt 10 "
             "--max-lmwt 12"]
    result = _run(*sizes, "--work", work, sample)
    assert result.returncode == 0, result.stderr[-3000:]
    for n in range(3, 8):
        assert f"stage {n}:" in result.stderr
    exp = work / "exp"
    models = {g: GmmModel.load(exp / g) for g in ("mono", "tri1", "tri2")}
    for g in ("tri1", "tri2"):      # the trees split the 40 stubs (one per phone root) on context
        assert models[g].cd_tree.context_width == 3 and models[g].num_pdfs > 40
    assert (exp / "tri2" / "final.mat").is_file() and models["tri2"].dim == 40
    counts = (exp / "tri2_ali" / "pdf_counts").read_text().strip("[] \n").split()
    assert len(counts) == models["tri2"].num_pdfs                # senone targets of the networks
    dev_text = (work / "data" / "dev" / "text").read_text().splitlines()
    words = sum(len(line.split()) - 1 for line in dev_text)
    for g in ("mono", "tri1", "tri2"):
        best = (exp / g / "decode_dev" / "scoring_kaldi" / "best_wer").read_text()
        assert f"/ {words}," in best, best
        hyps = (exp / g / "decode_dev" / "scoring" / "10.txt").read_text().splitlines()
        assert len(hyps) == len(dev_text)
    assert not (exp / "tri1" / "decode_test").exists()          # test is read for the tables only

    # the GMM dev study on this work dir: one tri1 point and the monophone, a 3-weight sweep
    table = tmp_path / "DEV_STUDY_gmm.md"
    study = _run("--tri1", "64:200", "--min-lmwt", 10, "--max-lmwt", 12, "--out", table, work,
                 script="local/gmm_dev_study.sh")
    assert study.returncode == 0, study.stderr[-3000:]
    point = exp / "gmm_study" / "tri1_l64_g200"
    assert GmmModel.load(point).num_pdfs > 40
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip().strip("|").split("|")]
            for line in table.read_text().splitlines() if line.startswith("| exp/")}
    assert list(rows) == ["exp/mono", "exp/gmm_study/tri1_l64_g200"]
    assert rows["exp/gmm_study/tri1_l64_g200"][1:3] == ["64", "200"]     # --num-leaves, --totgauss
    assert "| LMWT 10 | LMWT 11 | LMWT 12 | best |" in table.read_text()
    for d in (exp / "mono", point):
        best = (d / "decode_dev_lmwt10-12" / "scoring_kaldi" / "best_wer").read_text()
        assert f"/ {words}," in best, best
    assert not list(exp.glob("**/decode_test*"))
