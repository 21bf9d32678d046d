"""recipes/speechocean762/run.sh on ../shared/data/speechocean762_sample (9 speakers: 6 train,
3 test): stages 0-2 (data dirs with the dev rule, dict + lang, the LMs with their perplexity table
and data/lang_test; a second call skips every stage's work; bad corpus folders stop stage 0 with
one error line and nothing in the work dir); then one work dir (a module fixture) for the rest:
the GMMs of both training conditions with dev decoding only, the GMM dev study, and the neural
stages with conf/tiny (condition full, seed 1, --test true: every system decoded on dev and
test, the tables with the LM weight chosen on dev and the age-group table)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from asrkt.corpora import speechocean762 as so
from asrkt.corpora.speech_commands import in_quarter
from asrkt.hmm.model import GmmModel
from tests.helpers.markdown import table_rows

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from wer_grid import best, pool, read_counts  # noqa: E402

SAMPLE = Path(os.environ.get("ASRKT_SHARED_DATA", ROOT.parent / "shared" / "data")) \
    / "speechocean762_sample"


@pytest.fixture(scope="module")
def sample() -> Path:
    if not (SAMPLE / "WAVE").is_dir():
        pytest.skip(f"speechocean762 sample not found at {SAMPLE} (set ASRKT_SHARED_DATA to its "
                    "parent)")
    return SAMPLE


def _run(*args, script: str = "run.sh", timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run(["bash", str(ROOT / "recipes" / "speechocean762" / script),
                           *[str(a) for a in args]], env=env, capture_output=True, text=True,
                          timeout=timeout)


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


@pytest.mark.parametrize("option,value,expected", [
    ("--nn-gmm", "tri3", "'tri3' (--gmms/--nn-gmm) is not one of the trained GMMs: mono tri1 tri2"),
    ("--gmms", "mono tri4", "'tri4' (--gmms/--nn-gmm) is not one of the trained GMMs"),
    ("--conditions", "full half", "--conditions: full or quarter, not 'half'"),
    ("--conf", "/nonexistent/conf", "--conf: no folder '/nonexistent/conf'"),
    ("--kt-teachers", "rand dnn", "--kt-teachers: rand or rbm, not 'dnn'"),
    ("--nn-decode-systems", "lstm_ce lstm", "--nn-decode-systems: 'lstm' is not one of: dnn_rand")])
def test_bad_options_stop_with_one_line(tmp_path, option, value, expected):
    result = _run(option, value, "--work", tmp_path / "w", tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and expected in result.stderr, result.stderr
    assert not (tmp_path / "w").exists()


# tiny sizes: 2 training speakers; the numbers mean nothing, the plumbing does. The tiny models'
# near-flat scores fill any beam: narrow ones keep each decode under a second (max-active 50
# against 200 halves a dev decode, 2.4 -> 1.3 s wall on a loaded machine).
FAST_DECODE = "--beam 4 --max-active 50 --lattice-beam 2"
GMM_SIZES = ["--nj", 1, "--mono-gauss", 150, "--tri1-leaves", 80, "--tri1-gauss", 250,
             "--tri2-leaves", 80, "--tri2-gauss", 250,
             "--quarter-tri1-leaves", 48, "--quarter-tri1-gauss", 150,
             "--quarter-tri2-leaves", 48, "--quarter-tri2-gauss", 150,
             "--decode-opts", f"{FAST_DECODE} --min-lmwt 10 --max-lmwt 12"]
NN_OPTS = ["--conf", ROOT / "recipes" / "speechocean762" / "conf" / "tiny", "--seeds", 1,
           "--nn-min-lmwt", 10, "--nn-max-lmwt", 12,
           "--nn-decode-opts", f"--acoustic-scale 0.1 {FAST_DECODE}"]
SYSTEMS = ("dnn_rand", "dnn_rbm", "lstm_ce", "lstm_kt_rand_ft", "lstm_kt_rbm_ft",
           "lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg")


@pytest.fixture(scope="module")
def so762(sample, tmp_path_factory):
    """One work dir: (a) the whole recipe in one call, stages 0-16 with --test true, condition
    full (tiny GMM sizes, the networks of conf/tiny, seed 1): the GMMs, their dev and test
    decodes, the networks, their decodes (stage 15 as one decode-hybrid process) and the tables;
    (b) stages 3-7 of the quarter condition on it, test not decoded. Wall times per call in
    ``seconds`` (pytest -s prints them: the e2e call's time of issue 23)."""
    work = tmp_path_factory.mktemp("so762") / "work"
    start = time.time()
    run = _run(*GMM_SIZES, *NN_OPTS, "--conditions", "full", "--test", "true", "--work", work,
               sample, timeout=1200)
    seconds = {"stages 0-16, full, --test true": time.time() - start}
    assert run.returncode == 0, run.stderr[-3000:]
    start = time.time()
    quarter = _run(*GMM_SIZES, "--stage", 3, "--stop-stage", 7, "--conditions", "quarter",
                   "--work", work, sample)
    seconds["stages 3-7, quarter"] = time.time() - start
    assert quarter.returncode == 0, quarter.stderr[-3000:]
    print(f"\nspeechocean762 recipe on the sample: {seconds}")   # the profile (pytest -s)
    for result in (run, quarter):
        print("\n".join(line for line in result.stderr.splitlines() if " stage " in line[:30]))
    return SimpleNamespace(work=work, run=run, quarter=quarter, seconds=seconds)


def _words(path: Path) -> int:
    return sum(len(line.split()) - 1 for line in path.read_text().splitlines())


@pytest.mark.slow
def test_gmm_stages_on_the_sample(so762):
    """Stages 3-7 (features, mono, tri1, tri2, dev decoding) with tiny sizes for both training
    conditions: the tri systems are context-dependent trees, tri2 carries its LDA+MLLT
    transform, every GMM decodes dev, test is decoded only with --test true; the quarter
    condition trains on speech_commands' 25% rule in exp/quarter, with its own sizes."""
    work = so762.work
    for n in range(3, 8):
        assert f"stage {n}:" in so762.run.stderr and f"stage {n}:" in so762.quarter.stderr
    assert "stage 8:" not in so762.quarter.stderr
    exp = work / "exp"
    models = {g: GmmModel.load(exp / g) for g in ("mono", "tri1", "tri2")}
    for g in ("tri1", "tri2"):      # the trees split the 40 stubs (one per phone root) on context
        assert models[g].cd_tree.context_width == 3 and models[g].num_pdfs > 40
    assert (exp / "tri2" / "final.mat").is_file() and models["tri2"].dim == 40
    counts = (exp / "tri2_ali" / "pdf_counts").read_text().strip("[] \n").split()
    assert len(counts) == models["tri2"].num_pdfs                # senone targets of the networks
    dev_text = (work / "data" / "dev" / "text").read_text().splitlines()
    words = _words(work / "data" / "dev" / "text")
    for d in ("", "quarter/"):
        for g in ("mono", "tri1", "tri2"):
            best_wer = (exp / f"{d}{g}" / "decode_dev" / "scoring_kaldi" / "best_wer").read_text()
            assert f"/ {words}," in best_wer, best_wer
            hyps = (exp / f"{d}{g}" / "decode_dev" / "scoring" / "10.txt").read_text()
            assert len(hyps.splitlines()) == len(dev_text)
    assert (exp / "tri2" / "decode_test").is_dir()                # --test true
    assert not list((exp / "quarter").glob("*/decode_test*"))     # without it: not read
    # quarter: the utterances of data/train that speech_commands' rule keeps, and only those
    train = list(_table(work / "data" / "train" / "utt2spk"))
    quarter = (work / "data" / "lists" / "train_quarter.list").read_text().split()
    assert quarter == sorted(u for u in train if in_quarter(u)) and 0 < len(quarter) < len(train)
    assert sorted(_table(work / "data" / "mfcc" / "quarter" / "train" / "utt2spk")) == quarter
    ali = (exp / "quarter" / "tri2_ali" / "ali.scp").read_text().split()[::2]
    assert set(ali) <= set(quarter) and GmmModel.load(exp / "quarter" / "tri2").num_pdfs > 1
    for g in ("tri1", "tri2"):      # --quarter-<g>-leaves/-gauss, not the full condition's 80/250
        config = (exp / "quarter" / g / "config.yaml").read_text()
        assert "num_leaves: 48\n" in config and "totgauss: 150\n" in config, config
        assert "num_leaves: 80\n" in (exp / g / "config.yaml").read_text()


@pytest.mark.study
@pytest.mark.slow
def test_gmm_dev_study_on_the_recipe_work_dir(so762, tmp_path):
    """local/gmm_dev_study.sh on the work dir: one tri1 point, the monophone and run.sh's tri2
    (--recipe-gmms, not retrained), a 3-weight sweep: the table's rows, sizes and LM-weight
    columns; no test decoding; a --recipe-gmms that is not a triphone system stops; --cond quarter
    studies the 25% condition's own systems."""
    work, exp = so762.work, so762.work / "exp"
    words = _words(work / "data" / "dev" / "text")
    test_dirs = sorted(exp.glob("**/decode_test*"))
    table = tmp_path / "DEV_STUDY_gmm.md"
    tri2_model = (exp / "tri2" / "final.mdl").stat().st_mtime_ns
    study = _run("--tri1", "64:200", "--recipe-gmms", "tri2", "--min-lmwt", 10, "--max-lmwt", 12,
                 "--decode-opts", FAST_DECODE, "--out", table, work,
                 script="local/gmm_dev_study.sh")
    assert study.returncode == 0, study.stderr[-3000:]
    assert (exp / "tri2" / "final.mdl").stat().st_mtime_ns == tri2_model
    point = exp / "gmm_study" / "tri1_l64_g200"
    assert GmmModel.load(point).num_pdfs > 40
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip().strip("|").split("|")]
            for line in table.read_text().splitlines() if line.startswith("| exp/")}
    assert list(rows) == ["exp/mono", "exp/tri2", "exp/gmm_study/tri1_l64_g200"]
    assert rows["exp/gmm_study/tri1_l64_g200"][1:3] == ["64", "200"]     # --num-leaves, --totgauss
    assert rows["exp/tri2"][1:3] == [str(GMM_SIZES[GMM_SIZES.index("--tri2-leaves") + 1]),
                                     str(GMM_SIZES[GMM_SIZES.index("--tri2-gauss") + 1])]
    assert "| LMWT 10 | LMWT 11 | LMWT 12 | best |" in table.read_text()
    bad = _run("--tri1", "", "--recipe-gmms", "mono", "--out", tmp_path / "x.md", work,
               script="local/gmm_dev_study.sh")
    assert bad.returncode != 0 and "--recipe-gmms: tri1 or tri2, not 'mono'" in bad.stderr
    for d in (exp / "mono", exp / "tri2", point):
        best_wer = (d / "decode_dev_lmwt10-12" / "scoring_kaldi" / "best_wer").read_text()
        assert f"/ {words}," in best_wer, best_wer
    # --cond quarter: the 25% condition's own systems (exp/quarter/...), nothing of the full one's
    quarter_table = tmp_path / "DEV_STUDY_gmm_quarter.md"
    quarter = _run("--cond", "quarter", "--tri1", "", "--recipe-gmms", "tri1", "--min-lmwt", 10,
                   "--max-lmwt", 10, "--decode-opts", FAST_DECODE, "--out", quarter_table, work,
                   script="local/gmm_dev_study.sh")
    assert quarter.returncode == 0, quarter.stderr[-3000:]
    assert [line.split("|")[1].strip() for line in quarter_table.read_text().splitlines()
            if line.startswith("| exp/")] == ["exp/quarter/mono", "exp/quarter/tri1"]
    assert "condition quarter (data/mfcc/quarter/train)" in quarter_table.read_text()
    bad_cond = _run("--cond", "half", work, script="local/gmm_dev_study.sh")
    assert bad_cond.returncode != 0 and "--cond: full or quarter, not 'half'" in bad_cond.stderr
    assert sorted(exp.glob("**/decode_test*")) == test_dirs


