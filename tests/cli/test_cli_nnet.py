"""Neural commands through the CLI: --help, a full chain on a tiny synthetic corpus
(pretrain-rbm -> train-teacher -> dump-posteriors -> kt-pretrain -> finetune -> forward) and
one-line errors on bad input."""

from __future__ import annotations

import json

import kaldiio
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.io.tables import ArkScpWriter
from tests.helpers.synthetic_nnet import make_synthetic_corpus

NNET_COMMANDS = ["pretrain-rbm", "train-teacher", "dump-posteriors", "kt-pretrain", "finetune",
                 "forward", "eval-frames"]
FAST = ["--device", "cpu", "--cmvn", "utterance"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "error:" in line]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_synthetic_corpus(tmp_path_factory.mktemp("nnet"), num_utts=12)


@pytest.fixture(scope="module")
def teacher(corpus, tmp_path_factory):
    data, ali = corpus
    root = tmp_path_factory.mktemp("exp")
    ok(run("pretrain-rbm", data, root / "dbn", "--nn-depth", 2, "--hid-dim", 16,
           "--rbm-iter", 1, "--splice", 2, *FAST))
    ok(run("train-teacher", data, ali, root / "dnn", "--dbn", root / "dbn", "--max-epochs", 3,
           "--batch-size", 32, "--learning-rate", 0.01, "--device", "cpu"))
    return root


def test_rbm_and_teacher_outputs(teacher):
    dbn = [json.loads(x) for x in (teacher / "dbn" / "train.jsonl").read_text().splitlines()]
    assert [(x["layer"], x["vis_type"]) for x in dbn] == [(1, "gaussian"), (1, "gaussian"),
                                                        (2, "bernoulli")]
    for name in ("config.yaml", "feature_pipeline.yaml", "final.pt", "train.jsonl",
                 "curves.png", "log/train-teacher.log", "checkpoints/epoch-1.pt"):
        assert (teacher / "dnn" / name).exists(), name
    lines = [json.loads(x) for x in (teacher / "dnn" / "train.jsonl").read_text().splitlines()]
    assert {"train_loss", "train_acc", "cv_loss", "cv_acc", "lr", "frames_per_s"} <= set(lines[1])
    final = torch.load(teacher / "dnn" / "final.pt", weights_only=True)
    assert final["spec"]["num_layers"] == 2 and final["num_pdfs"] == 6
    assert lines[-1]["cv_acc"] > 0.5  # the synthetic pdfs are easy


