"""scripts/kaldi_interop_compare.py without Kaldi: each comparison passes on equal inputs and
fails on a difference (so a PASS of the interop checks means something)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import kaldiio
import numpy as np
import pytest


@pytest.fixture
def compare(repo_root, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=str(repo_root))
        script = repo_root / "scripts" / "kaldi_interop_compare.py"
        return subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              text=True, cwd=tmp_path, env=env)
    return run


def _ark(path, table) -> str:
    with kaldiio.WriteHelper(f"ark,scp:{path}.ark,{path}.scp") as writer:
        for key, value in table.items():
            writer(key, value)
    return f"scp:{path}.scp"


def test_tables_within_tolerance_pass_and_beyond_fail(compare, tmp_path):
    rng = np.random.default_rng(0)
    a = {"u1": rng.standard_normal((5, 3)).astype(np.float32), "u2": np.ones((2, 3), np.float32)}
    b = {k: v * (1 + 1e-5) for k, v in a.items()}
    c = dict(a, u2=a["u2"] * 1.01)
    sa, sb, sc = _ark(tmp_path / "a", a), _ark(tmp_path / "b", b), _ark(tmp_path / "c", c)
    assert compare("tables", sa, sb, "--rtol", "1e-3").stdout.startswith("PASS")
    res = compare("tables", sa, sc, "--rtol", "1e-3")
    assert res.returncode == 1 and res.stdout.startswith("FAIL") and "u2" in res.stdout
    assert compare("tables", sa, sb).returncode == 1          # exact comparison by default
    missing = compare("tables", sa, _ark(tmp_path / "d", {"u1": a["u1"]}))
    assert missing.returncode == 1 and "keys differ" in missing.stdout


def test_counts_offset_hyps_and_wer(compare, tmp_path):
    (tmp_path / "k").write_text("[ 3.5 0.5 10.5 ]\n")
    (tmp_path / "a").write_text("[ 3 0 10 ]\n")
    assert compare("counts", "--offset", "0.5", "k", "a").returncode == 0
    assert compare("counts", "k", "a").returncode == 1
    (tmp_path / "h1").write_text("u1 one two\nu2 three\n")
    (tmp_path / "h2").write_text("u1 one two\nu2 four\n")
    assert compare("hyps", "h1", "h1").returncode == 0
    res = compare("hyps", "h1", "h2")
    assert res.returncode == 1 and "1 of 2 utterances equal" in res.stdout
    wer = "%WER 16.00 [ 16 / 100, 0 ins, 4 del, 12 sub ]"
    assert compare("wer-equal", wer, wer).returncode == 0
    assert compare("wer-equal", wer, wer.replace("16", "17")).returncode == 1


def test_bad_input_is_one_line(compare):
    res = compare("tables", "ark:/nonexistent.ark", "ark:/nonexistent2.ark")
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "error:" in res.stderr


def test_wer_within(compare):
    a = "%WER 12.00 [ 12 / 100, 0 ins, 6 del, 6 sub ]"
    assert compare("wer-within", a, a.replace("12.00", "13.50"), "2.0").returncode == 0
    res = compare("wer-within", a, a.replace("12.00", "14.50"), "2.0")
    assert res.returncode == 1 and "difference 2.50" in res.stdout
    assert compare("wer-within", a, "no wer here", "2.0").returncode == 1


def _toy_tree_inputs(tmp_path):
    """A toy lang dir (tests/helpers/toy_hmm.py) and triphone statistics whose means move with
    the right context of phone A."""
    import itertools

    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.tree_stats import TreeStats
    from tests.helpers.toy_hmm import write_dict_dir

    lang = tmp_path / "lang"
    prepare_lang(write_dict_dir(tmp_path / "dict"), lang, 0.5, False, None)
    rng = np.random.default_rng(0)
    rows, phones = [], [2, 3, 4]   # SIL is 1, context-independent (no context keys)
    for left, c, r in itertools.product([0, 1, 2, 3, 4], phones, [0, 1, 2, 3, 4]):
        for k in range(3):
            mean = np.array([10.0 * c + 3.0 * k + (4.0 * r if c == 2 else 0.0), 1.0 * left])
            rows.append(((k, left, c, r), 50.0 + 10 * rng.random(), mean))
    for k in range(5):
        rows.append(((k, -1, 1, -1), 300.0, np.array([-20.0 - 3 * k, 0.0])))
    events = np.array([r[0] for r in rows], dtype=np.int64)
    counts = np.array([r[1] for r in rows])
    means = np.array([r[2] for r in rows])
    stats = TreeStats(events, counts, counts[:, None] * means,
                      counts[:, None] * (1.0 + means * means))
    return lang, stats


def test_treeacc_files_equal_pass_and_a_difference_fails(compare, tmp_path):
    from asrkt.hmm.tree_stats import TreeStats

    _, stats = _toy_tree_inputs(tmp_path)
    stats.write_kaldi(tmp_path / "a.treeacc")
    stats.write_kaldi(tmp_path / "t.treeacc", binary=False)
    res = compare("treeacc-files", "a.treeacc", "t.treeacc")
    assert res.returncode == 0 and f"{stats.num_events} events" in res.stdout
    moved = TreeStats(stats.events, stats.counts, stats.sum_x * (1 + 1e-4), stats.sum_x2)
    moved.write_kaldi(tmp_path / "m.treeacc")
    assert compare("treeacc-files", "a.treeacc", "m.treeacc").returncode == 1
    fewer = TreeStats(stats.events[1:], stats.counts[1:], stats.sum_x[1:], stats.sum_x2[1:])
    fewer.write_kaldi(tmp_path / "f.treeacc")
    res = compare("treeacc-files", "a.treeacc", "f.treeacc")
    assert res.returncode == 1 and "only in the first" in res.stdout


def test_build_tree_check_passes_on_the_same_tree_and_fails_on_other_numbers(compare, tmp_path):
    """The tree and build-tree --verbose=1 log lines of an identical build pass; another leaf
    count or likelihood gain in the log, or another tree, fails."""
    import kaldi_hmm_gmm as khg

    from asrkt.hmm.config import TreeConfig
    from asrkt.hmm.lang import Lang
    from asrkt.hmm.tree import build_tree, compile_questions
    from asrkt.hmm.tree_dir import lang_roots

    lang_dir, stats = _toy_tree_inputs(tmp_path)
    stats.write_kaldi(tmp_path / "treeacc")
    questions = [[1], [2], [3], [4], [2, 3], [2, 3, 4], [1, 2, 3, 4]]
    (tmp_path / "questions.int").write_text("".join(" ".join(map(str, q)) + "\n"
                                                    for q in questions))
    lang = Lang(lang_dir)
    topo = khg.HmmTopology()
    topo.read(lang.topo_text)
    ncls = topo.get_phone_to_num_pdf_classes()

    def tree_and_log(num_leaves, name):
        tree = build_tree(stats, compile_questions(questions, max(ncls)), lang_roots(lang), ncls,
                          TreeConfig(num_leaves=num_leaves))
        tree.write(tmp_path / f"{name}.tree")
        s = tree.summary
        log = (f"LOG (build-tree[5.5]:BuildTree():build-tree.cc:187) Setting clustering threshold "
               f"to smallest split {s['cluster_thresh']:.6g}\n"
               f"VLOG[1] (build-tree[5.5]:BuildTree():build-tree.cc:196) After decision tree "
               f"split, num-leaves = {s['leaves_after_split']}, like-impr = "
               f"{s['split_gain_per_frame']:.6g} per frame over {s['frames']:.6g} frames.\n"
               f"LOG (build-tree[5.5]:BuildTree():build-tree.cc:215) BuildTree: removed "
               f"{s['leaves_merged']} leaves.\n"
               f"VLOG[1] (build-tree[5.5]:BuildTree():build-tree.cc:256) Objf change due to "
               f"clustering {s['cluster_change_per_frame']:.6g} per frame.\n"
               f"VLOG[1] (build-tree[5.5]:BuildTree():build-tree.cc:262) Num-leaves is now "
               f"{s['leaves']}\n")
        (tmp_path / f"{name}.log").write_text(log)
        return log

    log = tree_and_log(12, "k")
    args = ["build-tree", "treeacc", "questions.int", str(lang_dir), "k.tree", "k.log",
            "--num-leaves", "12"]
    res = compare(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "100.00% of" in res.stdout
    m = re.search(r"like-impr = (\S+) per", log)
    (tmp_path / "k.log").write_text(log.replace(m.group(0), f"like-impr = "
                                                             f"{float(m.group(1)) * 1.01:.6g} per"))
    assert compare(*args).returncode == 1
    (tmp_path / "k.log").write_text(log.replace("Num-leaves is now", "Num-leaves is now 1"))
    assert compare(*args).returncode == 1
    tree_and_log(8, "small")                      # a smaller tree (and its own log) fails too
    res = compare(*args[:4], "small.tree", "small.log", *args[6:])
    assert res.returncode == 1 and "vs" in res.stdout


def _packed(m: np.ndarray) -> str:
    """A symmetric matrix as Kaldi's text SpMatrix: its lower triangle, row by row."""
    return "[\n" + "\n".join(" ".join(f"{x:.10g}" for x in m[i, :i + 1])
                             for i in range(len(m))) + " ]\n"


