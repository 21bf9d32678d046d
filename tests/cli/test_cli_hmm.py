"""HMM-side commands through the CLI on the toy corpus (no shared data needed): --help for each,
one real invocation each (the whole pipeline), and one-line errors with exit status 1."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli
from tests.helpers.temporaries import check_rerun_removes_temporaries

HMM_COMMANDS = ["prepare-lang", "format-lm", "make-word-loop", "train-mono", "align", "ali-to-pdf",
                "copy-ali", "ali-to-phones", "make-graph", "decode", "decode-nnet", "decode-hybrid",
                "score"]

ARPA = """\\data\\
ngram 1=4

\\1-grams:
-1\tNO
-1\tYES
-99\t<s>
-1\t</s>

\\end\\
"""


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    """The whole pipeline on the toy corpus, through the CLI."""
    from tests.helpers import toy_hmm as toy_corpus

    root = tmp_path_factory.mktemp("toy")
    toy_corpus.write_dict_dir(root / "dict")
    toy_corpus.write_data_dir(root / "train", 40, seed=1)
    toy_corpus.write_data_dir(root / "test", 10, seed=2)
    (root / "task.arpa").write_text(ARPA)
    run("prepare-lang", "--oov-word", "<SIL>", root / "dict", root / "lang")
    run("format-lm", root / "task.arpa", root / "lang", root / "lang_test")
    run("make-word-loop", root / "lang", root / "lang_loop")
    run("train-mono", "--totgauss", "60", "--num-iters", "12", "--max-iter-inc", "8",
        "--realign-iters", "1 2 3 5 8 10", root / "train", root / "lang", root / "exp")
    run("align", "--nj", "2", root / "train", root / "lang", root / "exp", root / "ali")
    run("make-graph", root / "lang_test", root / "exp", root / "graph")
    run("make-graph", root / "lang_loop", root / "exp", root / "graph_loop")
    return root


def test_pipeline_outputs(toy):
    for name in ("phones.txt", "words.txt", "topo", "L.fst", "L_disambig.fst",
                 "phones/disambig.int", "phones/sets.int", "oov.int"):
        assert (toy / "lang" / name).is_file(), name
    assert (toy / "lang_test" / "G.fst").is_file() and (toy / "lang_loop" / "G.fst").is_file()
    text = (toy / "exp" / "final.mdl").read_text()
    assert text.startswith("<TransitionModel>") and "<DIMENSION> 39 <NUMPDFS> 14" in text
    assert text.count("<DiagGMM>") == 14
    log = (toy / "exp" / "log" / "train-mono.log").read_text()
    assert len(re.findall(r"pass \d+.*avg log-like per frame", log)) == 12
    assert (toy / "graph" / "HCLG.fst").is_file()


def test_align_outputs_and_conversions(toy):
    from asrkt.hmm.align import read_pdf_counts
    from asrkt.io.tables import read_table

    ali = dict(read_table(toy / "ali" / "ali.scp"))
    feats = dict(read_table(toy / "train" / "feats.scp"))
    assert set(ali) == set(feats)
    assert all(a.dtype == np.int32 and len(a) == len(feats[u]) for u, a in ali.items())
    counts = read_pdf_counts(toy / "ali" / "pdf_counts")
    assert counts.shape == (14,) and counts.sum() == sum(len(a) for a in ali.values())
    run("ali-to-pdf", toy / "ali", f"scp:{toy / 'ali' / 'ali.scp'}", toy / "ali" / "pdf.ark")
    pdfs = dict(read_table(toy / "ali" / "pdf.scp"))
    assert np.array_equal(np.bincount(np.concatenate(list(pdfs.values())), minlength=14), counts)
    run("ali-to-phones", toy / "ali", toy / "ali" / "ali.scp", toy / "ali" / "phones.ark")
    phones = dict(read_table(toy / "ali" / "phones.scp"))
    first = sorted(phones)[0]
    assert phones[first][0] == 1 and phones[first][-1] == 1  # starts and ends in SIL


def test_copy_ali_from_align_output(toy, tmp_path):
    """copy-ali over align's output (transition-ids and the model; pdf counts through it): the
    original and its prefixed copy (utt2uniq) get the original's alignment."""
    import shutil

    from asrkt.data.combine import combine_data_dirs
    from asrkt.data.kaldi_files import read_map, write_map
    from asrkt.hmm.align import read_pdf_counts
    from asrkt.io.tables import read_table

    src_ali = tmp_path / "ali"
    shutil.copytree(toy / "ali", src_ali, ignore=shutil.ignore_patterns("pdf.*", "phones.*"))
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("utt2spk", "text", "feats.scp"):
        entries = read_map(toy / "train" / name)
        write_map(copy / name, {f"n1-{k}": f"n1-{v}" if name == "utt2spk" else v
                                for k, v in entries.items()})
    write_map(copy / "utt2uniq", {f"n1-{u}": u for u in read_map(toy / "train" / "utt2spk")})
    both = combine_data_dirs(tmp_path / "both", [toy / "train", copy])
    run("copy-ali", both.path, src_ali, tmp_path / "ali2")
    ali = dict(read_table(src_ali / "ali.scp"))
    copied = dict(read_table(tmp_path / "ali2" / "ali.scp"))
    assert sorted(copied) == both.utterances
    for utt in ali:
        np.testing.assert_array_equal(copied[utt], ali[utt])
        np.testing.assert_array_equal(copied[f"n1-{utt}"], ali[utt])
    np.testing.assert_array_equal(read_pdf_counts(tmp_path / "ali2" / "pdf_counts"),
                                  2 * read_pdf_counts(src_ali / "pdf_counts"))
    assert (tmp_path / "ali2" / "final.mdl").read_bytes() == (src_ali / "final.mdl").read_bytes()
    # the copy's frame counts must be the original's (additive noise keeps them)
    frames = {u: str(len(copied[u])) for u in both.utterances}
    first = both.utterances[0]
    frames[first] = str(len(copied[first]) + 3)
    write_map(both.path / "utt2num_frames", frames)
    result = run("copy-ali", both.path, src_ali, tmp_path / "ali3", ok=False)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert f"utt2num_frames ({first}): {frames[first]} frames, but the alignment" in result.output


