"""pdf-id alignments, pdf counts, priors, soft-target tables."""

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter
from asrkt.nnet.posteriors import load_soft_targets, soften
from asrkt.nnet.priors import FLOORED_PRIOR, log_priors_from_counts
from tests.helpers.synthetic_nnet import make_synthetic_corpus
from asrkt.nnet.targets import PdfAlignments, count_pdfs, read_kaldi_text_vector


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
