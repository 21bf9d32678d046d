"""Kaldi Posterior tables: text and binary round trips against a hand-written example, the
fixed-width fast path, ragged frames, kaldi_native_io compatibility, per-table detection."""

import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.io.posterior import (
    PosteriorWriter,
    SparsePosterior,
    encode_text,
    read_posteriors,
    table_kind,
)
from asrkt.io.tables import write_table

EXAMPLE = "utt1 [ 0 0.9 3 0.1 ] [ 2 1 ] \nutt2 [ 5 0.25 1 0.75 ] [ 4 0.5 4 0.5 ] [ 0 1 ] \n"
PAIRS = {"utt1": [[(0, 0.9), (3, 0.1)], [(2, 1.0)]],
         "utt2": [[(5, 0.25), (1, 0.75)], [(4, 0.5), (4, 0.5)], [(0, 1.0)]]}


def _close(pairs, expected):
    assert len(pairs) == len(expected)
    for got, want in zip(pairs, expected):
        assert [p for p, _ in got] == [p for p, _ in want]
        np.testing.assert_allclose([w for _, w in got], [w for _, w in want], rtol=1e-6)


def test_hand_written_text_posterior_reads_and_round_trips(tmp_path):
    (tmp_path / "post.txt").write_text(EXAMPLE)
    table = dict(read_posteriors(f"ark,t:{tmp_path / 'post.txt'}"))
    assert list(table) == ["utt1", "utt2"]
    for utt, pairs in PAIRS.items():
        _close(table[utt].to_pairs(), pairs)
    assert table["utt1"].ids.shape == (2, 2) and table["utt1"].weights[1, 1] == 0  # padded
    assert table["utt2"].sizes.tolist() == [2, 2, 1]  # ragged: real counts kept
    assert encode_text(table["utt1"]) == "[ 0 0.9 3 0.1 ] [ 2 1 ] "
    for text in (True, False):
        with PosteriorWriter(tmp_path / f"p{text}.ark", tmp_path / f"p{text}.scp", text) as w:
            for utt, post in table.items():
                w.write(utt, post)
        for spec in (f"scp:{tmp_path / f'p{text}.scp'}", tmp_path / f"p{text}.ark"):
            again = dict(read_posteriors(spec))
            for utt, pairs in PAIRS.items():
                _close(again[utt].to_pairs(), pairs)
    assert (tmp_path / "pTrue.ark").read_text() == EXAMPLE
    dense = table["utt2"].to_dense(6)
    np.testing.assert_allclose(dense[1], [0, 0, 0, 0, 1, 0])  # repeated ids add up


def test_fixed_width_binary_is_read_by_one_view_and_equals_ragged_parse(tmp_path):
    rng = np.random.default_rng(0)
    post = SparsePosterior(rng.integers(0, 3000, (50, 7)).astype(np.int32),
                           rng.random((50, 7)).astype(np.float32))
    ragged = SparsePosterior.from_pairs(post.to_pairs()[:-1] + [[(1, 0.5)]])
    with PosteriorWriter(tmp_path / "a.ark", tmp_path / "a.scp") as writer:
        writer.write("fixed", post)
        writer.write("ragged", ragged)
        writer.write("empty", SparsePosterior.from_pairs([]))
    got = dict(read_posteriors(tmp_path / "a.scp"))
    np.testing.assert_array_equal(got["fixed"].ids, post.ids)
    np.testing.assert_array_equal(got["fixed"].weights, post.weights)
    assert got["ragged"].sizes.tolist() == [7] * 49 + [1]
    assert got["ragged"].to_pairs() == ragged.to_pairs()
    assert len(got["empty"]) == 0
    piped = dict(read_posteriors(f"ark:cat {tmp_path / 'a.ark'} |"))  # no read-ahead: by frame
    for key, post in got.items():
        assert piped[key].to_pairs() == post.to_pairs()


def test_kaldi_native_io_reads_ours_and_writes_what_we_read(tmp_path):
    kni = pytest.importorskip("kaldi_native_io")
    (tmp_path / "post.txt").write_text(EXAMPLE)
    ours = dict(read_posteriors(f"ark,t:{tmp_path / 'post.txt'}"))
    with PosteriorWriter(tmp_path / "ours.ark", tmp_path / "ours.scp") as writer:
        for utt, post in ours.items():
            writer.write(utt, post)
    for utt, pairs in kni.SequentialPosteriorReader(f"scp:{tmp_path / 'ours.scp'}"):
        _close(pairs, PAIRS[utt])
    writer = kni.PosteriorWriter(f"ark:{tmp_path / 'theirs.ark'}")
    for utt, pairs in PAIRS.items():
        writer.write(utt, pairs)
    writer.close()
    for utt, post in read_posteriors(tmp_path / "theirs.ark"):
        _close(post.to_pairs(), PAIRS[utt])