def test_matrices_up_to_sign(compare, tmp_path):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    flipped = a * np.array([1, -1, 1, -1], np.float32)[:, None]
    off = flipped.copy()
    off[2, 3] += 0.1
    for name, m in (("a", a), ("flipped", flipped), ("off", off)):
        kaldiio.save_mat(str(tmp_path / f"{name}.mat"), m)
    res = compare("matrices", "flipped.mat", "a.mat", "--up-to-sign")
    assert res.stdout.startswith("PASS") and "2 rows of opposite sign" in res.stdout
    assert compare("matrices", "flipped.mat", "a.mat").stdout.startswith("FAIL")
    assert compare("matrices", "off.mat", "a.mat", "--up-to-sign").stdout.startswith("FAIL")


def test_lda_est_reads_kaldis_text_statistics(compare, tmp_path):
    """Statistics in acc-lda's text layout (the within-class scatter as written): asrkt's
    estimate on them is the matrix whatever the rows' signs; another matrix fails."""
    from asrkt.hmm.lda_mllt import accumulate_lda, estimate_lda

    rng = np.random.default_rng(2)
    classes = rng.integers(0, 6, 400)
    feats = rng.standard_normal((400, 5)) + classes[:, None] * rng.standard_normal(5)
    counts, sums, second = accumulate_lda(feats, classes, np.ones(400), 7)  # class 6 unseen
    seen = counts > 0
    within = second - (sums[seen] / counts[seen, None]).T @ sums[seen]
    (tmp_path / "lda.acc").write_text(
        f"<LDAACCS> <VECSIZE> 5 <NUMCLASSES> 7 <ZERO_ACCS>  [ {' '.join(map(str, counts))} ]\n"
        "<FIRST_ACCS>  [\n" + "\n".join(" ".join(f"{x:.10g}" for x in r) for r in sums)
        + " ]\n<SECOND_ACCS>  " + _packed(within) + "</LDAACCS>\n")
    matrix, values = estimate_lda(counts, sums, second, 3)
    kaldiio.save_mat(str(tmp_path / "lda.mat"), (matrix * [[1], [-1], [1]]).astype(np.float32))
    kaldiio.save_mat(str(tmp_path / "other.mat"), matrix[[1, 0, 2]].astype(np.float32))
    (tmp_path / "est.log").write_text(f"LOG Sum of selected singular values is "
                                      f"{values[:3].sum():.6g}\n")
    res = compare("lda-est", "--dim", "3", "lda.acc", "lda.mat", "est.log")
    assert res.stdout.startswith("PASS") and "6 of 7 classes seen" in res.stdout, res.stdout
    assert compare("lda-est", "--dim", "3", "lda.acc", "other.mat",
                   "est.log").stdout.startswith("FAIL")


