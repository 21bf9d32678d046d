"""Script tables keep their archive open: one open per run of entries in the same archive, in
any order, with the values, errors and checks of reading each entry on its own."""

from __future__ import annotations

import os
import pickle
import threading

import kaldiio
import numpy as np
import pytest

import asrkt.io.tables as tables
from asrkt.errors import AsrktError
from asrkt.io.posterior import PosteriorWriter, read_posteriors
from asrkt.io.sparse import SparsePosterior
from asrkt.io.tables import ArkScpWriter, load_scp, read_scp_entry, read_table


def _items(rng, count, kind):
    if kind == "int-vector":
        return {f"u{i:03d}": rng.integers(1, 500, size=int(rng.integers(1, 60))).astype(np.int32)
                for i in range(count)}
    dtype = np.float64 if kind == "double" else np.float32
    return {f"u{i:03d}": rng.standard_normal((int(rng.integers(1, 40)), 13)).astype(dtype)
            for i in range(count)}


def _write(tmp_path, name, items, compress=False):
    with ArkScpWriter(tmp_path / f"{name}.ark", tmp_path / f"{name}.scp",
                      compress=compress) as writer:
        for key, value in items.items():
            writer.write(key, value)
    return [line.split(" ", 1) for line in (tmp_path / f"{name}.scp").read_text().splitlines()]


def _one_by_one(scp, kind):
    """The per-entry path: a new table (a new open of the archive) for every entry."""
    return [(key, read_scp_entry(load_scp(scp), key, scp, kind)) for key in load_scp(scp)]


def _same(got, want):
    assert [k for k, _ in got] == [k for k, _ in want]
    for (_, a), (_, b) in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture
def opens(monkeypatch):
    """The archives tables.py opens, in order."""
    seen = []
    real = open

    def counting(path, *args, **kwargs):
        seen.append(os.path.basename(str(path)))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tables, "open", counting, raising=False)
    return seen


@pytest.mark.parametrize("kind", ["matrix", "double", "compressed", "int-vector"])
def test_out_of_order_entries_in_several_archives_read_as_one_by_one(tmp_path, kind, opens):
    rng = np.random.default_rng(3)
    items = _items(rng, 40, kind)
    keys = list(items)
    lines = (_write(tmp_path, "a", {k: items[k] for k in keys[:20]}, kind == "compressed")
             + _write(tmp_path, "b", {k: items[k] for k in keys[20:]}, kind == "compressed"))
    # shuffled within runs of each archive, the runs interleaved: a a a b b a b ...
    order = rng.permutation(len(lines))
    scp = tmp_path / "mixed.scp"
    scp.write_text("".join(f"{lines[i][0]} {lines[i][1]}\n" for i in order))
    read_kind = "matrix" if kind in ("double", "compressed") else kind
    opens.clear()
    got = list(read_table(f"scp:{scp}", read_kind))
    runs = 1 + sum(lines[i][1].split(":")[-2] != lines[j][1].split(":")[-2]
                   for i, j in zip(order[:-1], order[1:]))
    assert len(opens) == runs < len(lines)  # one open per run of the same archive
    _same(got, _one_by_one(scp, read_kind))
    for key, value in got:
        if kind == "compressed":
            assert np.max(np.abs(value - items[key])) < 0.05
        else:
            assert value.tobytes() == items[key].tobytes()


def test_offsets_of_some_entries_and_random_access_reuse_the_open_archive(tmp_path, opens):
    items = _items(np.random.default_rng(4), 30, "matrix")
    lines = _write(tmp_path, "a", items)
    scp = tmp_path / "some.scp"  # every third entry, backwards, one under another key
    chosen = lines[::3][::-1]
    scp.write_text("".join(f"{k} {v}\n" for k, v in chosen) + f"again {lines[4][1]}\n")
    opens.clear()
    table = load_scp(scp)
    for key, _ in chosen:
        assert read_scp_entry(table, key, scp, "matrix").tobytes() == items[key].tobytes()
    assert read_scp_entry(table, "again", scp).tobytes() == items[lines[4][0]].tobytes()
    assert opens == ["a.ark"]
    table.close()
    read_scp_entry(table, chosen[0][0], scp)  # usable after close: opens again
    assert opens == ["a.ark", "a.ark"]
    with load_scp(scp) as other:
        read_scp_entry(other, "again", scp)
        assert other._open is not None
    assert other._open is None


def test_truncated_archive_is_one_line_naming_file_and_utterance(tmp_path):
    items = _items(np.random.default_rng(5), 6, "matrix")
    lines = _write(tmp_path, "a", items)
    ark = tmp_path / "a.ark"
    ark.write_bytes(ark.read_bytes()[:-30])  # the last matrix loses 30 bytes
    got = []
    with pytest.raises(AsrktError) as err:
        for key, _ in read_table(tmp_path / "a.scp", "matrix"):
            got.append(key)
    message = str(err.value)
    assert "\n" not in message and "a.ark" in message and lines[-1][0] in message
    assert "truncated" in message or "declares" in message
    assert got == [k for k, _ in lines[:-1]]  # the entries before it were read
    scp = tmp_path / "beyond.scp"  # an offset past the end names the scp line and key
    scp.write_text(f"late {ark}:{ark.stat().st_size + 10}\n")
    with pytest.raises(AsrktError, match=r"beyond\.scp:1 \(late\): offset .* beyond the end"):
        list(read_table(scp))


