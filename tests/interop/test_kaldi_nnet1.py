"""scripts/kaldi_nnet1.sh (the Kaldi nnet1 anchor of issue 22) on the toy corpus
(tests/helpers/toy_hmm.py: 40 training and 20 test utterances of synthetic 13-dim features, a
YES/NO grammar): asrkt's monophone GMM, alignments, pdf alignments and graph, then nnet1's
feature transform, training (random init and DBN-pretrained, one or two epochs of a small
network; and --network-type lstm: LstmProjected layers trained with nnet-train-multistream)
and decoding with Kaldi's binaries. Checks the log-likelihoods (one matrix per test
utterance, one column per pdf, which asrkt reads), the scored LM weights and the newbob logs;
skipped with a message when the reference build (tests/interop/test_kaldi_interop.py finds it)
lacks the nnet1 tools. The input checks and the skip itself run without Kaldi."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.test_kaldi_interop import KALDI_ROOT

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from nnet1_anchor_table import epochs_kaldi  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "kaldi_nnet1.sh"
TOOLS = ("nnet-initialize", "nnet-train-frmshuff", "nnet-forward", "nnet-concat", "cmvn-to-nnet",
         "rbm-train-cd1-frmshuff", "rbm-convert-to-nnet", "latgen-faster-mapped",
         "lattice-best-path", "compute-wer", "analyze-counts", "ali-to-post", "hmm-info")
SMALL = ["--hid-layers", "1", "--hid-dim", "32", "--splice", "2", "--max-iters", "2",
         "--min-lmwt", "9", "--max-lmwt", "11", "--learn-rate", "0.05"]


def nnet1(*args, kaldi_root: Path = KALDI_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), "--kaldi-root", str(kaldi_root), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy corpus with asrkt's lang, monophone GMM, pdf alignments and HCLG."""
    from tests.cli.test_cli_hmm import run
    from tests.helpers.gmm_toy import toy_mono_dirs

    root = toy_mono_dirs(tmp_path_factory.mktemp("nnet1"))
    run("ali-to-pdf", str(root / "mono_ali"), f"scp:{root / 'mono_ali' / 'ali.scp'}",
        str(root / "mono_ali" / "pdf.ark"))
    run("make-graph", str(root / "lang_test"), str(root / "mono"), str(root / "graph"))
    return root


def inputs(root: Path, exp: Path):
    return [root / "train", root / "mono_ali", root / "mono", root / "graph", exp]


def test_skips_with_a_message_without_the_nnet_tools(toy, tmp_path):
    result = nnet1(*inputs(toy, tmp_path / "exp"), kaldi_root=tmp_path / "no_build")
    assert result.returncode == 0, result.stderr
    assert "kaldi_nnet1.sh: skipped: the Kaldi build in" in result.stderr
    assert not (tmp_path / "exp").exists()


