"""Streaming training data: blocks of shuffled utterances with bounded size, the same model as
the in-memory path when one block holds the corpus, exact resume, every frame once per epoch,
frame counts from the feature headers, a rank's share."""

import json
import logging

import numpy as np
import pytest
import torch

from asrkt.data.datadir import DataDir
from asrkt.feats.pipeline import FeaturePipeline, PipelineConfig
from asrkt.io.tables import read_table, write_table
from asrkt.nnet.config import StudentConfig, TeacherConfig
from asrkt.nnet.corpus import BlockReader, TargetSource, feature_frames
from asrkt.nnet.losses import LossSpec
from asrkt.nnet.steps import train_supervised
from asrkt.nnet.targets import PdfAlignments
from tests.helpers.synthetic_nnet import make_synthetic_corpus

HARD = LossSpec(1.0, 0.0, 1.0)


def _teacher(**kw):
    base = dict(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=16, splice=2,
                max_epochs=3, batch_size=32, learning_rate=0.01, num_threads=1)
    return TeacherConfig(**{**base, **kw})


def _student(**kw):
    base = dict(device="cpu", cmvn="utterance", num_layers=1, hidden_dim=8, proj_dim=4,
                max_epochs=3, num_streams=4, chunk_len=8, learning_rate=0.01, num_threads=1)
    return StudentConfig(**{**base, **kw})


def _weights(exp_dir):
    return torch.load(exp_dir / "final.pt", weights_only=True)["state_dict"]


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("make_config", [_teacher, _student])
def test_one_block_as_large_as_the_corpus_gives_the_in_memory_model(tmp_path, make_config,
                                                                    caplog):
    caplog.set_level(logging.INFO, logger="asrkt.nnet")
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", make_config(), data, ali_dir=ali, exp_dir=tmp_path / "mem", loss=HARD)
    assert "in memory" in caplog.text
    # streaming: blocks re-read every epoch in the background thread, lazy alignments
    train_supervised("t", make_config(buffer_frames=10 ** 6), data, ali_dir=ali,
                     exp_dir=tmp_path / "stream", loss=HARD)
    assert "streaming blocks of 1000000 frames" in caplog.text
    assert _same(_weights(tmp_path / "mem"), _weights(tmp_path / "stream"))


# exact resume in small blocks: tests/unit/test_nnet_trainer.py
@pytest.mark.parametrize("make_config", [_teacher, _student])
def test_streaming_in_small_blocks_uses_every_frame_once_per_epoch(tmp_path, make_config):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=12)
    train_supervised("t", make_config(buffer_frames=120), data, ali_dir=ali,
                     exp_dir=tmp_path / "a", loss=HARD)
    train_supervised("t", make_config(max_epochs=1), data, ali_dir=ali,
                     exp_dir=tmp_path / "mem", loss=HARD)

    def history(name):
        return [json.loads(x) for x in (tmp_path / name / "train.jsonl").read_text().split("\n")
                if x]

    # every training frame once per epoch, CV the same frames as in memory
    mem, streamed = history("mem"), history("a")
    assert {h["train_frames"] for h in streamed[1:]} == {mem[1]["train_frames"]}
    assert streamed[0]["cv_loss"] == pytest.approx(mem[0]["cv_loss"], rel=1e-5)


def _reader(tmp_path, buffer_frames, **kw):
    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=15, min_len=5, max_len=60)
    data = DataDir(data)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="utterance")).fit(data)
    alignments = PdfAlignments(ali)
    sources = {"pdf": TargetSource(alignments.lazy(), str(alignments.table))}
    lengths = feature_frames(data, data.utterances)
    return BlockReader(pipeline, data, data.utterances, lengths, sources, buffer_frames,
                       options=dict(name="train"), **kw), alignments.load()


