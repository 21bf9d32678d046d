"""pdf-id alignments, pdf counts, priors, soft-target tables."""

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter
from asrkt.nnet.posteriors import load_soft_targets, soften
from asrkt.nnet.priors import FLOORED_PRIOR, log_priors_from_counts
from asrkt.nnet.targets import PdfAlignments, count_pdfs, read_kaldi_text_vector
from tests.helpers.synthetic_nnet import make_synthetic_corpus


def test_alignments_and_counts(tmp_path):
    _, ali = make_synthetic_corpus(tmp_path, num_utts=4, num_pdfs=5)
    alignments = PdfAlignments(ali)
    assert alignments.num_pdfs == 5
    loaded = alignments.load()
    assert len(loaded) == 4
    assert np.array_equal(count_pdfs(loaded, 5), alignments.counts)


def test_alignment_errors(tmp_path):
    _, ali = make_synthetic_corpus(tmp_path, num_utts=2, num_pdfs=5)
    (ali / "num_pdfs").write_text("4\n")
    with pytest.raises(AsrktError, match="says 4 pdfs"):
        PdfAlignments(ali)
    (ali / "num_pdfs").unlink()
    with ArkScpWriter(ali / "pdf.ark", ali / "pdf.scp") as writer:
        writer.write("bad_utt", np.array([0, 9], dtype=np.int32))
    with pytest.raises(AsrktError, match=r"pdf.scp \(bad_utt\): pdf id 9 outside 0..4"):
        PdfAlignments(ali).load()
    (ali / "pdf_counts").write_text("[ 1 x ]")
    with pytest.raises(AsrktError, match="Kaldi vector"):
        PdfAlignments(ali)
    with pytest.raises(AsrktError, match="no pdf.scp"):
        PdfAlignments(tmp_path)


def test_kaldi_vector_reader(tmp_path):
    (tmp_path / "v").write_text("[ 3 0 5.5 ]\n")
    assert read_kaldi_text_vector(tmp_path / "v").tolist() == [3, 0, 5.5]


def test_priors_floor_unseen_pdfs():
    log_prior = log_priors_from_counts(np.array([1.0, 3.0, 0.0]))
    assert np.allclose(log_prior[:2], np.log([0.25, 0.75]))
    assert log_prior[2] == pytest.approx(np.log(FLOORED_PRIOR), rel=1e-6)


def test_soft_targets_dimension_and_softening(tmp_path):
    post = np.array([[0.7, 0.2, 0.1]], dtype=np.float32)
    with ArkScpWriter(tmp_path / "post.ark", tmp_path / "post.scp") as writer:
        writer.write("u1", post)
    assert load_soft_targets(tmp_path, 3)["u1"].shape == (1, 3)
    with pytest.raises(AsrktError, match=r"post.scp \(u1\): soft targets have 3 columns, "
                                         r"expected 4"):
        load_soft_targets(tmp_path, 4)
    logits = np.log(post)
    expected = np.exp(logits / 2) / np.exp(logits / 2).sum()
    assert np.allclose(soften(post, 2.0), expected, atol=1e-6)


def _posterior_dir(tmp_path, frames, num_pdfs=4, temperature=1.0):
    from asrkt.io.posterior import PosteriorWriter, SparsePosterior
    from asrkt.nnet.posteriors import write_info

    tmp_path.mkdir(parents=True, exist_ok=True)
    with PosteriorWriter(tmp_path / "post.ark", tmp_path / "post.scp") as writer:
        writer.write("u1", SparsePosterior.from_pairs(frames))
    write_info(tmp_path, temperature, 2, num_pdfs, "test")
    return tmp_path


def test_sparse_soft_targets_are_renormalised_and_retempered_over_kept_ids(tmp_path):
    from asrkt.nnet.posteriors import SoftTargetTable

    post = _posterior_dir(tmp_path, [[(0, 0.6), (3, 0.2)], [(2, 1.0)]])
    got = load_soft_targets(post)["u1"]
    np.testing.assert_allclose(got.weights, [[0.75, 0.25], [1.0, 0.0]], rtol=1e-6)
    assert got.ids.tolist() == [[0, 3], [2, 0]]
    # re-tempering to T = 2 x T0: w^(1/2) renormalised over the kept ids (padding stays 0)
    table = SoftTargetTable(post, ratio=2.0)
    np.testing.assert_allclose(table["u1"].weights[0], np.sqrt([0.75, 0.25]) /
                               np.sqrt([0.75, 0.25]).sum(), rtol=1e-6)
    np.testing.assert_allclose(table["u1"].weights[1], [1.0, 0.0])


