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
