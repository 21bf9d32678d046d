"""FeaturePipeline pieces equal Kaldi's (kaldi-native-fbank ports of add-deltas, splice-feats,
apply-cmvn), and the pipeline saves/loads exactly."""

from __future__ import annotations

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.feats.cmvn import accumulate_stats, apply_cmvn
from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig, add_deltas, splice_frames

knf = pytest.importorskip("kaldi_native_fbank")
FEATS = np.random.default_rng(0).standard_normal((37, 5)).astype(np.float32) * 3 + 1


@pytest.mark.parametrize("order,window", [(1, 2), (2, 2), (2, 1), (3, 3)])
def test_deltas_match_kaldi(order, window):
    ref = knf.compute_deltas(knf.DeltaOptions(order=order, window=window), FEATS)
    np.testing.assert_allclose(add_deltas(FEATS, order, window), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("context", [1, 5])
def test_splice_matches_kaldi(context):
    ref = knf.splice_frames(FEATS, knf.SpliceOptions(left_context=context, right_context=context))
    np.testing.assert_array_equal(splice_frames(FEATS, context), ref)


@pytest.mark.parametrize("norm_vars", [False, True])
def test_cmvn_matches_kaldi(norm_vars):
    stats = accumulate_stats(FEATS)
    np.testing.assert_allclose(stats, knf.compute_cmvn_stats(FEATS), rtol=1e-9)
    opts = knf.CmvnOptions()
    opts.norm_vars = norm_vars
    ref = knf.apply_cmvn(stats, opts, FEATS)
    np.testing.assert_allclose(apply_cmvn(FEATS, stats, norm_vars), ref, rtol=1e-4, atol=1e-4)


def test_pipeline_output_dim_and_order():
    pipe = FeaturePipeline(PipelineConfig(cmvn="utterance", delta_order=2, splice=1), input_dim=5)
    out = pipe.transform(FEATS)
    assert out.shape == (37, pipe.output_dim()) == (37, 45)
    expected = splice_frames(add_deltas(apply_cmvn(FEATS, accumulate_stats(FEATS)), 2), 1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_pipeline_rejects_wrong_dimension():
    pipe = FeaturePipeline(PipelineConfig(cmvn="none"), input_dim=4)
    with pytest.raises(AsrktError, match="utterance 'u1'.*dimension 5"):
        pipe.transform(FEATS, utt="u1")


def test_pipeline_save_load_roundtrip(tmp_path):
    pipe = FeaturePipeline(PipelineConfig(cmvn="none", splice=2, global_norm=True), input_dim=5,
                           global_mean=np.arange(25, dtype=np.float32),
                           global_std=np.ones(25, dtype=np.float32) * 2)
    pipe.save(tmp_path / "feature_pipeline.yaml")
    again = FeaturePipeline.load(tmp_path / "feature_pipeline.yaml")
    assert again.config == pipe.config and again.input_dim == 5
    np.testing.assert_array_equal(again.transform(FEATS), pipe.transform(FEATS))


def test_pipeline_load_rejects_unknown_keys(tmp_path):
    (tmp_path / "p.yaml").write_text("config: {cmvn: none, splise: 3}\n")
    with pytest.raises(AsrktError, match="unknown key.*splise"):
        FeaturePipeline.load(tmp_path / "p.yaml")