def test_mllt_est_reads_kaldis_text_statistics(compare, tmp_path):
    from asrkt.hmm.lda_mllt import estimate_mllt

    rng = np.random.default_rng(3)
    beta, dim = 500.0, 3
    g = []
    for _ in range(dim):
        x = rng.standard_normal((50, dim))
        g.append(x.T @ x * 10)
    g = np.array(g)
    (tmp_path / "mllt.macc").write_text(f"<MlltAccs> \n{beta:g} {dim} <G> \n"
                                        + "".join(_packed(m) for m in g) + "</MlltAccs> \n")
    transform, improvement = estimate_mllt(g, beta)
    kaldiio.save_mat(str(tmp_path / "mllt.mat"), transform.astype(np.float32))
    kaldiio.save_mat(str(tmp_path / "unit.mat"), np.eye(dim, dtype=np.float32))
    (tmp_path / "est.log").write_text(f"LOG Overall objective function improvement for MLLT is "
                                      f"{improvement / beta:.6g} over {beta:g} frames\n")
    res = compare("mllt-est", "mllt.macc", "mllt.mat", "est.log")
    assert res.stdout.startswith("PASS"), res.stdout + res.stderr
    assert compare("mllt-est", "mllt.macc", "unit.mat", "est.log").stdout.startswith("FAIL")