def test_decode_and_score(toy):
    result = run("decode", toy / "graph", toy / "test", toy / "exp", toy / "decode")
    assert "%WER 0.00 [ 0 /" in result.output
    assert (toy / "decode" / "scoring_kaldi" / "best_wer").read_text().startswith("%WER 0.00")
    assert len(list((toy / "decode").glob("wer_*"))) == 11
    result = run("score", toy / "test", toy / "decode")
    assert result.output.startswith("%WER 0.00")
    per_utt = (toy / "decode" / "scoring_kaldi" / "wer_details" / "per_utt").read_text()
    assert per_utt.count("#csid") == 10
    assert "SUM" in (toy / "decode" / "scoring_kaldi" / "wer_details" / "per_spk").read_text()


def test_decode_nnet_matches_gmm_decode(toy):
    """GMM log-likelihoods written as a matrix table decode to the same words via decode-nnet."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import ArkScpWriter

    model = GmmModel.load(toy / "exp")
    pipeline = FeaturePipeline.load(toy / "exp" / "feature_pipeline.yaml")
    with ArkScpWriter(toy / "loglikes.ark", toy / "loglikes.scp") as writer:
        for utt, feats in pipeline.iter_features(DataDir(toy / "test")):
            writer.write(utt, model.pdf_loglikes(feats, utt))
    result = run("decode-nnet", "--data-dir", toy / "test", "--min-lmwt", "10", "--max-lmwt", "10",
                 toy / "graph_loop", f"scp:{toy / 'loglikes.scp'}", toy / "exp",
                 toy / "decode_nnet")
    assert "%WER 0.00" in result.output
    run("decode", "--min-lmwt", "10", "--max-lmwt", "10", toy / "graph_loop", toy / "test",
        toy / "exp", toy / "decode_loop")
    assert ((toy / "decode_nnet" / "scoring" / "10.txt").read_text()
            == (toy / "decode_loop" / "scoring" / "10.txt").read_text())


@pytest.mark.parametrize("command", ["prepare-lang", "format-lm", "make-word-loop", "train-mono",
                                     "align", "ali-to-pdf", "make-graph", "decode"])
def test_every_temporary_name_of_an_hmm_command_is_one_a_rerun_removes(toy, tmp_path,
                                                                       monkeypatch, command):
    """Each temporary file a run creates, left behind as a kill at that instant would leave
    it, is removed by the re-run, whose outputs equal the first run's (one job: in-process)."""
    out = tmp_path / "out"
    args = {"prepare-lang": [toy / "dict", out],
            "format-lm": [toy / "task.arpa", toy / "lang", out],
            "make-word-loop": [toy / "lang", out],
            "ali-to-pdf": [toy / "ali", f"scp:{toy / 'ali' / 'ali.scp'}", out / "pdf.ark"],
            "train-mono": ["--totgauss", "60", "--num-iters", "3", toy / "train", toy / "lang",
                           out],
            "align": ["--nj", "1", toy / "train", toy / "lang", toy / "exp", out],
            "make-graph": [toy / "lang_test", toy / "exp", out],
            "decode": ["--nj", "1", "--min-lmwt", "9", "--max-lmwt", "10", toy / "graph",
                       toy / "test", toy / "exp", out]}
    assert check_rerun_removes_temporaries(monkeypatch, [command, *args[command]], [out])