def test_blocks_cover_every_frame_once_bounded_and_reshuffled_per_epoch(tmp_path):
    reader, alignments = _reader(tmp_path, buffer_frames=100)
    plans = []
    for epoch in (1, 2):
        seen = []
        for block in reader.blocks(epoch):
            assert block.num_frames <= 100 or len(block.utts) == 1
            assert block.utts == sorted(block.utts, key=reader.utts.index)  # data order inside
            pdfs = block.targets["pdf"].numpy()
            for utt, start, length in zip(block.utts, block.starts, block.lengths):
                np.testing.assert_array_equal(pdfs[start:start + length], alignments[utt])
            seen += block.utts
        assert sorted(seen) == sorted(reader.utts)
        plans.append([b.tolist() for b in reader.plan(epoch)])
    assert plans[0] != plans[1] and len(plans[0]) > 2
    assert [b.tolist() for b in reader.plan(2)] == plans[1]  # seeded by (seed, epoch)


def test_rank_shares_are_disjoint_and_cover_the_corpus(tmp_path):
    shares = []
    for rank in range(3):
        reader, _ = _reader(tmp_path / str(rank), 80, rank=rank, world_size=3)
        shares.append([reader.utts[i] for block in reader.plan(4) for i in block])
    assert sum(len(s) for s in shares) == 15
    assert set().union(*map(set, shares)) == set(reader.utts)


def test_frame_counts_from_matrix_headers_without_utt2num_frames(tmp_path):
    data, _ = make_synthetic_corpus(tmp_path / "corpus", num_utts=5)
    data = DataDir(data)
    expected = feature_frames(data, data.utterances)
    (data.path / "utt2num_frames").unlink()
    fresh = DataDir(data.path)
    assert feature_frames(fresh, fresh.utterances).tolist() == expected.tolist()
    mats = dict(read_table(data.path / "feats.scp"))
    write_table(data.path / "c.ark", data.path / "feats.scp", mats, compress=True)
    assert feature_frames(DataDir(data.path), fresh.utterances).tolist() == expected.tolist()


def test_automatic_mode_streams_when_the_corpus_exceeds_the_memory_budget(tmp_path,
                                                                          monkeypatch):
    from asrkt.nnet import steps

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=6)
    data = DataDir(data)
    pipeline = FeaturePipeline(PipelineConfig(cmvn="utterance")).fit(data)
    targets = steps.load_targets(HARD, ali, None, 1.0)
    halves = (data, data.utterances[:4]), (data, data.utterances[4:])
    assert steps.bytes_per_frame(13, targets.sources) == 4 * 13 + 24 + 8
    roomy = steps.make_readers(_teacher(max_memory_mb=1), pipeline, targets, *halves, ali)
    assert all(r.in_memory for r in roomy)  # a few KiB: fits 1 MiB
    # frames 10,000 times bigger: 1 MiB holds 2 x 50 frames
    monkeypatch.setattr(steps, "bytes_per_frame", lambda dim, sources: 2 ** 20 // 100)
    tight = steps.make_readers(_teacher(max_memory_mb=1), pipeline, targets, *halves, ali)
    assert [r.buffer_frames for r in tight] == [50, 50]
    forced = steps.make_readers(_teacher(buffer_frames=7), pipeline, targets, *halves, ali)
    assert [r.buffer_frames for r in forced] == [7, 7]


def test_kt_on_sparse_top_k_targets_equals_dense_top_k_in_memory_and_streaming(tmp_path):
    from asrkt.nnet.inference import dump_posteriors

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali, exp_dir=tmp_path / "dnn",
                     loss=HARD)
    for name, dense in (("dense", True), ("sparse", False)):
        dump_posteriors(tmp_path / "dnn", data, tmp_path / name, temperature=2.0, top_k=3,
                        device="cpu", dense=dense)
    kt = LossSpec(0.0, 1.0, 1.0)  # trained at T = 1: re-tempered from the dump's T = 2
    runs = {"dense": _student(), "sparse": _student(), "sparse_stream": _student(buffer_frames=90)}
    for name, config in runs.items():
        train_supervised("kt", config, data, post_dir=tmp_path / name.split("_")[0],
                         exp_dir=tmp_path / f"kt_{name}", loss=kt)
    dense, sparse = _weights(tmp_path / "kt_dense"), _weights(tmp_path / "kt_sparse")
    assert all(torch.allclose(dense[k], sparse[k], atol=1e-4) for k in dense)
    streamed = _weights(tmp_path / "kt_sparse_stream")
    assert not all(torch.allclose(sparse[k], streamed[k], atol=1e-4) for k in sparse)