def _section(md: str, cond: str) -> str:
    return md.split(f"## {cond} training data")[1].split("\n## ")[0]


@pytest.mark.slow
def test_neural_stages_on_the_sample(so762):
    """Stages 8-16 (condition full, seed 1, conf/tiny, --test true): every system decodes dev
    and test over the right number of words through tri2's graph; RESULTS.md scores test at
    each system's lowest-dev-WER LM weight; the age table adds up to the set."""
    work, result = so762.work, so762.run
    for n in range(8, 17):
        assert f"stage {n}:" in result.stderr
    exp = work / "exp"
    words = {s: _words(work / "data" / s / "text") for s in ("dev", "test")}
    post = (exp / "full" / "seed1" / "dnn_rand_post" / "posteriors.yaml").read_text()
    assert "top_k: 20" in post                                   # --top-k's default
    for system in SYSTEMS:
        s = exp / "full" / "seed1" / system
        for x in ("dev", "test"):
            best_wer = (s / f"decode_{x}" / "scoring_kaldi" / "best_wer").read_text()
            assert f"/ {words[x]}," in best_wer, (system, best_wer)
            assert sorted(p.name for p in (s / f"decode_{x}").glob("wer_*")) == \
                ["wer_10", "wer_11", "wer_12"]
            assert not (s / f"loglikes_{x}").exists()            # removed once decoded
    assert not (exp / "quarter" / "seed1").exists()              # --conditions full this time
    assert (exp / "tri2" / "decode_test" / "scoring_kaldi" / "best_wer").is_file()
    assert not (exp / "quarter" / "tri2" / "decode_test").exists()
    md = (work / "RESULTS.md").read_text()
    assert (work / "RESULTS.png").stat().st_size > 0 and (work / "RESULTS_dev.png").is_file()
    ppl = next(line for line in (work / "data/local/lm/ppl.txt").read_text().splitlines()
               if "(chosen)" in line).strip("|").split("|")
    assert f"dev perplexity {ppl[1].strip()}, OOV {ppl[2].strip()} %; test perplexity " \
           f"{ppl[4].strip()}" in md
    full = _section(md, "full")
    table = table_rows(full, "| system | %WER")
    for system in ("mono", "tri1", "tri2", *SYSTEMS):
        d = exp / (system if system in ("mono", "tri1", "tri2") else f"full/seed1/{system}")
        weight, _ = best(pool([read_counts(d / "decode_dev")]))
        errors, n = read_counts(d / "decode_test")[weight]
        assert table[system][0] == f"{100 * errors / n:.2f}", (system, table[system])
        assert table[system][2] == str(weight)                   # LM weight per seed
    ages = table_rows(full, "| system | children")
    groups = [int(n) for n in ages["words"]]
    assert sum(groups[:-1]) == groups[-1] == words["test"]
    for system in ("tri2", *SYSTEMS):
        cells = [c.split("[")[1].rstrip("]").split("/") for c in ages[system]]
        assert sum(int(e) for e, _ in cells[:-1]) == int(cells[-1][0])
        assert [int(n) for _, n in cells] == groups
        assert ages[system][-1].startswith(table[system][0] + " ")
    dev_md = (work / "RESULTS_dev.md").read_text()
    assert "chosen on the same data as the table" in dev_md and "test perplexity" not in dev_md
    assert table_rows(_section(dev_md, "full"), "| system | children")["words"][-1] == \
        str(words["dev"])



