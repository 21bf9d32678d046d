"""Archives and script tables parsed from buffered bytes (read_object_buffered) give what
reading every entry from the file gives: the same values, and on damaged archives the same
entries before the same one-line error."""

from __future__ import annotations

import numpy as np
import pytest

import asrkt.io.tables as tables
from asrkt.errors import AsrktError
from asrkt.io.checked import read_object_buffered
from asrkt.io.tables import ArkScpWriter, read_table

_DEFAULT = tables._READ_AHEAD


def _mixed(tmp_path, rng, count=24):
    """An archive (and scp) of float and double matrices and vectors, int32 vectors and
    compressed matrices."""
    items = {}
    for i in range(count):
        shape = (int(rng.integers(1, 12)), int(rng.integers(1, 7)))
        kind = i % 6
        if kind == 0:
            items[f"u{i:02d}"] = rng.standard_normal(shape).astype(np.float32)
        elif kind == 1:
            items[f"u{i:02d}"] = rng.standard_normal(shape)
        elif kind == 2:
            items[f"u{i:02d}"] = rng.standard_normal(shape[0] + 1).astype(np.float32)
        elif kind == 3:
            items[f"u{i:02d}"] = rng.standard_normal(shape[0] + 1)
        else:
            items[f"u{i:02d}"] = rng.integers(1, 300, size=shape[0] + 1).astype(np.int32)
    with ArkScpWriter(tmp_path / "a.ark", tmp_path / "a.scp") as writer:
        for key, value in items.items():
            writer.write(key, value)
    with ArkScpWriter(tmp_path / "c.ark", tmp_path / "c.scp", compress=True) as writer:
        for i in range(4):
            writer.write(f"c{i}", rng.standard_normal((20, 5)).astype(np.float32))
    return items


def _outcome(spec, kind):
    """(key, dtype, shape, bytes) of every entry read, then the error (or None)."""
    got = []
    try:
        for key, value in read_table(spec, kind):
            got.append((key, value.dtype.str, value.shape, value.tobytes()))
    except AsrktError as exc:
        return got, str(exc)
    return got, None


def _unbuffered(monkeypatch):
    """Every entry read from the file (read_key / read_object / read_scp_entry)."""
    monkeypatch.setattr(tables, "_buffered_entry", lambda *args: None)
    monkeypatch.setattr(tables, "read_object_buffered", lambda *args: None)


def _both(monkeypatch, spec, kind):
    with monkeypatch.context() as patch:
        _unbuffered(patch)
        want = _outcome(spec, kind)
    return _outcome(spec, kind), want


def _mutate(data, rng):
    data = bytearray(data)
    what = rng.integers(0, 4)
    if what == 0:  # flip bytes
        for at in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[at] = int(rng.integers(0, 256))
    elif what == 1:  # truncate
        del data[int(rng.integers(1, len(data))):]
    elif what == 2:  # a float made NaN or inf
        at = int(rng.integers(0, len(data) - 4))
        data[at:at + 4] = np.array([np.nan if rng.random() < 0.5 else -np.inf],
                                   np.float32).tobytes()
    else:  # a size or marker byte of some entry header
        heads = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\0B"]
        at = int(rng.choice(heads)) + int(rng.integers(2, 15))
        data[min(at, len(data) - 1)] = int(rng.integers(0, 256))
    return bytes(data)