@pytest.mark.parametrize("frames,fragment", [
    ([[(0, 0.5), (4, 0.5)]], "pdf id 4 outside 0..3"),
    ([[(0, 1.5), (1, -0.5)]], "negative weight -0.5"),
    ([[(0, float("nan"))]], "NaN/inf"),
    ([[(0, 0.0)]], "no probability mass")])
def test_bad_sparse_soft_targets_are_one_line_errors(tmp_path, frames, fragment):
    post = _posterior_dir(tmp_path, frames)
    # NaN is caught by the checked reader (names the archive), the rest by check_sparse
    with pytest.raises(AsrktError, match=rf"post\.(scp|ark) \(u1\): .*{fragment}") as err:
        load_soft_targets(post)
    assert "\n" not in str(err.value)


def test_posterior_frame_count_differing_from_features_is_a_one_line_error(tmp_path):
    from asrkt.io.posterior import PosteriorWriter, SparsePosterior
    from asrkt.io.tables import read_table
    from asrkt.nnet.config import StudentConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.posteriors import write_info
    from asrkt.nnet.steps import train_supervised

    data, _ = make_synthetic_corpus(tmp_path / "c", num_utts=4, num_pdfs=5)
    post = tmp_path / "post"
    post.mkdir()
    with PosteriorWriter(post / "post.ark", post / "post.scp") as writer:
        for utt, feats in read_table(data / "feats.scp"):
            writer.write(utt, SparsePosterior.from_pairs([[(1, 1.0)]] * (len(feats) + 9)))
    write_info(post, 1.0, 1, 5, "test")
    config = StudentConfig(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=4,
                           proj_dim=0, max_epochs=1)
    with pytest.raises(AsrktError, match=r"no usable targets.*target frames in .*post.scp vs "
                                         r".*feature frames \(tolerance 5\)"):
        train_supervised("kt", config, data, tmp_path / "exp", LossSpec(0.0, 1.0, 1.0),
                         post_dir=post)


def _dense_dir(path, rows_by_utt, compress=False, num_pdfs=None):
    from asrkt.nnet.posteriors import write_info

    path.mkdir(parents=True, exist_ok=True)
    with ArkScpWriter(path / "post.ark", path / "post.scp", compress=compress) as writer:
        for utt, rows in rows_by_utt.items():
            writer.write(utt, np.asarray(rows, dtype=np.float32))
    write_info(path, 1.0, None, num_pdfs or len(next(iter(rows_by_utt.values()))[0]), "test")
    return path


@pytest.mark.parametrize("rows,fragment", [
    ([[0.5, 0.5, 0.0], [1.2, 1.5, 1.0]], r"frame 1: soft targets sum to 3\.7, not 1 "
                                          r"\(tolerance 0\.001\); soft targets must be "
                                          r"probability distributions"),
    ([[0.3, 0.2, 0.0]], r"frame 0: soft targets sum to 0\.5, not 1"),
    ([[1.0, 0.0, 0.0], [1.2, -0.2, 0.0]], r"frame 1: negative weight -0\.2"),
    ([[0.5, 0.5, 0.0], [np.inf, 0.0, 0.0]], r"NaN/inf")])
def test_dense_rows_that_are_not_distributions_are_refused(tmp_path, rows, fragment):
    post = _dense_dir(tmp_path, {"u1": [[1.0, 0.0, 0.0]], "u2": rows})
    with pytest.raises(AsrktError, match=rf"post\.(scp|ark) \(u2\): .*{fragment}") as err:
        load_soft_targets(post)
    assert "\n" not in str(err.value)


def test_a_posterior_may_keep_part_of_a_distribution_but_not_more(tmp_path):
    # a pruned Posterior (top-k or lattice-to-post --min-post without renormalising) sums to
    # less than 1 by design and is renormalised; more than 1 is no distribution
    post = _posterior_dir(tmp_path / "part", [[(0, 0.6), (3, 0.2)], [(1, 0.9995), (2, 0.0015)]])
    assert load_soft_targets(post)["u1"].weights.sum(axis=1) == pytest.approx([1.0, 1.0])
    post = _posterior_dir(tmp_path / "more", [[(2, 1.0)], [(0, 2.5), (3, 1.2)]])
    with pytest.raises(AsrktError, match=r"post\.scp \(u1\): frame 1: soft targets sum to 3\.7, "
                                         r"not at most 1 \(tolerance 0\.001\)"):
        load_soft_targets(post)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 5.0])