def _error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines()
             if line.strip() and "%|" not in line]  # no tqdm bars
    assert len(lines) == 1 and "error:" in lines[0], result.output
    return lines[0]


def test_align_options_defaults_yaml_flags(toy, tmp_path):
    """align: AlignConfig's defaults < --config YAML < flags; the resolved config is saved."""
    import yaml

    from asrkt.hmm.config import AlignConfig

    saved = yaml.safe_load((toy / "ali" / "config.yaml").read_text())
    assert saved == dataclasses.asdict(AlignConfig())  # the fixture gave no options
    (tmp_path / "align.yaml").write_text("beam: 20\nretry_beam: 60\nboost_silence: 1.5\n")
    run("align", "--config", tmp_path / "align.yaml", "--beam", "15", toy / "train",
        toy / "lang", toy / "exp", tmp_path / "ali")
    saved = yaml.safe_load((tmp_path / "ali" / "config.yaml").read_text())
    assert saved == dataclasses.asdict(AlignConfig(beam=15.0, retry_beam=60.0,
                                                   boost_silence=1.5))


@pytest.mark.parametrize("args, yaml_text, message", [
    (["--beam", "nan"], None, "command line: 'beam' must be a finite number > 0, got nan"),
    ([], "beam: 10\nretry_beam: -4\n", "align.yaml:2: 'retry_beam' must be a finite number > 0"),
    (["--boost-silence", "0"], None, "'boost_silence' must be a finite number > 0, got 0.0"),
])
def test_bad_align_options_are_one_line_errors(toy, tmp_path, args, yaml_text, message):
    if yaml_text is not None:
        (tmp_path / "align.yaml").write_text(yaml_text)
        args = ["--config", tmp_path / "align.yaml", *args]
    line = _error(run("align", *args, toy / "train", toy / "lang", toy / "exp", tmp_path / "ali",
                      ok=False))
    assert line.startswith("asrkt align: error: ") and message in line
    assert not (tmp_path / "ali").exists()


def test_bad_graph_and_decode_options_are_one_line_errors(toy, tmp_path):
    line = _error(run("make-graph", "--self-loop-scale", "-1", toy / "lang_test", toy / "exp",
                      tmp_path / "graph", ok=False))
    assert "command line: 'self_loop_scale' must be a finite number >= 0, got -1.0" in line
    line = _error(run("decode", "--min-lmwt", "9", "--max-lmwt", "3", toy / "graph", toy / "test",
                      toy / "exp", tmp_path / "decode", ok=False))
    assert "command line: need min_lmwt <= max_lmwt" in line
    line = _error(run("prepare-lang", "--sil-prob", "1", toy / "dict", tmp_path / "lang",
                      ok=False))
    assert "'sil_prob' must be a finite number in [0, 1), got 1.0" in line
    assert not (tmp_path / "graph").exists() and not (tmp_path / "lang").exists()



def test_decode_hybrid_checks_every_decode_before_the_first(toy, tmp_path):
    """decode-hybrid --also: two decodes into one DECODE_DIR, or an --also data dir that is not
    there, stop the command with one line before anything is decoded or written."""
    net = toy / "exp" / "final.mdl"     # never loaded: the checks come first
    line = _error(run("decode-hybrid", "--also", net, toy / "test", tmp_path / "dec",
                      toy / "graph", net, toy / "test", toy / "exp", tmp_path / "dec", ok=False))
    assert line.startswith("asrkt decode-hybrid: error: ")
    assert "dec is the DECODE_DIR of two decodes" in line
    bad = run("decode-hybrid", "--also", net, tmp_path / "nowhere", tmp_path / "dec2",
              toy / "graph", net, toy / "test", toy / "exp", tmp_path / "dec", ok=False)
    assert bad.exit_code != 0 and "nowhere" in bad.output
    assert not (tmp_path / "dec").exists() and not (tmp_path / "dec2").exists()