def test_kt_chain_to_loglikes(corpus, teacher, tmp_path):
    data, ali = corpus
    from asrkt.io.posterior import read_posteriors

    post = tmp_path / "post"
    ok(run("dump-posteriors", teacher / "dnn", data, post, "--temperature", 2, "--top-k", 3,
           "--dense", "--device", "cpu"))
    table = dict(kaldiio.load_scp(str(post / "post.scp")))
    first = next(iter(table.values()))
    assert first.shape[1] == 6 and np.allclose(first.sum(1), 1, atol=1e-5)
    assert ((first > 0).sum(1) <= 3).all()
    sparse = tmp_path / "post_sparse"  # the same top 3 as a Kaldi Posterior table
    ok(run("dump-posteriors", teacher / "dnn", data, sparse, "--temperature", 2, "--top-k", 3,
           "--device", "cpu"))
    for utt, got in read_posteriors(sparse / "post.scp"):
        assert got.ids.shape[1] == 3
        np.testing.assert_allclose(got.to_dense(6), table[utt], atol=1e-6)
    # 5 + 10 k bytes per frame (+ key, binary marker and frame count per utterance)
    assert (sparse / "post.ark").stat().st_size == sum(len(u) + 8 + 35 * len(m)
                                                       for u, m in table.items())
    one_line_error(run("dump-posteriors", teacher / "dnn", data, tmp_path / "x", "--top-k", 3,
                       "--compress"), "--compress applies to dense matrices")
    student = ["--num-layers", 1, "--hidden-dim", 8, "--proj-dim", 4, "--num-streams", 4,
               "--chunk-len", 8, "--max-epochs", 2, *FAST]
    ok(run("kt-pretrain", data, post, tmp_path / "lstm_kt", "--student", "lstm",
           "--temperature", 2, *student))
    ok(run("finetune", data, ali, tmp_path / "ft", "--init", tmp_path / "lstm_kt",
           "--kt-weight", 0.5, "--post-dir", post, "--temperature", 2, *student))
    ok(run("kt-pretrain", data, sparse, tmp_path / "bgru", "--student", "bgru", *student))
    ok(run("dump-posteriors", teacher / "dnn", data, tmp_path / "postc", "--temperature", 2,
           "--top-k", 3, "--dense", "--compress", "--device", "cpu"))
    from asrkt.nnet.posteriors import load_soft_targets

    dense, packed = load_soft_targets(post), load_soft_targets(tmp_path / "postc", 6)
    assert all(np.abs(dense[u] - packed[u]).max() < 0.02 for u in dense)
    assert (tmp_path / "postc" / "post.ark").stat().st_size < (post / "post.ark").stat().st_size
    ok(run("forward", tmp_path / "ft", data, tmp_path / "out", "--device", "cpu"))
    loglikes = dict(kaldiio.load_scp(str(tmp_path / "out" / "loglikes.scp")))
    assert len(loglikes) == 12 and next(iter(loglikes.values())).shape[1] == 6
    frames = dict(line.split() for line in (data / "utt2num_frames").read_text().splitlines())
    assert all(m.shape[0] == int(frames[u]) for u, m in loglikes.items())


def test_teacher_on_the_fly_and_streaming_options(corpus, teacher, tmp_path):
    data, ali = corpus
    student = ["--num-layers", 1, "--hidden-dim", 8, "--proj-dim", 4, "--num-streams", 4,
               "--chunk-len", 8, "--max-epochs", 1, "--buffer-frames", 200, *FAST]
    ok(run("kt-pretrain", data, tmp_path / "kt", "--teacher", teacher / "dnn",
           "--teacher-top-k", 2, "--temperature", 2, *student))
    assert "streaming blocks of 200 frames" in (tmp_path / "kt" / "log" / "kt-pretrain.log"
                                                ).read_text()
    ok(run("finetune", data, ali, tmp_path / "ft", "--init", tmp_path / "kt", "--kt-weight",
           0.5, "--teacher", teacher / "dnn", *student))
    one_line_error(run("kt-pretrain", data, tmp_path / "x", *FAST), "expected DATA_DIR")
    one_line_error(run("kt-pretrain", data, tmp_path / "nope", tmp_path / "x", *FAST),
                   "posterior directory", "does not exist")
    one_line_error(run("finetune", data, ali, tmp_path / "y", "--kt-weight", 0.5, *FAST),
                   "--post-dir or --teacher")


def test_finetune_from_random_init_with_cv_data(corpus, tmp_path):
    data, ali = corpus
    ok(run("finetune", data, ali, tmp_path / "rnn", "--model", "rnn", "--num-layers", 1,
           "--hidden-dim", 8, "--max-epochs", 1, "--cv-data", data, *FAST))
    log = (tmp_path / "rnn" / "log" / "finetune.log").read_text()
    assert "train 12 utts" in log and "CV 12 /" in log