@pytest.mark.slow
def test_stage_15_decodes_every_system_in_one_process(so762, tmp_path):
    """Stage 15 decodes the cell's 7 systems x 2 sets in one decode-hybrid (the first as its
    arguments, the rest as --also: every decode dir's log starts with the same command line),
    and a decode made alone gives the same hypotheses at every LM weight."""
    work, net = so762.work, so762.work / "exp" / "full" / "seed1"
    heads = {(system, x): (net / system / f"decode_{x}" / "log" / "decode-hybrid.log")
             .read_text().splitlines()[0].split("# ", 1)[1] for system in SYSTEMS
             for x in ("dev", "test")}
    assert len(set(heads.values())) == 1           # the command line, after the time stamp
    command = next(iter(heads.values())).split()
    assert command.count("--also") == len(heads) - 1
    first = command.index("--also")
    options = command[command.index("decode-hybrid") + 1:first]
    alone = tmp_path / "lstm_ce_test"
    result = subprocess.run([str(Path(sys.executable).parent / "asrkt"), "decode-hybrid",
                             *options, "exp/tri2/graph", "exp/full/seed1/lstm_ce",
                             "data/fbank/test", "exp/tri2", str(alone)],
                            cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    batched = net / "lstm_ce" / "decode_test" / "scoring"
    names = sorted(p.name for p in batched.glob("*.txt"))
    assert names == ["10.txt", "11.txt", "12.txt"]
    for name in names:
        assert (alone / "scoring" / name).read_text() == (batched / name).read_text(), name

@pytest.mark.slow
def test_tables_take_the_weight_chosen_on_dev_not_tests_best(so762, tmp_path):
    """A constructed case on a copy of the work dir: lstm_ce's dev hypotheses at one LM weight
    replaced by dev's references (scored again) so that dev's best weight is one where test is
    not at its best; stage 16 alone scores test there."""
    work = tmp_path / "work"
    shutil.copytree(so762.work / "data", work / "data", symlinks=True)
    shutil.copytree(so762.work / "exp", work / "exp", symlinks=True)
    s = work / "exp" / "full" / "seed1" / "lstm_ce"
    test = read_counts(s / "decode_test")
    own = best(pool([test]))[0]
    # a weight other than test's own best, the worst on test (the lowest such weight on ties)
    other = max(sorted(w for w in test if w != own), key=lambda w: test[w][0])
    # dev's hypotheses at that weight made the references, then scored again (asrkt score)
    shutil.copy(work / "data" / "dev" / "text", s / "decode_dev" / "scoring" / f"{other}.txt")
    rescore = subprocess.run([str(Path(sys.executable).parent / "asrkt"), "score",
                              str(work / "data" / "dev"), str(s / "decode_dev")],
                             capture_output=True, text=True)
    assert rescore.returncode == 0, rescore.stderr
    assert best(pool([read_counts(s / "decode_dev")]))[0] == other
    result = _run(*GMM_SIZES, *NN_OPTS, "--stage", 16, "--conditions", "full", "--test", "true",
                  "--work", work, so762.work / "none")          # stage 16 reads no corpus
    assert result.returncode == 0, result.stderr[-3000:]
    table = table_rows(_section((work / "RESULTS.md").read_text(), "full"), "| system | %WER")
    errors, n = test[other]
    assert table["lstm_ce"][0] == f"{100 * errors / n:.2f}" and table["lstm_ce"][2] == str(other)
    assert other != own


@pytest.mark.slow
def test_a_cell_in_parts_and_its_tables_from_a_bundle(so762, tmp_path):
    """The several-sittings workflow (README): stage 15 decodes only --nn-decode-systems; the
    table inputs packed by scripts/results_bundle.py and unpacked into a work dir that has only
    data/ (another machine's stages 0-2) make the same RESULTS.md and RESULTS_dev.md tables."""
    parts = tmp_path / "parts"
    shutil.copytree(so762.work / "data", parts / "data", symlinks=True)
    shutil.copytree(so762.work / "exp", parts / "exp", symlinks=True)
    net = parts / "exp" / "full" / "seed1"
    for system in ("lstm_ce", "dnn_rand"):
        shutil.rmtree(net / system / "decode_dev")
    result = _run(*GMM_SIZES, *NN_OPTS, "--stage", 15, "--stop-stage", 15, "--conditions", "full",
                  "--nn-decode-systems", "lstm_ce", "--work", parts, so762.work / "none")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (net / "dnn_rand" / "decode_dev").exists()
    original = so762.work / "exp" / "full" / "seed1" / "lstm_ce" / "decode_dev"
    assert (net / "lstm_ce" / "decode_dev" / "scoring" / "11.txt").read_text() \
        == (original / "scoring" / "11.txt").read_text()

    bundle, other = tmp_path / "cell.tar.gz", tmp_path / "other"
    shutil.copytree(so762.work / "data", other / "data", symlinks=True)
    tool = [sys.executable, str(ROOT / "scripts" / "results_bundle.py")]
    for args in (["pack", bundle, "--work", so762.work, "exp/full/seed1", "exp/mono", "exp/tri1",
                  "exp/tri2"], ["unpack", bundle, "--work", other]):
        done = subprocess.run([*tool, *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert not list(other.glob("exp/**/*.pt")) and not list(other.glob("exp/**/lat*"))
    result = _run(*GMM_SIZES, *NN_OPTS, "--stage", 16, "--conditions", "full", "--test", "true",
                  "--work", other, so762.work / "none")
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("RESULTS.md", "RESULTS_dev.md"):
        here, there = (so762.work / name).read_text(), (other / name).read_text()
        for header in ("| system | %WER", "| system | children"):
            assert table_rows(here, header) == table_rows(there, header), (name, header)
        assert len(table_rows(there, "| system | %WER")) >= len(SYSTEMS) + 3


@pytest.mark.slow
def test_run_cell_trains_a_cell_as_two_chains_with_the_same_results(so762, tmp_path):
    """local/run_cell.sh on a copy of the work dir without the seed-1 networks: the two chains
    (one process each, side by side) train and decode all seven systems, each chain only its
    own (the RBMs in the rbm chain's log alone), and every decode equals the one-process run's;
    without the condition's graph it stops before training."""
    work = tmp_path / "work"
    shutil.copytree(so762.work / "data", work / "data", symlinks=True)
    shutil.copytree(so762.work / "exp", work / "exp", symlinks=True,
                    ignore=lambda d, names: ["seed1"] if Path(d).name == "full" else [])
    result = _run("--work", work, "--cond", "full", "--seed", 1, so762.work / "none", *NN_OPTS,
                  "--nj", 1, script="local/run_cell.sh", timeout=600)
    logs = {c: (work / "log" / f"cell_full_seed1_{c}.log").read_text() for c in ("rand", "rbm")}
    assert result.returncode == 0, result.stderr[-900:] + logs["rand"][-900:] + logs["rbm"][-900:]
    assert "pretrain-rbm" in logs["rbm"] and "pretrain-rbm" not in logs["rand"]
    assert "exp/full/seed1/lstm_ce" in logs["rbm"] and "exp/full/seed1/lstm_ce" not in logs["rand"]
    for system in SYSTEMS:
        mine = work / "exp" / "full" / "seed1" / system / "decode_dev" / "scoring"
        theirs = so762.work / "exp" / "full" / "seed1" / system / "decode_dev" / "scoring"
        for name in ("10.txt", "11.txt", "12.txt"):
            assert (mine / name).read_text() == (theirs / name).read_text(), (system, name)
    bare = _run("--work", tmp_path / "bare", "--cond", "quarter", so762.work / "none",
                script="local/run_cell.sh")
    assert bare.returncode == 1 and "exp/quarter/tri2/graph: not built; run run.sh " \
        "--stop-stage 7 --conditions quarter first" in bare.stderr, bare.stderr


@pytest.mark.study
@pytest.mark.slow
def test_nn_dev_study_on_the_recipe_work_dir(so762, tmp_path):
    """local/nn_dev_study.sh on the work dir: run.sh's dnn_rand (not retrained), a variant
    with frequency masking (trained here, --freq-mask 4 in its config) and a KT student
    fine-tuned here at another learning rate from run.sh's KT pre-trained lstm_kt_rand (not
    retrained), decoded on dev at prior scale 0.5; the table decides at each system's best dev
    LM weight (run.sh's rule) next to the tri2 GMM's stage-7 decode; no test decoding."""
    work, exp = so762.work, so762.work / "exp"
    net = exp / "full" / "seed1"
    trained = (net / "dnn_rand" / "final.pt").stat().st_mtime
    kt_trained = (net / "lstm_kt_rand" / "final.pt").stat().st_mtime
    test_dirs = sorted(exp.glob("**/decode_test*"))
    table = tmp_path / "DEV_STUDY_nn.md"
    study = _run("--conf", ROOT / "recipes" / "speechocean762" / "conf" / "tiny",
                 "--systems", "dnn_rand dnn_rand_fm4 lstm_kt_rand_ft_lr0.0005",
                 "--prior-scales", "0.5",
                 "--decode-opts", FAST_DECODE, "--out", table, work,
                 script="local/nn_dev_study.sh")
    assert study.returncode == 0, study.stderr[-3000:]
    assert (net / "dnn_rand" / "final.pt").stat().st_mtime == trained
    assert "freq_mask: 4" in (net / "dnn_rand_fm4" / "config.yaml").read_text()
    assert (net / "lstm_kt_rand" / "final.pt").stat().st_mtime == kt_trained
    student = net / "lstm_kt_rand_ft_lr0.0005"
    assert "learning_rate: 0.0005" in (student / "config.yaml").read_text()
    assert "--init exp/full/seed1/lstm_kt_rand " in (student / "log" / "finetune.log").read_text()
    words = _words(work / "data" / "dev" / "text")
    for n in ("dnn_rand", "dnn_rand_fm4", "lstm_kt_rand_ft_lr0.0005"):
        d = net / n / "decode_dev_ps0.5_sweep"
        assert f"/ {words}," in (d / "scoring_kaldi" / "best_wer").read_text()
        assert not (net / n / "loglikes_dev_ps0.5_sweep").exists()  # removed once decoded
    text = table.read_text()
    assert "at each system's best LM weight over 4..17" in text
    rows = table_rows(text, "| system | targets |")
    assert set(rows) == {"dnn_rand", "dnn_rand_fm4", "lstm_kt_rand_ft_lr0.0005"}
    assert rows["dnn_rand"][0] == "tri2"
    for n in rows:     # S = 0.5: the best weight of the sweep, as the decode dir scored it
        lmwt, wer = best(pool([read_counts(net / n / "decode_dev_ps0.5_sweep")]))
        assert f"{wer:.2f} (LMWT {lmwt})" in rows[n][1]
    gmm = best(pool([read_counts(exp / "tri2" / "decode_dev")]))
    gmm_cell = table_rows(text, "| targets | pdfs |")["tri2"][1]
    assert gmm_cell.endswith(f"{gmm[1]:.2f} (LMWT {gmm[0]})")
    assert sorted(exp.glob("**/decode_test*")) == test_dirs


@pytest.mark.study
@pytest.mark.slow
def test_stress_dev_study_on_the_recipe_work_dir(so762, sample, tmp_path):
    """local/stress_dev_study.sh on the work dir: run.sh's stages 1-6 with --keep-stress true in
    stress_kept/ (its dict groups a vowel's stress variants on one root, its own GMMs, the
    work dir's data and features linked), both dicts' systems decoded on dev, the table's rows;
    run.sh's own systems untouched, test not decoded; a stress-kept work dir is refused."""
    work, exp = so762.work, so762.work / "exp"
    test_dirs = sorted(exp.glob("**/decode_test*"))
    tri2_model = (exp / "tri2" / "final.mdl").stat().st_mtime_ns
    sizes = GMM_SIZES[:GMM_SIZES.index("--decode-opts")]
    table = tmp_path / "DEV_STUDY_stress.md"
    study = _run("--nj", 1, "--run-opts", " ".join(str(a) for a in sizes), "--min-lmwt", 10,
                 "--max-lmwt", 10, "--decode-opts", FAST_DECODE, "--out", table, work, sample,
                 script="local/stress_dev_study.sh")
    assert study.returncode == 0, study.stderr[-3000:]
    kept = work / "stress_kept"
    dict_lines = (kept / "data" / "local" / "dict" / "nonsilence_phones.txt").read_text()
    assert any(line.split() == ["AH0", "AH1", "AH2"] for line in dict_lines.splitlines())
    assert "AH1 " in (kept / "data" / "local" / "dict" / "extra_questions.txt").read_text()
    assert (kept / "data" / "mfcc").resolve() == (work / "data" / "mfcc").resolve()
    assert GmmModel.load(kept / "exp" / "tri2").num_pdfs > 40
    assert (exp / "tri2" / "final.mdl").stat().st_mtime_ns == tri2_model
    rows = [line.split("|")[1].strip() for line in table.read_text().splitlines()
            if line.startswith("| exp/") or line.startswith("| stress_kept/")]
    assert rows == ["exp/mono", "exp/tri1", "exp/tri2", "stress_kept/exp/mono",
                    "stress_kept/exp/tri1", "stress_kept/exp/tri2"]
    assert "| LMWT 10 | best |" in table.read_text()
    assert sorted(exp.glob("**/decode_test*")) == test_dirs
    assert not list(kept.glob("exp/**/decode_test*"))
    refused = _run("--out", tmp_path / "x.md", kept, sample, script="local/stress_dev_study.sh")
    assert refused.returncode != 0 and "was run with --keep-stress true" in refused.stderr