def test_damaged_size_inside_the_archive_still_caught_with_the_archive_kept_open(tmp_path):
    items = {"u1": np.ones((4, 3), np.float32), "u2": np.ones((4, 3), np.float32) * 2,
             "u3": np.ones((4, 3), np.float32) * 3}
    _write(tmp_path, "a", items)
    data = bytearray((tmp_path / "a.ark").read_bytes())
    rows_at = data.index(b"u2 ") + 3 + len(b"\0BFM ") + 1
    data[rows_at:rows_at + 4] = (3).to_bytes(4, "little")  # 3 rows declared, 4 written
    (tmp_path / "a.ark").write_bytes(bytes(data))
    table = load_scp(tmp_path / "a.scp")
    assert read_scp_entry(table, "u1", tmp_path / "a.scp").tobytes() == items["u1"].tobytes()
    with pytest.raises(AsrktError, match=r"\(u2\): the object does not end at an entry boundary"):
        read_scp_entry(table, "u2", tmp_path / "a.scp")
    assert read_scp_entry(table, "u3", tmp_path / "a.scp").tobytes() == items["u3"].tobytes()


def test_posteriors_binary_and_text_through_the_kept_archive(tmp_path):
    rng = np.random.default_rng(6)
    posts = {}
    for i in range(8):
        frames = int(rng.integers(1, 9))
        posts[f"u{i}"] = SparsePosterior(rng.integers(0, 50, (frames, 3)).astype(np.int32),
                                         rng.random((frames, 3)).astype(np.float32))
    with PosteriorWriter(tmp_path / "p.ark", tmp_path / "p.scp") as writer:
        for key, post in posts.items():
            writer.write(key, post)
    got = dict(read_posteriors(f"scp:{tmp_path / 'p.scp'}"))
    for key, post in posts.items():
        assert np.array_equal(got[key].ids, post.ids)
        assert got[key].weights.tobytes() == post.weights.tobytes()
    # text Posteriors (a line per entry), the scp backwards
    with PosteriorWriter(tmp_path / "t.ark", tmp_path / "t.scp", text=True) as writer:
        for key, post in posts.items():
            writer.write(key, post)
    scp = tmp_path / "t.scp"
    scp.write_text("".join(reversed(scp.read_text().splitlines(keepends=True))))
    got = list(read_posteriors(f"scp:{scp}"))
    assert [k for k, _ in got] == list(reversed(list(posts)))
    for key, post in got:
        assert np.array_equal(post.ids, posts[key].ids)
        assert np.allclose(post.weights, posts[key].weights)


def test_pipe_and_file_readers_agree(tmp_path):
    items = _items(np.random.default_rng(7), 12, "matrix")
    items.update({f"v{i}": np.arange(1, 6 + i, dtype=np.float64) for i in range(3)})
    _write(tmp_path, "a", items)
    by_file = list(read_table(f"ark:{tmp_path / 'a.ark'}"))
    by_pipe = list(read_table(f"ark:cat {tmp_path / 'a.ark'} |"))
    _same(by_pipe, by_file)
    _same(list(read_table(tmp_path / "a.scp")), by_file)
    for key, value in by_file:
        assert value.tobytes() == items[key].tobytes() and value.flags.writeable
        assert value.dtype.isnative
    lazy = kaldiio.load_scp(str(tmp_path / "a.scp"))
    assert all(np.array_equal(lazy[k], v) for k, v in by_file)


def test_threads_and_a_forked_child_read_the_same_table(tmp_path):
    items = _items(np.random.default_rng(8), 60, "matrix")
    _write(tmp_path, "a", items)
    scp = tmp_path / "a.scp"
    table = load_scp(scp)
    read_scp_entry(table, "u000", scp)  # the parent's archive is open
    failures = []

    def worker(keys):
        for _ in range(20):
            for key in keys:
                if read_scp_entry(table, key, scp).tobytes() != items[key].tobytes():
                    failures.append(key)

    keys = list(items)
    threads = [threading.Thread(target=worker, args=(keys[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    pid = os.fork()
    if pid == 0:  # the child reads everything through its own open of the archive
        ok = all(read_scp_entry(table, k, scp).tobytes() == items[k].tobytes()
                 for k in reversed(keys))
        os._exit(0 if ok else 1)
    mine = all(read_scp_entry(table, k, scp).tobytes() == items[k].tobytes() for k in keys)
    _, status = os.waitpid(pid, 0)
    assert mine and os.WEXITSTATUS(status) == 0
    copy = pickle.loads(pickle.dumps(table))  # pickled without the handle
    assert copy._open is None
    assert read_scp_entry(copy, "u007", scp).tobytes() == items["u007"].tobytes()