def test_forward_subtracts_floored_log_priors(corpus, teacher, tmp_path):
    from asrkt.nnet.priors import log_priors_from_counts
    from asrkt.nnet.targets import read_kaldi_text_vector

    data, ali = corpus
    ok(run("forward", teacher / "dnn", data, tmp_path / "ll", "--device", "cpu"))
    import torch

    before = torch.get_num_threads()
    ok(run("forward", teacher / "dnn", data, tmp_path / "ll1", "--device", "cpu",
           "--num-threads", 1))
    assert torch.get_num_threads() == 1
    torch.set_num_threads(before)
    one = dict(kaldiio.load_scp(str(tmp_path / "ll1" / "loglikes.scp")))
    default = dict(kaldiio.load_scp(str(tmp_path / "ll" / "loglikes.scp")))
    assert all(np.allclose(one[u], default[u], atol=1e-5) for u in default)
    ok(run("forward", teacher / "dnn", data, tmp_path / "lp", "--no-priors", "--device", "cpu"))
    ll = dict(kaldiio.load_scp(str(tmp_path / "ll" / "loglikes.scp")))
    lp = dict(kaldiio.load_scp(str(tmp_path / "lp" / "loglikes.scp")))
    prior = log_priors_from_counts(read_kaldi_text_vector(ali / "pdf_counts"))
    for utt in ll:
        assert np.allclose(np.exp(lp[utt]).sum(1), 1, atol=1e-4)
        assert np.allclose(lp[utt] - ll[utt], prior, atol=1e-4)


def test_the_decoders_network_source_gives_forwards_log_likelihoods(corpus, teacher, tmp_path):
    """decode-hybrid's source (the network run inside the decoding jobs) yields what forward
    writes: bit for bit over the same utterances in order at the same thread count (one, the
    decoding jobs'; CPU kernels split their sums by thread), to float rounding for any subset
    (other batches), in the order asked."""
    from asrkt.nnet.inference import nnet_source

    data, _ = corpus
    before = torch.get_num_threads()
    ok(run("forward", teacher / "dnn", data, tmp_path / "ll", "--device", "cpu",
           "--prior-scale", 0.5, "--num-threads", 1))
    written = dict(kaldiio.load_scp(str(tmp_path / "ll" / "loglikes.scp")))
    source = nnet_source(teacher / "dnn", data, prior_scale=0.5, device="cpu", num_threads=1)
    every = dict(source(list(written)))
    assert list(every) == list(written)
    assert all(np.array_equal(every[u], written[u]) and every[u].dtype == np.float32
               for u in written)
    subset = list(written)[::-3]
    got = list(source(subset))
    assert [u for u, _ in got] == subset
    assert all(np.allclose(m, written[u], atol=1e-5) for u, m in got)
    torch.set_num_threads(before)
    no_counts = tmp_path / "nocounts.pt"
    payload = torch.load(teacher / "dnn" / "final.pt", weights_only=False)
    payload["pdf_counts"] = None
    torch.save(payload, no_counts)
    from asrkt.errors import AsrktError

    with pytest.raises(AsrktError, match="no pdf counts for priors; use --no-priors"):
        nnet_source(no_counts, data, device="cpu")     # before any decoding starts


def test_forward_options_defaults_yaml_flags(corpus, teacher, tmp_path):
    """forward: ForwardConfig's defaults < --config YAML < flags."""
    from asrkt.nnet.priors import log_priors_from_counts
    from asrkt.nnet.targets import read_kaldi_text_vector

    data, ali = corpus
    (tmp_path / "fwd.yaml").write_text("priors: false\nprior_scale: 0.5\ndevice: cpu\n")
    ok(run("forward", teacher / "dnn", data, tmp_path / "yaml", "--config", tmp_path / "fwd.yaml"))
    ok(run("forward", teacher / "dnn", data, tmp_path / "flag", "--config", tmp_path / "fwd.yaml",
           "--priors"))
    ok(run("forward", teacher / "dnn", data, tmp_path / "lp", "--no-priors", "--device", "cpu"))
    lp = dict(kaldiio.load_scp(str(tmp_path / "lp" / "loglikes.scp")))
    from_yaml = dict(kaldiio.load_scp(str(tmp_path / "yaml" / "loglikes.scp")))
    from_flag = dict(kaldiio.load_scp(str(tmp_path / "flag" / "loglikes.scp")))
    prior = log_priors_from_counts(read_kaldi_text_vector(ali / "pdf_counts"))
    for utt in lp:
        assert np.allclose(from_yaml[utt], lp[utt], atol=1e-6)  # the YAML's priors: false
        assert np.allclose(lp[utt] - from_flag[utt], 0.5 * prior, atol=1e-4)  # flag + YAML scale


