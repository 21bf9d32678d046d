"""``asrkt train-lda-mllt`` on the toy corpus after train-mono + align: the LDA's and MLLT's
defining properties, the transform in the model dir and every command reading features
through it (align, make-graph, decode, copy-ali, build-tree), resuming after a kill, one-line
errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.cli.test_cli_hmm import _error, run

LDA_OPTIONS = ["--allow-large-dim", "--num-leaves", "30", "--totgauss", "90", "--thresh", "5",
               "--num-iters", "8", "--max-iter-inc", "5", "--realign-iters", "2 4 6",
               "--mllt-iters", "2 4 6"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    from tests.helpers.gmm_toy import toy_tri_dirs

    return toy_tri_dirs(tmp_path_factory.mktemp("lda"), ["train-lda-mllt", *LDA_OPTIONS], "tri2")


def _spliced(toy: Path, data: str = "train"):
    """(utt, CMN + ±3 spliced features) of a toy data dir."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig

    pipeline = FeaturePipeline(PipelineConfig(cmvn="speaker", splice=3))
    return pipeline.iter_features(DataDir(toy / data))


def test_outputs_and_the_transform_in_the_pipeline(toy):
    import kaldiio

    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline, apply_transform
    from asrkt.hmm.model import GmmModel

    tri = toy / "tri2"
    names = {p.name for p in tri.iterdir()}
    assert {"final.mdl", "final.npz", "final.mat", "tree", "feature_pipeline.yaml",
            "config.yaml", "ali.ark", "ali.scp", "splice_opts", "cmvn_opts", "0.mat", "2.mat",
            "4.mat", "6.mat", "num_jobs"} <= names
    assert not any(n.endswith(".npz") and n[0].isdigit() for n in names)
    raw = (tri / "final.mat").read_bytes()
    assert raw[:6] == b"\0BFM \4" and raw == (tri / "6.mat").read_bytes()
    matrix = kaldiio.load_mat(str(tri / "final.mat"))
    assert matrix.shape == (40, 13 * 7) and matrix.dtype == np.float32
    assert not np.allclose(matrix, kaldiio.load_mat(str(tri / "0.mat")))  # MLLT composed in
    assert (tri / "splice_opts").read_text() == "--left-context=3 --right-context=3\n"
    assert (tri / "cmvn_opts").read_text() == "--norm-vars=false\n"
    saved = yaml.safe_load((tri / "feature_pipeline.yaml").read_text())["config"]
    assert (saved["transform"], saved["splice"], saved["delta_order"], saved["cmvn"]) == (
        "final.mat", 3, 0, "speaker")
    model = GmmModel.load(tri)
    assert model.dim == 40 and model.num_pdfs <= 30 and model.num_gauss <= 90
    assert f"<DIMENSION> 40 <NUMPDFS> {model.num_pdfs} " in (tri / "final.mdl").read_text()
    pipeline = FeaturePipeline.load(tri / "feature_pipeline.yaml")
    assert pipeline.output_dim() == 40
    got = dict(pipeline.iter_features(DataDir(toy / "test")))
    for utt, spliced in _spliced(toy, "test"):
        assert got[utt].shape == (len(spliced), 40)
        np.testing.assert_array_equal(got[utt], apply_transform(spliced, matrix))
    config = yaml.safe_load((tri / "config.yaml").read_text())
    assert (config["dim"], config["splice"], config["mllt_iters"]) == (40, 3, "2 4 6")


def test_defaults_are_train_lda_mllt_sh():
    from asrkt.hmm.config import TrainLdaMlltConfig

    cfg = TrainLdaMlltConfig()
    assert (cfg.num_iters, cfg.max_iter_inc, cfg.realign_iters, cfg.mllt_iters, cfg.dim,
            cfg.beam, cfg.retry_beam, cfg.boost_silence, cfg.power, cfg.cluster_thresh,
            cfg.silence_weight, cfg.splice) == (35, 25, "10 20 30", "2 4 6 12", 40, 10.0, 40.0,
                                                1.0, 0.25, -1.0, 0.0, 3)
    assert cfg.cmvn is None and not cfg.allow_large_dim


