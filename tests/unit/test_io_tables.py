"""ark/scp round trips through kaldiio; atomic writes leave nothing behind on failure."""

from __future__ import annotations

import kaldiio
import numpy as np
import pytest

from asrkt.errors import AsrktError
from asrkt.io.tables import ArkScpWriter, as_rspecifier, read_table, write_table


def test_roundtrip_matrices_vectors_and_int_alignments(tmp_path):
    rng = np.random.default_rng(0)
    items = {"u1": rng.standard_normal((7, 3)).astype(np.float32),
             "u2": rng.standard_normal((2, 3)),
             "u3": np.array([4, 4, 5, 9], dtype=np.int32)}
    write_table(tmp_path / "a.ark", tmp_path / "a.scp", items)
    for spec in (f"scp:{tmp_path / 'a.scp'}", f"ark,s,cs:{tmp_path / 'a.ark'}", tmp_path / "a.scp"):
        got = dict(read_table(spec))
        assert sorted(got) == ["u1", "u2", "u3"]
        for key in items:
            np.testing.assert_array_equal(got[key], items[key])
            assert got[key].dtype == items[key].dtype
    lazy = kaldiio.load_scp(str(tmp_path / "a.scp"))
    np.testing.assert_array_equal(lazy["u2"], items["u2"])


def test_compressed_matrices_readable(tmp_path):
    mat = np.random.default_rng(1).standard_normal((50, 13)).astype(np.float32)
    with ArkScpWriter(tmp_path / "c.ark", tmp_path / "c.scp", compress=True) as writer:
        writer.write("utt", mat)
    got = dict(read_table(f"scp:{tmp_path / 'c.scp'}"))["utt"]
    assert got.shape == mat.shape
    assert np.max(np.abs(got - mat)) < 0.05
    assert (tmp_path / "c.ark").stat().st_size < mat.nbytes / 1.5


def test_interrupted_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with ArkScpWriter(tmp_path / "x.ark", tmp_path / "x.scp") as writer:
            writer.write("u1", np.zeros((2, 2), np.float32))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_bad_key_and_missing_table(tmp_path):
    with pytest.raises(AsrktError, match="invalid table key"):
        with ArkScpWriter(tmp_path / "x.ark") as writer:
            writer.write("has space", np.zeros(2))
    with pytest.raises(AsrktError, match="does not exist"):
        list(read_table(tmp_path / "nope.scp"))


def test_corrupt_ark_names_file(tmp_path):
    write_table(tmp_path / "a.ark", None, {"u1": np.ones((3, 3), np.float32),
                                           "u2": np.ones((3, 3), np.float32)})
    data = (tmp_path / "a.ark").read_bytes()
    (tmp_path / "a.ark").write_bytes(data[:-10])
    with pytest.raises(AsrktError, match="a.ark"):
        list(read_table(tmp_path / "a.ark"))


def test_as_rspecifier():
    assert as_rspecifier("x.scp") == "scp:x.scp"
    assert as_rspecifier("x.ark") == "ark:x.ark"
    assert as_rspecifier("ark,s,cs:x.ark") == "ark,s,cs:x.ark"
    assert as_rspecifier("scp:/a/b.scp") == "scp:/a/b.scp"


def test_atomic_outputs_get_normal_permissions(tmp_path):
    import os

    from asrkt.utils.fileio import write_text_atomic

    write_text_atomic(tmp_path / "a.txt", "x")
    write_table(tmp_path / "b.ark", tmp_path / "b.scp", {"u": np.zeros(2, np.float32)})
    mask = os.umask(0)
    os.umask(mask)
    for name in ("a.txt", "b.ark", "b.scp"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask


def test_kaldi_text_vector_roundtrip_and_errors(tmp_path):
    from asrkt.io.tables import read_kaldi_text_vector, write_kaldi_text_vector

    write_kaldi_text_vector(tmp_path / "v", np.array([3.0, 0.0, 5.5, 12345678.0]))
    assert (tmp_path / "v").read_text() == "[ 3 0 5.5 12345678 ]\n"  # counts keep every digit
    assert read_kaldi_text_vector(tmp_path / "v").tolist() == [3, 0, 5.5, 12345678]
    for text, match in [("3 0 5\n", "expected a Kaldi text vector"), ("[ ]\n", "expected|empty"),
                        ("[ 1 x ]\n", "non-numeric")]:
        (tmp_path / "bad").write_text(text)
        with pytest.raises(AsrktError, match=match):
            read_kaldi_text_vector(tmp_path / "bad")
    with pytest.raises(AsrktError, match="does not exist"):
        read_kaldi_text_vector(tmp_path / "missing")