@pytest.mark.parametrize("case", ["no_pdf", "bad_option", "cv_unknown", "no_cmvn"])
def test_bad_input_is_one_error_line(toy, tmp_path, case):
    args = inputs(toy, tmp_path / "exp")
    opts = []
    if case == "no_pdf":
        args[1] = toy / "mono"          # a model dir, no pdf.scp
    elif case == "bad_option":
        opts = ["--hid-dim", "many"]
    elif case == "cv_unknown":
        (tmp_path / "cv.list").write_text("nobody\n")
        opts = ["--cv-list", tmp_path / "cv.list"]
    else:
        opts = ["--cmvn-opts", "--norm-vars=false"]
        args[0] = tmp_path / "data"
        args[0].mkdir()
        for f in ("feats.scp", "utt2spk"):
            (args[0] / f).write_text((toy / "train" / f).read_text())
    result = nnet1(*opts, *args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kaldi_nnet1.sh: error: "), result.stderr
    expected = {"no_pdf": "pdf.scp does not exist", "bad_option": "--hid-dim: a whole number",
                "cv_unknown": "utterance nobody is not in", "no_cmvn": "cmvn.scp does not exist"}
    assert expected[case] in lines[0]


def _need_build():
    missing = [t for t in TOOLS if not (KALDI_ROOT / "bin" / t).exists()]
    if missing:
        pytest.skip(f"the reference Kaldi build {KALDI_ROOT / 'bin'} has no {', '.join(missing)} "
                    f"(run scripts/build_kaldi_reference.sh or set ASRKT_KALDI_ROOT)")


@pytest.mark.parametrize("pretrain", ["false", "true"])
def test_trains_and_decodes_with_kaldi(toy, tmp_path, pretrain):
    _need_build()
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import read_table

    exp = tmp_path / "exp"
    result = nnet1(*SMALL, "--pretrain", pretrain, "--rbm-iter", "1",
                   "--cmvn-opts", "--norm-means=true --norm-vars=false",
                   "--decode-sets", toy / "test", *inputs(toy, exp))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (exp / "final.nnet").exists() and (exp / "final.feature_transform").exists()
    epochs = sorted((exp / "log").glob("iter*.cv.log"))
    assert [p.name for p in epochs] == ["iter01.cv.log", "iter02.cv.log"]
    for p in epochs:
        assert re.search(r"AvgLoss: [0-9.]+", p.read_text())
    if pretrain == "true":
        assert (exp / "dbn" / "1.dbn").exists()
    # log-likelihoods: one [frames x pdfs] matrix per test utterance, finite
    num_pdfs = GmmModel.load(toy / "mono").num_pdfs
    dec = exp / "decode_test"
    mats = dict(read_table(f"scp:{dec / 'loglikes.scp'}"))
    test_utts = [ln.split()[0] for ln in (toy / "test" / "feats.scp").read_text().splitlines()]
    assert sorted(mats) == sorted(test_utts)
    assert all(m.shape[1] == num_pdfs and m.shape[0] > 0 for m in mats.values())
    # a WER per LM weight (compute-wer over the test words) and the best of them
    words = sum(len(ln.split()) - 1 for ln in (toy / "test" / "text").read_text().splitlines())
    wers = {}
    for w in (9, 10, 11):
        m = re.match(rf"%WER ([0-9.]+) \[ \d+ / {words},", (dec / f"wer_{w}").read_text())
        assert m, (dec / f"wer_{w}").read_text()
        wers[w] = float(m.group(1))
    best = (dec / "scoring_kaldi" / "best_wer").read_text().strip()
    w_best = min(wers, key=lambda w: (wers[w], w))
    assert best.startswith(f"%WER {wers[w_best]:.2f} [") and best.endswith(f"{dec}/wer_{w_best}")
    # asrkt decode-nnet reads the log-likelihoods and finds Kaldi's best paths at LMWT 10
    from tests.cli.test_cli_hmm import run
    run("decode-nnet", "--min-lmwt", "10", "--max-lmwt", "10", "--lattice-beam", "8",
        "--data-dir", str(toy / "test"), str(toy / "graph"), f"scp:{dec / 'loglikes.scp'}",
        str(toy / "mono"), str(tmp_path / "asrkt_decode"))
    ours = (tmp_path / "asrkt_decode" / "scoring" / "10.txt").read_text().split("\n")
    theirs = (dec / "scoring" / "10.txt").read_text().split("\n")
    assert sorted(x.strip() for x in ours if x.strip()) == \
        sorted(x.strip() for x in theirs if x.strip())
    # a second call finds everything done
    again = nnet1(*SMALL, "--pretrain", pretrain, "--rbm-iter", "1",
                  "--cmvn-opts", "--norm-means=true --norm-vars=false",
                  "--decode-sets", toy / "test", *inputs(toy, exp))
    assert again.returncode == 0 and "epoch" not in again.stderr and "decode test:" in again.stderr


@pytest.mark.parametrize("fraction", ["0", "0.1"])
def test_unaligned_utterances_are_skipped_up_to_max_skip_fraction(toy, tmp_path, fraction):
    """An utterance the GMM did not align (speechocean762's tri2 leaves one of 1,940): an error
    line naming it by default; with --max-skip-fraction it leaves the training and CV lists."""
    _need_build()
    ali = tmp_path / "ali"
    ali.mkdir()
    lines = (toy / "mono_ali" / "pdf.scp").read_text().splitlines()
    lost = lines[0].split()[0]
    (ali / "pdf.scp").write_text("\n".join(lines[1:]) + "\n")
    exp = tmp_path / "exp"
    args = inputs(toy, exp)
    args[1] = ali
    result = nnet1("--stop-stage", "1", "--max-skip-fraction", fraction, "--cv-fraction", "0.25",
                   *args)
    if fraction == "0":
        assert result.returncode == 1
        err = result.stderr.strip().splitlines()
        assert err[-1].startswith("kaldi_nnet1.sh: error: ") and \
            f"no alignment for utterance {lost} of" in err[-1], result.stderr
        assert not (exp / ".prep_done").exists()
        return
    assert result.returncode == 0, result.stderr[-3000:]
    assert (exp / "log" / "unaligned.list").read_text().split() == [lost]
    assert f"1 of {len(lines)} utterances without an alignment" in result.stderr
    listed = [ln.split()[0] for f in ("train.scp", "cv.scp")
              for ln in (exp / f).read_text().splitlines()]
    assert lost not in listed and len(listed) == len(lines) - 1


LSTM = ["--network-type", "lstm", "--hid-layers", "2", "--cell-dim", "16", "--proj-dim", "8",
        "--target-delay", "2", "--num-streams", "2", "--batch-size", "10", "--cv-fraction", "0.25",
        "--learn-rate", "0.02", "--momentum", "0.9", "--max-iters", "4", "--min-lmwt", "9",
        "--max-lmwt", "11", "--cmvn-opts", "--norm-means=true --norm-vars=false"]


def test_lstm_trains_and_decodes_with_kaldi(toy, tmp_path):
    """--network-type lstm: make_lstm_proto.py's network (LstmProjected layers) trained with
    nnet-train-multistream, the target delay as a <Splice> of one offset, decoded as the DNN."""
    _need_build()
    if not (KALDI_ROOT / "bin" / "nnet-train-multistream").exists():
        pytest.skip(f"the reference Kaldi build {KALDI_ROOT / 'bin'} has no nnet-train-multistream "
                    f"(scripts/build_kaldi_reference.sh builds it)")
    exp = tmp_path / "exp"
    result = nnet1(*LSTM, "--decode-sets", toy / "test", *inputs(toy, exp))
    assert result.returncode == 0, result.stderr[-3000:]
    # the network: two LstmProjected layers of 16 cells / 8 outputs, Tanh, the output layer
    text = subprocess.run([str(KALDI_ROOT / "bin" / "nnet-copy"), "--binary=false",
                           str(exp / "final.nnet"), "-"], capture_output=True, text=True,
                          check=True).stdout
    comps = re.findall(r"^<(LstmProjected|Tanh|AffineTransform|Softmax)> (\d+) (\d+)", text, re.M)
    assert [c[0] for c in comps] == ["LstmProjected", "LstmProjected", "Tanh", "AffineTransform",
                                     "Softmax"], comps
    assert comps[0][1:] == ("8", "13") and comps[1][1:] == ("8", "8")
    # the feature transform: no splicing, the delay (frame t gets t + 2), then global CMVN
    assert "<BuildVector> 2 </BuildVector>" in (exp / "delay2.proto").read_text()
    assert not list(exp.glob("splice*.proto"))
    # trained by nnet-train-multistream; the kept network's CV frame accuracy well above chance
    # (the most frequent pdf's share of the training frames, from the priors' counts)
    first = (exp / "log" / "iter01.tr.log").read_text().splitlines()[0]
    assert "nnet-train-multistream" in first and "--num-streams=2" in first
    counts = [float(x) for x in re.findall(r"[0-9.]+", (exp / "ali_train_pdf.counts").read_text())]
    chance = 100.0 * max(counts) / sum(counts)
    epochs = epochs_kaldi(exp)
    kept = [e for e in epochs if e["accepted"]]
    assert len(epochs) == 4 and kept and final_link(exp).startswith("nnet_iter")
    assert kept[-1]["cv_acc"] > 2 * chance, (kept[-1], chance)
    # decoding: a WER per LM weight over the test words, not every word lost
    words = sum(len(ln.split()) - 1 for ln in (toy / "test" / "text").read_text().splitlines())
    for w in (9, 10, 11):
        wer = (exp / "decode_test" / f"wer_{w}").read_text()
        m = re.match(rf"%WER ([0-9.]+) \[ \d+ / {words},", wer)
        assert m and float(m.group(1)) < 100.0, wer
    assert (exp / "decode_test" / "scoring_kaldi" / "best_wer").read_text().startswith("%WER ")


def final_link(exp: Path) -> str:
    return (exp / "final.nnet").resolve().name


def test_lstm_options_are_checked(toy, tmp_path):
    for opts, message in ((["--network-type", "gru"], "--network-type: dnn or lstm, not 'gru'"),
                          (["--network-type", "lstm", "--pretrain", "true"], "no DBN pre-training"),
                          (["--network-type", "lstm", "--num-streams", "0"],
                           "--num-streams must be > 0")):
        result = nnet1(*opts, *inputs(toy, tmp_path / "exp"))
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines == [f"kaldi_nnet1.sh: error: {lines[0].split('error: ', 1)[1]}"], result.stderr
        assert message in lines[0], lines[0]


FSDD_ANCHOR = REPO / "recipes" / "fsdd" / "local" / "nnet1_anchor.sh"


def _nest(toy: Path, work: Path, conf: Path) -> Path:
    """A study work dir as recipes/fsdd/local/tri_study.sh lays it out, one nested fold
    (nest_t, CV speaker c), from the toy corpus; a tiny conf dir. Returns the fold's exp dir."""
    e = work / "nest_t" / "exp" / "si_c" / "full"
    (e / "mono").mkdir(parents=True)
    for f in (toy / "mono").iterdir():
        (e / "mono" / f.name).symlink_to(f)
    (e / "mono" / "graph").symlink_to(toy / "graph")
    (e / "mono_ali").symlink_to(toy / "mono_ali")
    fbank = work / "nest_t" / "data" / "fbank" / "si_c"
    (fbank / "full").mkdir(parents=True)
    (fbank / "full" / "train").symlink_to(toy / "train")
    (fbank / "test").symlink_to(toy / "test")
    conf.mkdir()
    (conf / "dnn.yaml").write_text("num_layers: 1\nhidden_dim: 16\nsplice: 1\n")
    (conf / "lstm.yaml").write_text("num_layers: 1\nhidden_dim: 8\nproj_dim: 4\ntarget_delay: 1\n"
                                    "num_streams: 2\nchunk_len: 10\nmax_epochs: 1\n")
    return e


def fsdd_anchor(*args, kaldi_root: Path = KALDI_ROOT,
                script: Path = FSDD_ANCHOR) -> subprocess.CompletedProcess:
    import os
    env = dict(os.environ, ASRKT_KALDI_ROOT=str(kaldi_root),
               PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", str(script), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


def test_fsdd_anchor_checks_its_input_and_skips_without_kaldi(toy, tmp_path):
    """recipes/fsdd/local/nnet1_anchor.sh without a build: the CV list of the asrkt networks'
    split, then kaldi_nnet1.sh's skip message per system and fold, exit 0, nothing trained; a
    bad --systems, a work dir without folds and a fold without its graph: one error line."""
    work, conf = tmp_path / "study", tmp_path / "conf"
    e = _nest(toy, work, conf)
    result = fsdd_anchor("--conf", conf, work, kaldi_root=tmp_path / "no_build")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("kaldi_nnet1.sh: skipped:") == 2            # lstm, rand
    cv = (e / "nnet1" / "cv_seed1.list").read_text().split()
    train = [ln.split()[0] for ln in (toy / "train" / "feats.scp").read_text().splitlines()]
    assert 0 < len(cv) < len(train) and set(cv) <= set(train)
    assert not list((e / "nnet1").glob("*/final.nnet"))
    for opts, message in ((["--systems", "gru"], "--systems: rand or lstm, not 'gru'"),
                          (["--folds", "x"], "nest_x/exp: expected one si_<speaker> dir")):
        bad = fsdd_anchor("--conf", conf, *opts, work, kaldi_root=tmp_path / "no_build")
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert message in bad.stderr
    (e / "mono" / "graph").unlink()
    bad = fsdd_anchor("--conf", conf, work, kaldi_root=tmp_path / "no_build")
    assert bad.returncode == 1 and "mono/graph/HCLG.fst does not exist" in bad.stderr


@pytest.mark.parametrize("script", ["nnet1_anchor.sh", "targets_study.sh"])
def test_fsdd_fold_studies_name_a_missing_or_broken_fold(toy, tmp_path, script):
    """recipes/fsdd/local/nested.sh, which both studies use to find the nested folds: a work dir
    without nest_* folds, and a fold whose exp/ has no single si_<speaker> dir (none, or two),
    give one error line naming it and exit 1, before anything is trained."""
    work, conf = tmp_path / "study", tmp_path / "conf"
    e = _nest(toy, work, conf)
    run = FSDD_ANCHOR.parent / script
    empty = tmp_path / "empty"
    empty.mkdir()
    (e.parents[1] / "si_d").mkdir()               # nest_t/exp has si_c and si_d
    (work / "nest_u" / "exp").mkdir(parents=True)  # nest_u/exp has none
    for args, message in (([empty], f"no nest_* folds in '{empty}'"),
                          (["--folds", "t", work], "nest_t/exp: expected one si_<speaker> dir, "
                                                   "found 'c d'"),
                          (["--folds", "u", work], "nest_u/exp: expected one si_<speaker> dir, "
                                                   "found ''")):
        bad = fsdd_anchor("--conf", conf, *args, kaldi_root=tmp_path / "no_build", script=run)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 1 and len(lines) == 1, bad.stderr
        assert message in lines[0], lines
    assert not list(work.rglob("seed1"))


def test_fsdd_anchor_trains_and_decodes_each_fold(toy, tmp_path):
    """With the build: nnet1's LSTM and DNN of the conf's sizes on the fold, the CV speaker
    decoded at S = 1.0 (decode_test) and 0.5 (decode_test_ps0.5), where
    local/targets_study.sh's table reads them."""
    _need_build()
    if not (KALDI_ROOT / "bin" / "nnet-train-multistream").exists():
        pytest.skip(f"the reference Kaldi build {KALDI_ROOT / 'bin'} has no nnet-train-multistream")
    work, conf = tmp_path / "study", tmp_path / "conf"
    e = _nest(toy, work, conf)
    result = fsdd_anchor("--conf", conf, "--prior-scales", "1.0 0.5", "--kaldi-opts",
                         "--max-iters 1 --min-lmwt 9 --max-lmwt 11", work)
    assert result.returncode == 0, result.stderr[-3000:]
    for k in ("lstm", "rand"):
        n = e / "nnet1" / k
        assert (n / "final.nnet").exists()
        for d in ("decode_test", "decode_test_ps0.5"):
            assert (n / d / "wer_10").read_text().startswith("%WER "), (k, d)
    first = (e / "nnet1" / "lstm" / "log" / "iter01.tr.log").read_text().splitlines()[0]
    assert "nnet-train-multistream" in first and "--num-streams=2" in first