def test_lda_whitens_within_and_diagonalises_between_class_covariance():
    from asrkt.hmm.lda_mllt import accumulate_lda, estimate_lda

    rng = np.random.default_rng(0)
    dim, classes, n = 12, 9, 6000
    mix = rng.standard_normal((dim, dim))
    labels = rng.integers(0, classes, n)
    means = 3.0 * rng.standard_normal((classes, dim))
    feats = (means[labels] + rng.standard_normal((n, dim)) @ mix.T).astype(np.float32)
    weights = rng.uniform(0.5, 1.5, n)
    counts, sums, second = accumulate_lda(feats, labels, weights, classes + 2)  # 2 unseen
    np.testing.assert_allclose(counts[:classes], np.bincount(labels, weights, classes))
    matrix, values = estimate_lda(counts, sums, second, 8)
    assert matrix.shape == (8, dim) and len(values) == dim
    # the statistics straight from the weighted data
    x = feats.astype(np.float64)
    total = weights.sum()
    mean = weights @ x / total
    class_means = np.array([weights[labels == c] @ x[labels == c] / weights[labels == c].sum()
                            for c in range(classes)])
    within = sum((weights[labels == c, None] * (x[labels == c] - class_means[c])).T
                 @ (x[labels == c] - class_means[c]) for c in range(classes)) / total
    between = sum(weights[labels == c].sum() / total * np.outer(class_means[c] - mean,
                                                                class_means[c] - mean)
                  for c in range(classes))
    np.testing.assert_allclose(matrix @ within @ matrix.T, np.eye(8), atol=1e-8)
    projected = matrix @ between @ matrix.T
    np.testing.assert_allclose(projected, np.diag(values[:8]), atol=1e-8)
    assert np.all(np.diff(values) <= 1e-12) and values[classes - 1:].max() < 1e-8  # rank C-1
    assert values[0] > 1.0
    # the LDA directions are the generalised eigenvectors: B v = lambda W v
    for row, value in zip(matrix, values):
        np.testing.assert_allclose(between @ row, value * within @ row, atol=1e-7)


def test_mllt_diagonalises_a_shared_full_covariance_and_raises_the_objective():
    from asrkt.hmm.lda_mllt import estimate_mllt

    rng = np.random.default_rng(1)
    dim, n = 6, 20000
    mix = rng.standard_normal((dim, dim))
    x = rng.standard_normal((n, dim)) * rng.uniform(0.5, 3.0, dim) @ mix.T
    variances = x.var(axis=0)  # one Gaussian, mean 0, the diagonal model's variances
    stats = np.einsum("d,ij->dij", 1.0 / variances, x.T @ x)
    transform, improvement = estimate_mllt(stats, float(n))
    assert improvement > 0

    def objective(a):
        return n * np.linalg.slogdet(a)[1] - 0.5 * sum(a[i] @ stats[i] @ a[i]
                                                       for i in range(dim))

    assert objective(transform) - objective(np.eye(dim)) == pytest.approx(improvement, rel=1e-6)
    cov = transform @ (x.T @ x / n) @ transform.T
    off = cov - np.diag(np.diag(cov))
    assert np.abs(off).max() < 1e-3 * np.abs(np.diag(cov)).min()  # diagonal in the new space


def test_mllt_passes_raise_the_likelihood_of_the_training_data(toy):
    log = (toy / "tri2" / "log" / "train-lda-mllt.log").read_text()
    assert re.search(r"est-lda: \d+ frames, 14 classes \(9 seen\); 91 -> 40 dims", log)
    found = re.findall(r"pass (\d+): MLLT objective improvement ([-\d.]+) per frame over "
                       r"(\d+) frames, log-det [-\d.]+; avg log-like per frame \(Gaussians "
                       r"only\) ([-\d.]+) -> ([-\d.]+)", log)
    assert [int(f[0]) for f in found] == [2, 4, 6]
    for _, improvement, frames, before, after in found:
        assert float(improvement) > 0 and float(after) > float(before)
        assert 0 < int(frames) < 3480  # silence frames left out (silence weight 0)


def test_align_make_graph_decode_and_copy_ali_with_the_transform(toy):
    import kaldiio

    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import read_table

    run("align", toy / "train", toy / "lang", toy / "tri2", toy / "tri2_ali")
    for name in ("final.mat", "splice_opts", "cmvn_opts", "feature_pipeline.yaml"):
        assert (toy / "tri2_ali" / name).read_bytes() == (toy / "tri2" / name).read_bytes()
    alis = dict(read_table(toy / "tri2_ali" / "ali.scp", "int-vector"))
    assert len(alis) == 40
    run("copy-ali", toy / "train", toy / "tri2_ali", toy / "tri2_ali_copy")
    assert (toy / "tri2_ali_copy" / "final.mat").read_bytes() == (
        toy / "tri2" / "final.mat").read_bytes()
    run("make-graph", toy / "lang_test", toy / "tri2", toy / "tri2" / "graph")
    result = run("decode", "--min-lmwt", "10", "--max-lmwt", "10", toy / "tri2" / "graph",
                 toy / "test", toy / "tri2", toy / "tri2" / "decode")
    assert float(result.output.split("%WER ")[1].split()[0]) < 5.0, result.output
    # the decoder scored 40-dim transformed features: the same as the pipeline's
    model = GmmModel.load(toy / "tri2")
    feats = dict(FeaturePipeline.load(toy / "tri2_ali" / "feature_pipeline.yaml")
                 .iter_features(DataDir(toy / "test")))
    assert {f.shape[1] for f in feats.values()} == {40}
    assert kaldiio.load_mat(str(toy / "tri2_ali" / "final.mat")).shape[0] == model.dim
    # build-tree from the LDA+MLLT alignments reads the features through their transform
    run("build-tree", "--num-leaves", "20", "--thresh", "5", toy / "train", toy / "lang",
        toy / "tri2_ali", toy / "tree_from_lda")
    assert np.load(toy / "tree_from_lda" / "treeacc.npz")["sum_x"].shape[1] == 40