def test_models_saved_with_the_old_spec_key_still_load(corpus, teacher, tmp_path):
    data, _ = corpus
    payload = torch.load(teacher / "dnn" / "final.pt", weights_only=False)
    assert payload["spec"]["model"] == "dnn"
    payload["spec"]["name"] = payload["spec"].pop("model")  # as written before the rename
    torch.save(payload, tmp_path / "old.pt")
    ok(run("forward", tmp_path / "old.pt", data, tmp_path / "old", "--device", "cpu"))
    ok(run("forward", teacher / "dnn", data, tmp_path / "new", "--device", "cpu"))
    old = dict(kaldiio.load_scp(str(tmp_path / "old" / "loglikes.scp")))
    new = dict(kaldiio.load_scp(str(tmp_path / "new" / "loglikes.scp")))
    assert old.keys() == new.keys() and all(np.array_equal(old[u], new[u]) for u in new)


@pytest.mark.parametrize("args, yaml_text, message", [
    (["--learning-rate", "nan"], None,
     "asrkt train-teacher: error: command line: 'learning_rate' must be a finite number > 0, "
     "got nan"),
    ([], "max_epochs: 2\nhalving_factor: -1\n",
     "bad.yaml:2: 'halving_factor' must be a finite number in (0, 1], got -1.0"),
    (["--dropout", "1"], None, "'dropout' must be a finite number in [0, 1), got 1.0"),
    (["--batch-size", "0"], None, "'batch_size' must be an integer >= 1, got 0"),
    ([], "1: 2\n", "bad.yaml:1: keys must be option names, got 1"),
    ([], "- 1\n", "bad.yaml: expected a mapping of option: value, got a list"),
])
def test_bad_training_options_are_one_line_errors(corpus, tmp_path, args, yaml_text, message):
    data, ali = corpus
    if yaml_text is not None:
        (tmp_path / "bad.yaml").write_text(yaml_text)
        args = ["--config", tmp_path / "bad.yaml", *args]
    one_line_error(run("train-teacher", data, ali, tmp_path / "x", *args), message)
    assert not (tmp_path / "x").exists()


def test_bad_inference_options_are_one_line_errors(corpus, teacher, tmp_path):
    data, ali = corpus
    one_line_error(run("forward", teacher / "dnn", data, tmp_path / "z", "--prior-floor", "0"),
                   "command line: 'prior_floor' must be a finite number in (0, 1], got 0.0")
    one_line_error(run("dump-posteriors", teacher / "dnn", data, tmp_path / "z", "--temperature",
                       "inf"), "'temperature' must be a finite number > 0, got inf")
    one_line_error(run("eval-frames", teacher / "dnn", data, ali, "--length-tolerance", "-1"),
                   "'length_tolerance' must be an integer >= 0, got -1")
    assert not (tmp_path / "z").exists()