def _write_gmm_acc(path, trans, stats) -> None:
    """Statistics as gmm-sum-accs --binary=false writes them."""
    def vec(v):
        return "[ " + " ".join(f"{x:.10g}" for x in np.ravel(v)) + " ]\n"
    out = [vec(trans), f"<NUMPDFS> {len(stats)} "]
    for occ, sx, sx2 in stats:
        out.append(f"<GMMACCS> <VECSIZE> {sx.shape[1]} <NUMCOMPONENTS> {len(occ)} <FLAGS> 15 "
                   f"<OCCUPANCY> {vec(occ)}<MEANACCS> {vec(sx)}<DIAGVARACCS> {vec(sx2)}"
                   "</GMMACCS> ")
    path.write_text("".join(out) + "\n")


def test_gmm_est_reads_kaldis_text_statistics(compare, tmp_path):
    """gmm-est: asrkt's estimate on the statistics and model in == the model out, pdf by pdf
    (the statistics read back from Kaldi's text layout); the model in, unsplit and with the old
    means, as the model out fails; a truncated statistics file is one error line."""
    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.model import GmmModel, init_mono
    from asrkt.hmm.train_mono import TrainMonoConfig, estimate
    from tests.unit.test_hmm_lang import write_dict

    lang = prepare_lang(write_dict(tmp_path / "d", "<SIL> SIL\nX A B\nY C\n"), tmp_path / "lang")
    rng = np.random.default_rng(6)
    model = init_mono(lang.topo_text, lang.phone_sets, [rng.normal(size=(300, 4)) * 2 + 1])
    model.save(tmp_path / "in")
    occs = np.full(model.num_pdfs, 100.0)
    occs[0] = 5000.0
    stats = [(g.weights * o, (g.weights * o)[:, None] * (g.means + 0.1),
              (g.weights * o)[:, None] * (g.vars + (g.means + 0.1) ** 2))
             for g, o in zip(model.gmms, occs)]
    trans = np.full(model.tm.num_transition_ids + 1, 10.0)
    _write_gmm_acc(tmp_path / "x.acc", trans, stats)
    mixup = 3 * model.num_pdfs
    estimate(model, stats, trans, TrainMonoConfig(perturb_factor=0.0), 10.0, mixup,
             np.random.default_rng(0))
    model.save(tmp_path / "out")
    args = ["x.acc", "in/final.mdl", "out/final.mdl", "in/tree", "--mix-up", str(mixup)]
    res = compare("gmm-est", *args)
    assert res.stdout.startswith("PASS") and "0 pdfs with another number" in res.stdout, \
        res.stdout + res.stderr
    res = compare("gmm-est", *args[:2], "in/final.mdl", *args[3:])
    assert res.returncode == 1 and res.stdout.startswith("FAIL"), res.stdout + res.stderr
    assert GmmModel.load(tmp_path / "out").num_gauss > model.num_pdfs
    (tmp_path / "bad.acc").write_text("[ 1 2 ]\n<NUMPDFS> 3 \n")
    res = compare("gmm-est", "bad.acc", *args[1:])
    assert res.returncode == 1 and "0 <GMMACCS> for <NUMPDFS> 3" in res.stderr, res.stderr