@pytest.mark.parametrize("top_k", [0, 3])
def test_teacher_on_the_fly_gives_the_losses_of_the_dumped_path(tmp_path, monkeypatch, top_k):
    from asrkt.nnet import trainer
    from asrkt.nnet.inference import dump_posteriors

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali, exp_dir=tmp_path / "dnn",
                     loss=HARD)
    dump_posteriors(tmp_path / "dnn", data, tmp_path / "post", temperature=2.0,
                    top_k=top_k or None, device="cpu")
    losses = {}
    original = trainer.training_loss

    def recording(logits, targets, spec):
        loss, hits = original(logits, targets, spec)
        losses[name].append(float(loss))
        return loss, hits

    monkeypatch.setattr(trainer, "training_loss", recording)
    kt = LossSpec(0.0, 1.0, 2.0)
    for name, source, buffer in (("dump", {"post_dir": tmp_path / "post"}, 0),
                                 ("fly", {"teacher": tmp_path / "dnn"}, 0),
                                 ("fly_stream", {"teacher": tmp_path / "dnn"}, 10 ** 6)):
        losses[name] = []
        config = _student(max_epochs=2, teacher_top_k=top_k, buffer_frames=buffer)
        train_supervised("kt", config, data, exp_dir=tmp_path / name, loss=kt, **source)
    assert len(losses["dump"]) > 10
    np.testing.assert_allclose(losses["fly"], losses["dump"], rtol=1e-5)
    np.testing.assert_allclose(losses["fly_stream"], losses["dump"], rtol=1e-5)


def test_skipped_utterances_count_against_the_whole_share_not_one_block(tmp_path):
    from asrkt.errors import AsrktError

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=20)
    lines = (ali / "pdf.scp").read_text().splitlines()
    (ali / "pdf.scp").write_text("".join(f"{x}\n" for x in lines[2:]))  # 2 of 20: no targets
    config = _teacher(max_epochs=1, max_skip_fraction=0.2, buffer_frames=40, cv_fraction=0.1)
    train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "a", loss=HARD)
    (ali / "pdf.scp").write_text("".join(f"{x}\n" for x in lines[6:]))  # 6 of 20
    with pytest.raises(AsrktError, match="have no usable targets"):
        train_supervised("t", config, data, ali_dir=ali, exp_dir=tmp_path / "b", loss=HARD)


def test_fine_tuning_with_the_kt_loss_kept_is_judged_by_the_hard_target_ce(tmp_path, monkeypatch):
    """finetune --kt-weight W trains on (1-W) CE + W KT, but its CV passes (newbob's decisions,
    train.jsonl's cv_loss) compute the CE on the hard targets alone."""
    from asrkt.nnet import trainer
    from asrkt.nnet.inference import dump_posteriors

    data, ali = make_synthetic_corpus(tmp_path / "corpus", num_utts=10)
    train_supervised("t", _teacher(max_epochs=1), data, ali_dir=ali, exp_dir=tmp_path / "dnn",
                     loss=HARD)
    dump_posteriors(tmp_path / "dnn", data, tmp_path / "post", temperature=2.0, top_k=3,
                    device="cpu")
    specs = []
    original = trainer.training_loss

    def recording(logits, targets, spec):
        specs.append((trainer.torch.is_grad_enabled(), spec))
        return original(logits, targets, spec)

    monkeypatch.setattr(trainer, "training_loss", recording)
    reg = LossSpec(0.75, 0.25, 2.0)
    train_supervised("finetune", _student(max_epochs=2), data, ali_dir=ali,
                     post_dir=tmp_path / "post", exp_dir=tmp_path / "ftreg", loss=reg)
    assert specs and all(spec == (reg if grad else LossSpec(1.0, 0.0, 1.0)) for grad, spec in specs)
    assert sum(not grad for grad, _ in specs) > 0
    assert trainer.cv_loss_spec(LossSpec(0.0, 1.0, 2.0)) == LossSpec(0.0, 1.0, 2.0)  # KT alone