def test_table_kind_tells_posteriors_from_matrices(tmp_path):
    (tmp_path / "post.txt").write_text(EXAMPLE)
    assert table_kind(f"ark,t:{tmp_path / 'post.txt'}") == "posterior"
    write_table(tmp_path / "m.ark", tmp_path / "m.scp", {"u": np.eye(3, dtype=np.float32)})
    assert table_kind(tmp_path / "m.scp") == "matrix"
    assert table_kind(tmp_path / "m.ark") == "matrix"
    (tmp_path / "t.txt").write_text("u  [\n  1 0 \n  0 1 ]\n")
    assert table_kind(f"ark,t:{tmp_path / 't.txt'}") == "matrix"
    with PosteriorWriter(tmp_path / "p.ark", tmp_path / "p.scp") as writer:
        writer.write("u", SparsePosterior.from_pairs([[(1, 1.0)]]))
    assert table_kind(tmp_path / "p.scp") == "posterior"


@pytest.mark.parametrize("text,fragment", [("u [ 0 0.5 3 ]", "frame 0: odd number"),
                                           ("u [ 0 1 ] [ 0 x ]", "frame 1: non-numeric"),
                                           ("u [ 0 1", "missing ']'"),
                                           ("u [ 0 nan ]", "NaN/inf"),
                                           ("u [ -2 1 ]", "negative pdf id -2"),
                                           ("u [ 9999999999 1 ]", "out-of-range")])
def test_malformed_text_is_one_line_error_naming_the_key(tmp_path, text, fragment):
    (tmp_path / "bad.txt").write_text(text + "\n")
    with pytest.raises(AsrktError, match=f"bad.txt \\(u\\): .*Posterior.*{fragment}"):
        list(read_posteriors(f"ark,t:{tmp_path / 'bad.txt'}"))
    (tmp_path / "cut.txt").write_text("u [ 0 1 ] [ 2 1 ]")  # cut before its newline
    with pytest.raises(AsrktError, match="cut.txt \\(u\\): text Posterior: no newline"):
        list(read_posteriors(f"ark,t:{tmp_path / 'cut.txt'}"))


def test_truncated_binary_is_one_line_error(tmp_path):
    post = SparsePosterior.from_pairs([[(1, 1.0)], [(2, 0.5), (3, 0.5)]])
    with PosteriorWriter(tmp_path / "p.ark") as writer:
        writer.write("u", post)
    data = (tmp_path / "p.ark").read_bytes()
    (tmp_path / "p.ark").write_bytes(data[:-3])
    with pytest.raises(AsrktError, match=r"p.ark \(u\): Posterior frame 1 declares .*truncated"):
        list(read_posteriors(tmp_path / "p.ark"))
    (tmp_path / "e.txt").write_text("u [ ] [ 3 1 ]\n")
    assert dict(read_posteriors(f"ark,t:{tmp_path / 'e.txt'}"))["u"].to_pairs() == [[], [(3, 1)]]


@pytest.mark.parametrize("ragged", [False, True])
def test_binary_negative_ids_and_nan_weights_are_errors_through_scp_and_ark(tmp_path, ragged):
    rng = np.random.default_rng(1)
    for what, fragment in (("id", "frame 3: negative pdf id -5"), ("w", "frame 3: NaN/inf")):
        post = SparsePosterior(rng.integers(0, 9, (6, 3)).astype(np.int32),
                               rng.random((6, 3)).astype(np.float32))
        if what == "id":
            post.ids[3, 1] = -5
        else:
            post.weights[3, 2] = np.nan
        if ragged:  # the frame-by-frame path
            post = SparsePosterior.from_pairs(post.to_pairs()[:-1] + [[(1, 1.0)]])
        with PosteriorWriter(tmp_path / "p.ark", tmp_path / "p.scp") as writer:
            writer.write("ok", SparsePosterior.from_pairs([[(1, 1.0)]]))
            writer.write("u", post)
        for spec in (tmp_path / "p.ark", tmp_path / "p.scp"):
            with pytest.raises(AsrktError, match=rf"p.ark \(u\): Posterior {fragment}"):
                list(read_posteriors(spec))


def test_a_matrix_table_is_not_read_as_posteriors(tmp_path):
    write_table(tmp_path / "m.ark", tmp_path / "m.scp", {"u": np.eye(3, dtype=np.float32)})
    for spec in (tmp_path / "m.ark", tmp_path / "m.scp"):
        with pytest.raises(AsrktError, match=r"m.ark \(u\): expected a posterior .*found a FM"):
            list(read_posteriors(spec))


def test_table_kind_errors_are_one_line(tmp_path):
    (tmp_path / "empty.ark").write_bytes(b"")
    with pytest.raises(AsrktError, match="empty.ark: empty table"):
        table_kind(tmp_path / "empty.ark")
    (tmp_path / "empty.scp").write_text("")
    with pytest.raises(AsrktError, match="empty.scp: empty table"):
        table_kind(tmp_path / "empty.scp")
    with pytest.raises(AsrktError, match="only detected in files"):
        table_kind(f"ark:cat {tmp_path / 'empty.ark'} |")
    (tmp_path / "cut.ark").write_bytes(b"u ")
    with pytest.raises(AsrktError, match=r"cut.ark \(u\): truncated"):
        table_kind(tmp_path / "cut.ark")
    (tmp_path / "range.scp").write_text(f"u {tmp_path / 'cut.ark'}:2[0:1]\n")
    with pytest.raises(AsrktError, match=r"range.scp:1 \(u\): expected 'archive:offset'"):
        table_kind(tmp_path / "range.scp")
    with pytest.raises(AsrktError, match=r"range.scp:1 \(u\): Posterior entries must be"):
        list(read_posteriors(tmp_path / "range.scp"))
