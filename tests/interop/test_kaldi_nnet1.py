"""scripts/kaldi_nnet1.sh (the Kaldi nnet1 anchor of issue 22) on the toy corpus
(tests/helpers/toy_hmm.py: 40 training and 20 test utterances of synthetic 13-dim features, a
YES/NO grammar): asrkt's monophone GMM, alignments, pdf alignments and graph, then nnet1's
feature transform, training (random init and DBN-pretrained, one or two epochs of a small
network) and decoding with Kaldi's binaries. Checks the log-likelihoods (one matrix per test
utterance, one column per pdf, which asrkt reads), the scored LM weights and the newbob logs;
skipped with a message when the reference build (tests/interop/test_kaldi_interop.py finds it)
lacks the nnet1 tools. The input checks and the skip itself run without Kaldi."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.interop.test_kaldi_interop import KALDI_ROOT

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