def test_oov_words_are_listed(toy, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(toy / "train", data)
    text = (data / "text").read_text().splitlines()
    text[0] = text[0].split()[0] + " YES MAYBE"
    text[1] = text[1].split()[0] + " PERHAPS"
    (data / "text").write_text("\n".join(text) + "\n")
    run("prepare-lang", toy / "dict", tmp_path / "lang_no_oov")
    line = _error(run("train-mono", "--num-iters", "2", data, tmp_path / "lang_no_oov",
                      tmp_path / "exp", ok=False))
    assert "MAYBE" in line and "PERHAPS" in line and "--oov-word" in line


def test_bad_arpa_is_one_line_error(toy, tmp_path):
    bad = tmp_path / "bad.arpa"
    bad.write_text(ARPA.replace("-1\tYES", "-1.x\tYES"))
    line = _error(run("format-lm", bad, toy / "lang", tmp_path / "out", ok=False))
    assert "bad.arpa:6" in line and "not a number" in line
    assert not (tmp_path / "out" / "G.fst").exists()


def test_lexicon_phone_missing_from_phone_lists(tmp_path):
    from tests.helpers import toy_hmm as toy_corpus

    d = toy_corpus.write_dict_dir(tmp_path / "dict")
    (d / "lexicon.txt").write_text("<SIL> SIL\nYES A B\nNO C D\n")
    line = _error(run("prepare-lang", d, tmp_path / "lang", ok=False))
    assert "lexicon.txt:3" in line and "D" in line


def test_wrong_feature_dimension(toy, tmp_path):
    from tests.helpers import toy_hmm as toy_corpus

    toy_corpus.write_data_dir(tmp_path / "test20", 3, seed=5, dim=20)
    line = _error(run("decode", toy / "graph", tmp_path / "test20", toy / "exp",
                      tmp_path / "decode", ok=False))
    assert "spk0-u000" in line and "dimension 20" in line and "expects 13" in line


def test_empty_test_set(toy, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("utt2spk", "spk2utt", "text", "feats.scp", "cmvn.scp"):
        (empty / name).write_text("")
    line = _error(run("decode", toy / "graph", empty, toy / "exp", tmp_path / "decode", ok=False))
    assert "empty test set" in line


def test_train_mono_is_deterministic_for_any_nj(toy, tmp_path):
    """Same model with --nj 2 (forked alignment jobs) as with --nj 1 in the fixture."""
    run("train-mono", "--nj", "2", "--totgauss", "60", "--num-iters", "12", "--max-iter-inc", "8",
        "--realign-iters", "1 2 3 5 8 10", toy / "train", toy / "lang", tmp_path / "exp")
    a, b = np.load(toy / "exp" / "final.npz"), np.load(tmp_path / "exp" / "final.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert (toy / "exp" / "ali.scp").read_text().count("\n") == 40


def test_decode_nnet_wrong_number_of_pdfs(toy, tmp_path):
    from asrkt.io.tables import ArkScpWriter

    with ArkScpWriter(tmp_path / "ll.ark", tmp_path / "ll.scp") as writer:
        writer.write("spk0-u000", np.zeros((20, 9), np.float32))
    line = _error(run("decode-nnet", toy / "graph", tmp_path / "ll.scp", toy / "exp",
                      tmp_path / "decode", ok=False))
    assert "spk0-u000" in line and "(20, 9)" in line and "14 pdfs" in line


def _shorten(data: Path, utts, frames: int = 3) -> None:
    """Replace the features of ``utts`` by ``frames`` frames (too short for their graphs)."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.cmvn import compute_cmvn
    from asrkt.io.tables import ArkScpWriter, read_table

    feats = dict(read_table(data / "feats.scp"))
    with ArkScpWriter(data / "feats2.ark", data / "feats.scp") as writer:
        for utt in sorted(feats):
            writer.write(utt, feats[utt][:frames] if utt in utts else feats[utt])
    compute_cmvn(DataDir(data))


def test_unalignable_utterances_are_named_and_skipped(toy, tmp_path):
    import shutil

    data = tmp_path / "train"
    shutil.copytree(toy / "train", data)
    _shorten(data, {"spk1-u003"})
    run("train-mono", "--totgauss", "40", "--num-iters", "4", "--realign-iters", "1 2",
        data, toy / "lang", tmp_path / "exp")
    log = (tmp_path / "exp" / "log" / "train-mono.log").read_text()
    assert "failed for 1 utterance(s), left out: spk1-u003" in log
    ali = (tmp_path / "exp" / "ali.scp").read_text()
    assert "spk1-u003" not in ali and ali.count("\n") == 39


def test_all_unalignable_is_fatal(toy, tmp_path):
    import shutil

    data = tmp_path / "train"
    shutil.copytree(toy / "train", data)
    _shorten(data, set((data / "utt2spk").read_text().split()[::2]), frames=2)
    line = _error(run("train-mono", "--num-iters", "2", data, toy / "lang", tmp_path / "exp",
                      ok=False))
    assert "failed for all 40 utterances" in line


def test_position_dependent_phones_share_pdfs(toy, tmp_path):
    run("prepare-lang", "--position-dependent-phones", toy / "dict", tmp_path / "lang")
    run("train-mono", "--totgauss", "40", "--num-iters", "8", "--realign-iters", "1 2 3 5",
        toy / "train", tmp_path / "lang", tmp_path / "exp")
    from asrkt.hmm.model import GmmModel

    model = GmmModel.load(tmp_path / "exp")
    assert len(model.topo.phones) == 17 and model.num_pdfs == 14   # variants share a phone's pdfs
    run("make-word-loop", tmp_path / "lang", tmp_path / "loop")
    run("make-graph", tmp_path / "loop", tmp_path / "exp", tmp_path / "graph")
    result = run("decode", tmp_path / "graph", toy / "test", tmp_path / "exp", tmp_path / "decode")
    assert "%WER 0.00" in result.output


def test_ali_to_phones_splits_repeated_phones(toy):
    """Phone sequences (SIL removed) equal the lexicon expansion, also for 'NO NO' (C C)."""
    from asrkt.hmm.lang import Lang
    from asrkt.io.tables import read_table
    from tests.helpers.toy_hmm import LEXICON

    lang = Lang(toy / "lang")
    text = {line.split()[0]: line.split()[1:]
            for line in (toy / "train" / "text").read_text().splitlines()}
    phones = (dict(read_table(toy / "ali" / "phones.scp"))
              if (toy / "ali" / "phones.scp").exists() else None)
    if phones is None:
        run("ali-to-phones", toy / "ali", toy / "ali" / "ali.scp", toy / "ali" / "phones.ark")
        phones = dict(read_table(toy / "ali" / "phones.scp"))
    repeated = 0
    for utt, seq in phones.items():
        names = [lang.id2phone[int(p)] for p in seq if lang.id2phone[int(p)] != "SIL"]
        assert names == [p for w in text[utt] for p in LEXICON[w]], utt
        repeated += "C C" in " ".join(names)
    assert repeated > 0


@pytest.mark.parametrize("command", ["copy-ali", "ali-to-phones", "decode-nnet", "score"])
def test_every_temporary_name_of_a_conversion_or_scoring_command_is_one_a_rerun_removes(
        toy, tmp_path, monkeypatch, command):
    """The same kill-safety check for the commands the test above leaves out."""
    import shutil

    from asrkt.data.datadir import DataDir
    from asrkt.feats.pipeline import FeaturePipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import ArkScpWriter

    out = tmp_path / "out"
    args = {"copy-ali": [toy / "train", toy / "ali", out],
            "ali-to-phones": [toy / "ali", f"scp:{toy / 'ali' / 'ali.scp'}", out / "phones.ark"],
            "decode-nnet": ["--data-dir", toy / "test", "--min-lmwt", "9", "--max-lmwt", "10",
                            toy / "graph", f"scp:{tmp_path / 'loglikes.scp'}", toy / "exp", out],
            "score": [toy / "test", out]}
    if command == "decode-nnet":
        model = GmmModel.load(toy / "exp")
        pipeline = FeaturePipeline.load(toy / "exp" / "feature_pipeline.yaml")
        with ArkScpWriter(tmp_path / "loglikes.ark", tmp_path / "loglikes.scp") as writer:
            for utt, feats in pipeline.iter_features(DataDir(toy / "test")):
                writer.write(utt, model.pdf_loglikes(feats, utt))
    if command == "score":  # a decode dir's hypotheses, without its scores
        run("decode", "--nj", "1", "--min-lmwt", "9", "--max-lmwt", "10", toy / "graph",
            toy / "test", toy / "exp", tmp_path / "decode")
        shutil.copytree(tmp_path / "decode" / "scoring", out / "scoring")
    assert check_rerun_removes_temporaries(monkeypatch, [command, *args[command]], [out])