@pytest.mark.parametrize("read_ahead", [tables._READ_AHEAD, 97])
def test_undamaged_archives_read_alike_and_as_written(tmp_path, monkeypatch, read_ahead):
    items = _mixed(tmp_path, np.random.default_rng(1))
    monkeypatch.setattr(tables, "_READ_AHEAD", read_ahead)  # 97: entries cross the pieces
    for spec in ("a.ark", "a.scp", "c.ark", "c.scp"):
        got, want = _both(monkeypatch, str(tmp_path / spec), None)
        assert got == want and got[1] is None
    for key, _, _, raw in _outcome(str(tmp_path / "a.scp"), None)[0]:
        assert raw == items[key].tobytes()
    # entries read from the file: none of the plain ones at the default read-ahead (the
    # first and last of an scp run too), every compressed one
    calls = []
    for name in ("read_object", "read_scp_entry"):
        real = getattr(tables, name)
        monkeypatch.setattr(tables, name,
                            lambda *a, name=name, real=real: calls.append(name) or real(*a))
    for spec, count in (("a.ark", 24), ("a.scp", 24), ("c.ark", 4), ("c.scp", 4)):
        calls.clear()
        assert len(list(read_table(tmp_path / spec))) == count
        if spec.startswith("c"):
            reader = "read_object" if spec.endswith("ark") else "read_scp_entry"
            assert calls.count(reader) == count
        elif read_ahead == _DEFAULT:
            assert calls == []
    with pytest.raises(AsrktError, match=r"a\.ark \(u02\): expected a matrix"):
        list(read_table(tmp_path / "a.ark", "matrix"))  # u02 is a vector


@pytest.mark.parametrize("read_ahead", [tables._READ_AHEAD, 97])
def test_damaged_archives_give_the_same_entries_and_error_as_reading_entry_by_entry(
        tmp_path, monkeypatch, read_ahead):
    rng = np.random.default_rng(2)
    _mixed(tmp_path, rng)
    monkeypatch.setattr(tables, "_READ_AHEAD", read_ahead)
    original = (tmp_path / "a.ark").read_bytes()
    errors = 0
    for _ in range(60):
        (tmp_path / "a.ark").write_bytes(_mutate(original, rng))
        for spec in ("a.ark", "a.scp"):
            for kind in (None, "matrix", "int-vector"):
                got, want = _both(monkeypatch, str(tmp_path / spec), kind)
                assert got == want, (spec, kind)
                if got[1] is not None:
                    errors += 1
                    assert "\n" not in got[1]
    assert errors > 100  # most variants (and most kinds) fail somewhere


def test_nan_inside_a_run_names_its_entry_after_the_entries_before(tmp_path):
    items = {f"u{i}": np.full((3, 2), i, np.float32) for i in range(6)}
    items["u3"][1, 1] = np.nan
    with ArkScpWriter(tmp_path / "a.ark", tmp_path / "a.scp") as writer:
        for key, value in items.items():
            writer.write(key, value)
    for spec in ("a.ark", "a.scp"):
        got, error = _outcome(str(tmp_path / spec), "matrix")
        assert [k for k, *_ in got] == ["u0", "u1", "u2"]
        assert error.endswith("(u3): FM contains NaN/inf (first at index (1, 1))")


def test_buffered_parse_declines_what_it_cannot_take_whole():
    vector = b"\0B\4" + (3).to_bytes(4, "little") + b"".join(
        b"\4" + v.to_bytes(4, "little") for v in (5, 6, 7))
    value, stop = read_object_buffered(vector, 0, len(vector), "int-vector")
    assert value.tolist() == [5, 6, 7] and stop == len(vector)
    assert read_object_buffered(vector, 0, len(vector) - 1, "int-vector") is None  # past end
    assert read_object_buffered(vector, 0, len(vector), "matrix") is None  # other kind
    assert read_object_buffered(vector, 0, len(vector), "posterior") is None
    bad = bytearray(vector)
    bad[12] = 3  # an element's size marker
    assert read_object_buffered(bytes(bad), 0, len(bad), None) is None
    floats = np.array([1.5, -2.0], np.float32).tobytes()
    plain = {b"FV ": b"\4" + (2).to_bytes(4, "little") + floats,
             b"FM ": b"\4" + (1).to_bytes(4, "little") + b"\4" + (2).to_bytes(4, "little")
             + floats}
    for token, body in plain.items():
        data = b"\0B" + token + body
        value, stop = read_object_buffered(data, 0, len(data), None)
        assert value.ravel().tolist() == [1.5, -2.0] and stop == len(data)
        for marker in ((5,) if token == b"FV " else (5, 10)):
            bad = bytearray(data)
            bad[marker] = 3  # a size marker
            assert read_object_buffered(bytes(bad), 0, len(bad), None) is None
        nan = data[:-4] + np.array([np.nan], np.float32).tobytes()
        assert read_object_buffered(nan, 0, len(nan), None) is None
