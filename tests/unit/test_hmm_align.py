"""Alignment sanity on real speech (FSDD): a small monophone system's forced alignments spell
each transcript's lexicon expansion, with silence only at word boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.datadirs import WORDS, fsdd_data_dir

PRONS = {"ZERO": "Z IH R OW", "ONE": "W AH N", "TWO": "T UW", "THREE": "TH R IY",
         "FOUR": "F AO R", "FIVE": "F AY V", "SIX": "S IH K S", "SEVEN": "S EH V AH N",
         "EIGHT": "EY T", "NINE": "N AY N"}


def write_digit_dict(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "lexicon.txt").write_text("<SIL> SIL\n" + "".join(f"{w} {PRONS[w]}\n" for w in WORDS))
    phones = sorted({p for pron in PRONS.values() for p in pron.split()})
    (path / "nonsilence_phones.txt").write_text("\n".join(phones) + "\n")
    (path / "silence_phones.txt").write_text("SIL\n")
    (path / "optional_silence.txt").write_text("SIL\n")
    return path


@pytest.fixture(scope="module")
def fsdd_system(fsdd_dir, tmp_path_factory):
    """Monophone GMM trained on 2 speakers x 10 digits x 6 takes, then used to align."""
    from asrkt.data.datadir import DataDir
    from asrkt.feats.cmvn import compute_cmvn
    from asrkt.feats.extract import FeatConfig, make_feats
    from asrkt.hmm.align import align_data
    from asrkt.hmm.lang import prepare_lang
    from asrkt.hmm.train_mono import TrainMonoConfig, train_mono

    root = tmp_path_factory.mktemp("fsdd_align")
    data = fsdd_data_dir(fsdd_dir, root / "train", range(5, 11), speakers=["jackson", "theo"])
    make_feats(DataDir(data), root / "mfcc", FeatConfig(type="mfcc"))
    compute_cmvn(DataDir(data))
    prepare_lang(write_digit_dict(root / "dict"), root / "lang")
    cfg = TrainMonoConfig(num_iters=15, max_iter_inc=10, totgauss=300,
                          realign_iters="1 2 3 4 5 6 8 10 12 14")
    train_mono(data, root / "lang", root / "exp", cfg)
    done, failed = align_data(data, root / "lang", root / "exp", root / "ali")
    return root, done, failed


def test_alignments_follow_the_lexicon(fsdd_system):
    from asrkt.data.datadir import DataDir
    from asrkt.hmm.align import ali_to_phones
    from asrkt.hmm.lang import Lang
    from asrkt.hmm.model import GmmModel
    from asrkt.io.tables import read_table

    root, done, failed = fsdd_system
    assert done == 120 and failed == []
    lang, model = Lang(root / "lang"), GmmModel.load(root / "ali")
    text = DataDir(root / "train").text
    checked = 0
    for utt, ali in read_table(root / "ali" / "ali.scp"):
        phones = [lang.id2phone[p] for p in ali_to_phones(model, ali)]
        expected = [p for w in text[utt] for p in PRONS[w].split()]
        assert [p for p in phones if p != "SIL"] == expected, utt
        # silence only at word boundaries: for one-word utterances, at the ends
        inner = phones[1:-1] if phones[0] == "SIL" else phones
        inner = inner[:-1] if inner and inner[-1] == "SIL" else inner
        assert "SIL" not in inner, (utt, phones)
        frame_phones = ali_to_phones(model, ali, per_frame=True)
        assert len(frame_phones) == len(ali)
        checked += 1
    assert checked == 120


def num_pdfs(root: Path) -> int:
    from asrkt.hmm.model import GmmModel

    return GmmModel.load(root / "exp").num_pdfs


def test_pdf_counts_cover_all_frames(fsdd_system):
    from asrkt.data.datadir import DataDir
    from asrkt.hmm.align import read_pdf_counts

    root, _, _ = fsdd_system
    counts = read_pdf_counts(root / "ali" / "pdf_counts")
    frames = sum(DataDir(root / "train").utt2num_frames.values())
    assert counts.shape == (num_pdfs(root),) and counts.sum() == frames


def test_small_fsdd_system_decodes_held_out_takes(fsdd_system, fsdd_dir):
    """A small CI version of the FSDD check (the full one: recipes/common/fsdd_mono.sh):
    the 2-speaker model decodes the same speakers' official test takes (index 0-4)."""
    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import DecodeConfig, gmm_source, run_decode
    from asrkt.decode.graph import make_graph
    from asrkt.decode.score import score_decode_dir
    from asrkt.feats.cmvn import compute_cmvn
    from asrkt.feats.extract import FeatConfig, make_feats
    from asrkt.hmm.grammar import make_word_loop
    from asrkt.hmm.model import GmmModel

    root, _, _ = fsdd_system
    test = fsdd_data_dir(fsdd_dir, root / "test", range(0, 5), speakers=["jackson", "theo"])
    make_feats(DataDir(test), root / "mfcc", FeatConfig(type="mfcc"))
    compute_cmvn(DataDir(test))
    make_word_loop(root / "lang", root / "lang_loop")
    make_graph(root / "lang_loop", root / "exp", root / "graph")
    model = GmmModel.load(root / "exp")
    run_decode(root / "graph", model, DataDir(test).utterances,
               gmm_source(model, test, root / "exp" / "feature_pipeline.yaml"), root / "decode",
               DecodeConfig())
    lmwt, line = score_decode_dir(test, root / "decode")
    errors = int(line.split("[")[1].split("/")[0])
    # deterministic: 3 deletions (%WER 3.00) here; the margin allows for other BLAS builds
    assert line.split("/")[1].split(",")[0].strip() == "100" and errors <= 5, line


def test_train_mono_realigns_with_the_align_fields_of_its_config():
    """TrainMonoConfig extends AlignConfig (one declaration of the alignment fields); each
    realignment takes them with its own beams."""
    import dataclasses

    from asrkt.hmm.config import AlignConfig, AlignOptions, TrainMonoConfig

    align_fields = {f.name for f in dataclasses.fields(AlignConfig)}
    assert align_fields <= {f.name for f in dataclasses.fields(TrainMonoConfig)}
    cfg = TrainMonoConfig(acoustic_scale=0.05, self_loop_scale=0.2, careful=True)
    assert (cfg.beam, cfg.retry_beam) == (6.0, 24.0)  # train_mono.sh's first realignment
    later = cfg.align_options(beam=cfg.realign_beam, retry_beam=cfg.realign_retry_beam)
    assert later == AlignOptions(beam=10.0, retry_beam=40.0, acoustic_scale=0.05,
                                 transition_scale=1.0, self_loop_scale=0.2, careful=True)
    assert type(later) is AlignOptions