def test_a_killed_run_resumes_to_the_same_model(toy, tmp_path, monkeypatch):
    from tests.helpers.gmm_toy import logged_passes, run_killed_after_pass

    out = tmp_path / "tri2"
    log_file = out / "log" / "train-lda-mllt.log"
    args = ["train-lda-mllt", *LDA_OPTIONS, toy / "train", toy / "lang", toy / "mono_ali", out]
    run_killed_after_pass(monkeypatch, args, 3)
    assert (out / "4.npz").is_file() and (out / "2.mat").is_file()
    assert not (out / "4.mat").exists() and not (out / "final.mat").exists()
    killed = log_file.read_text()
    run(*args)
    log = log_file.read_text()  # appended to the killed run's log: every pass once
    assert log.startswith(killed) and logged_passes(log) == list(range(1, 8))
    assert "continuing an earlier run at pass 4" in log and f"({out / '2.mat'})" in log
    for name in ("final.npz", "final.mdl", "final.mat", "tree", "ali.ark", "0.mat",
                 "feature_pipeline.yaml"):
        assert (out / name).read_bytes() == (toy / "tri2" / name).read_bytes(), name
    run(*args)  # done: the log keeps the training runs' lines
    done = log_file.read_text()
    assert done.startswith(log) and "trained by an earlier run" in done[len(log):]
    other = list(args)
    other[other.index("--mllt-iters") + 1] = "2"
    run(*other)  # other options: starts over (a new log), the later transforms removed
    fresh = log_file.read_text()
    assert "starting over" in fresh and fresh.count("# finished OK") == 1
    assert not (out / "4.mat").exists()
    assert (out / "final.mat").read_bytes() == (out / "2.mat").read_bytes()


def test_same_model_for_any_nj(toy, tmp_path):
    """--nj 2 (forked realignment jobs) gives the fixture's --nj 1 model, transform and
    alignments, byte for byte."""
    run("train-lda-mllt", "--nj", "2", *LDA_OPTIONS, toy / "train", toy / "lang",
        toy / "mono_ali", tmp_path / "tri")
    for name in ("final.mdl", "final.npz", "final.mat", "ali.ark"):
        assert (tmp_path / "tri" / name).read_bytes() == (toy / "tri2" / name).read_bytes()


def test_bad_inputs_are_one_line_errors(toy, tmp_path):
    data, lang = toy / "train", toy / "lang"
    line = _error(run("train-lda-mllt", "--dim", "92", *LDA_OPTIONS, data, lang,
                      toy / "mono_ali", tmp_path / "a", ok=False))
    assert "LDA dim 92 is more than the spliced feature dimension 91" in line
    line = _error(run("train-lda-mllt", "--dim", "14", data, lang, toy / "mono_ali",
                      tmp_path / "b", ok=False))
    assert "LDA dim 14 is not below the number of classes 14" in line
    line = _error(run("train-lda-mllt", "--mllt-iters", "2 x", data, lang, toy / "mono_ali",
                      tmp_path / "c", ok=False))
    assert "mllt_iters must be integers" in line
    no_mat = tmp_path / "no_mat"
    shutil.copytree(toy / "tri2", no_mat, ignore=shutil.ignore_patterns("*.mat", "decode",
                                                                        "graph"))
    line = _error(run("align", data, lang, no_mat, tmp_path / "ali", ok=False))
    assert f"{no_mat / 'final.mat'}: missing" in line and "feature_pipeline.yaml" in line
    bad = tmp_path / "bad_mat"
    shutil.copytree(no_mat, bad)
    (bad / "final.mat").write_bytes(b"\0BFM \4garbage")
    line = _error(run("align", data, lang, bad, tmp_path / "ali2", ok=False))
    assert f"{bad / 'final.mat'}: not a Kaldi matrix" in line


def test_every_temporary_name_of_train_lda_mllt_is_one_a_rerun_removes(toy, tmp_path,
                                                                       monkeypatch):
    from tests.helpers.temporaries import check_rerun_removes_temporaries

    out = tmp_path / "out"
    short = [*LDA_OPTIONS, "--num-iters", "4", "--realign-iters", "2", "--mllt-iters", "2 3"]
    left = check_rerun_removes_temporaries(
        monkeypatch, ["train-lda-mllt", *short, toy / "train", toy / "lang", toy / "mono_ali",
                      out], [out])
    assert {p.name.split(".")[1] for p in left} >= {"0", "2", "3", "final", "tree", "ali",
                                                    "feature_pipeline", "splice_opts"}