def test_eval_frames_equals_ce_and_accuracy_of_the_log_posteriors(corpus, teacher, tmp_path):
    data, ali = corpus
    ok(run("forward", teacher / "dnn", data, tmp_path / "lp", "--no-priors", "--device", "cpu"))
    logp = dict(kaldiio.load_scp(str(tmp_path / "lp" / "loglikes.scp")))
    pdfs = dict(kaldiio.load_scp(str(ali / "pdf.scp")))
    nll = np.concatenate([-logp[u][np.arange(len(pdfs[u])), pdfs[u]] for u in logp])
    hits = np.concatenate([logp[u].argmax(1) == pdfs[u] for u in logp])
    result = ok(run("eval-frames", teacher / "dnn", data, ali, "--out", tmp_path / "e.json",
                    "--device", "cpu"))
    saved = json.loads((tmp_path / "e.json").read_text())
    assert saved["frames"] == nll.size and saved["utterances"] == len(logp)
    assert saved["ce"] == pytest.approx(nll.mean(), rel=1e-4)
    assert saved["frame_acc"] == pytest.approx(hits.mean())
    assert f"frame accuracy {100 * hits.mean():.2f}%" in result.output
    per_utt = {u: float(np.mean(logp[u].argmax(1) == pdfs[u])) for u in logp}
    assert saved["utt_acc"] == pytest.approx(per_utt)
    runs, wrong_frames = 0, 0  # runs of consecutive wrong frames, per utterance
    for u in logp:
        wrong = np.concatenate([[0], (logp[u].argmax(1) != pdfs[u]).astype(int)])
        runs += int(np.sum(np.diff(wrong) == 1))
        wrong_frames += int(wrong.sum())
    assert runs > 0 and saved["mean_error_run"] == pytest.approx(wrong_frames / runs)
    # one utterance without an alignment is skipped (named in the log); all missing is an error
    part = tmp_path / "ali_part"
    part.mkdir()
    (part / "pdf_counts").write_text((ali / "pdf_counts").read_text())
    first = sorted(pdfs)[0]
    with ArkScpWriter(part / "pdf.ark", part / "pdf.scp") as writer:
        for utt in sorted(pdfs)[1:]:
            writer.write(utt, pdfs[utt])
    ok(run("eval-frames", teacher / "dnn", data, part, "--out", tmp_path / "p.json",
           "--device", "cpu"))
    assert json.loads((tmp_path / "p.json").read_text())["skipped"] == 1
    other, other_ali = make_synthetic_corpus(tmp_path / "other", num_utts=2, num_pdfs=4)
    one_line_error(run("eval-frames", teacher / "dnn", data, other_ali, "--device", "cpu"),
                   "4 pdfs", "has 6")
    empty = tmp_path / "ali_none"
    empty.mkdir()
    (empty / "pdf_counts").write_text((ali / "pdf_counts").read_text())
    with ArkScpWriter(empty / "pdf.ark", empty / "pdf.scp") as writer:
        writer.write("no_such_utt", pdfs[first])
    one_line_error(run("eval-frames", teacher / "dnn", data, empty, "--device", "cpu"),
                   "12 of 12 evaluation utterances", first)
    # a diverged model (NaN weights): one line naming the first utterance, no NaN result
    payload = torch.load(teacher / "dnn" / "final.pt", weights_only=False)
    for value in payload["state_dict"].values():
        value.fill_(float("nan"))
    torch.save(payload, tmp_path / "nan.pt")
    one_line_error(run("eval-frames", tmp_path / "nan.pt", data, ali, "--device", "cpu",
                       "--out", tmp_path / "nan.json"), f"utterance '{first}'", "NaN/inf")
    assert not (tmp_path / "nan.json").exists()


def test_bad_inputs_are_one_line_errors(corpus, teacher, tmp_path):
    data, ali = corpus
    (tmp_path / "bad.yaml").write_text("learning_rate: 0.1\nhidden_dimm: 3\n")
    one_line_error(run("train-teacher", data, ali, tmp_path / "x", "--config",
                       tmp_path / "bad.yaml"), "unknown key(s) hidden_dimm")
    post = tmp_path / "post4"
    post.mkdir()
    with ArkScpWriter(post / "post.ark", post / "post.scp") as writer:
        writer.write("spk0_utt000", np.full((30, 4), 0.25, dtype=np.float32))
    one_line_error(run("finetune", data, ali, tmp_path / "y", "--kt-weight", 0.5, "--post-dir",
                       post, *FAST), "post.scp (spk0_utt000)", "4 columns, expected 6")
    other, _ = make_synthetic_corpus(tmp_path / "dim10", num_utts=2, dim=10)
    one_line_error(run("forward", teacher / "dnn", other, tmp_path / "z", "--device", "cpu"),
                   "dimension 10", "expects 13")
    one_line_error(run("forward", teacher / "dbn", data, tmp_path / "z", "--device", "cpu"),
                   "not an asrkt acoustic model")