def test_what_dump_posteriors_writes_is_accepted(tmp_path, temperature):
    """softmax(z / T) of a teacher, dense, dense top-k, sparse top-k, each as dump-posteriors
    writes it, and Kaldi-compressed dense rows, whose quantisation moves sums by up to 0.28."""
    import torch

    from asrkt.io.posterior import PosteriorWriter, SparsePosterior
    from asrkt.nnet.inference import soft_targets
    from asrkt.nnet.posteriors import SoftTargetTable, write_info

    rng = np.random.default_rng(7)
    pdfs = 500  # rows of very different sharpness: the worst sums after compression measured
    logits = torch.from_numpy((rng.standard_normal((200, pdfs)) *
                               rng.uniform(0.1, 20, (200, 1))).astype(np.float32))
    dense = soft_targets(logits, temperature).numpy()
    for name, rows, compress in (("dense", dense, False), ("compressed", dense, True),
                                 ("dense_top5", soft_targets(logits, temperature, 5).numpy(),
                                  False)):
        table = SoftTargetTable(_dense_dir(tmp_path / name, {"u": rows}, compress))
        got = table["u"]
        assert got.shape == (200, pdfs) and np.allclose(got.sum(axis=1), 1, atol=1e-5)
    ids, weights = soft_targets(logits, temperature, 5, dense=False)
    (tmp_path / "sparse").mkdir()
    with PosteriorWriter(tmp_path / "sparse" / "post.ark", tmp_path / "sparse" / "post.scp") as w:
        w.write("u", SparsePosterior(ids.numpy().astype(np.int32), weights.numpy()))
    write_info(tmp_path / "sparse", temperature, 5, pdfs, "test")
    assert len(load_soft_targets(tmp_path / "sparse")["u"]) == 200


def test_compressed_rows_far_from_one_are_refused(tmp_path):
    rows = np.full((20, 4), 0.925, dtype=np.float32)  # each row sums to 3.7
    post = _dense_dir(tmp_path, {"u": rows}, compress=True)
    with pytest.raises(AsrktError, match=r"post\.scp \(u\): frame 0: soft targets sum to 3\.7\d*, "
                                         r"not 1 \(tolerance 0\.5\)"):
        load_soft_targets(post)


def test_kt_pretrain_refuses_soft_targets_that_are_not_distributions(tmp_path):
    from click.testing import CliRunner

    from asrkt.cli.main import cli
    from asrkt.io.tables import read_table

    data, _ = make_synthetic_corpus(tmp_path / "c", num_utts=4, num_pdfs=5)
    rows = {utt: np.full((len(feats), 5), 0.2) for utt, feats in read_table(data / "feats.scp")}
    bad = sorted(rows)[2]
    rows[bad][7] = [1.5, 0.5, 0.7, 0.5, 0.5]  # sums to 3.7
    post = _dense_dir(tmp_path / "post", rows)
    result = CliRunner().invoke(cli, ["kt-pretrain", str(data), str(post), str(tmp_path / "kt"),
                                      "--device", "cpu", "--cmvn", "utterance", "--max-epochs",
                                      "1", "--num-layers", "1", "--hidden-dim", "4",
                                      "--proj-dim", "0"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if "error:" in line]
    assert errors == [f"asrkt kt-pretrain: error: {post / 'post.scp'} ({bad}): frame 7: soft "
                      f"targets sum to 3.7, not 1 (tolerance 0.001); soft targets must be "
                      f"probability distributions"], result.output
    assert not (tmp_path / "kt" / "final.pt").exists()


@pytest.mark.parametrize("top_k", [0, 2])
def test_a_teacher_on_the_fly_is_held_to_the_same_rule(tmp_path, monkeypatch, top_k):
    import torch
    from click.testing import CliRunner

    from asrkt.cli.main import cli
    from asrkt.data.datadir import DataDir
    from asrkt.nnet import inference

    data, ali = make_synthetic_corpus(tmp_path / "c", num_utts=4, num_pdfs=5)
    result = CliRunner().invoke(cli, ["train-teacher", str(data), str(ali), str(tmp_path / "dnn"),
                                      "--device", "cpu", "--cmvn", "utterance", "--max-epochs",
                                      "1", "--num-layers", "1", "--hidden-dim", "8"])
    assert result.exit_code == 0, result.output
    teacher = inference.TeacherTargets(tmp_path / "dnn", [DataDir(data)], 2.0, top_k,
                                       torch.device("cpu"))
    utt = next(iter(teacher.keys()))
    assert len(teacher[utt]) > 0
    real = inference.soft_targets

    def doubled(*args, **kwargs):
        out = real(*args, **kwargs)
        return (out[0], out[1] * 2) if isinstance(out, tuple) else out * 2
    monkeypatch.setattr(inference, "soft_targets", doubled)
    with pytest.raises(AsrktError, match=rf"^teacher .*dnn.* \({utt}\): frame 0: soft targets "
                                         rf"sum to 2, not 1"):
        teacher[utt]
