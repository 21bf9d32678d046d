"""Fuzz of the checked reader (asrkt.io.checked via asrkt.io.tables): corrupt variants of plain
and Kaldi-compressed feature archives, a soft-target archive, an int32 alignment archive and a
binary Kaldi Posterior archive (fixed-width and ragged entries).

Every variant is read sequentially (ark) and by random access through the original scp. Each
read must either fail with a one-line AsrktError or return only finite arrays of the right
kind whose shapes are those the undamaged archive declares (Posteriors: finite weights and
non-negative ids; payload damage that still decodes to finite numbers cannot be detected:
Kaldi archives have no checksums).
"""

from __future__ import annotations

import signal
import struct
from functools import partial
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
from click.testing import CliRunner

from asrkt.errors import AsrktError
from asrkt.io.posterior import PosteriorWriter, SparsePosterior
from asrkt.io.tables import ArkScpWriter, load_scp, read_scp_entry, read_table

VARIANTS_PER_ARCHIVE = 80  # x 5 archives = 400 variants, each read two ways


def _archives(root: Path) -> Dict[str, Tuple[Path, Path, str, List[tuple]]]:
    """name -> (ark, scp, kind, original shapes in order)."""
    rng = np.random.default_rng(0)
    feats = {"u1": rng.standard_normal((20, 13)), "u2": rng.standard_normal((6, 13)),
             "u3": rng.standard_normal((25, 13))}
    post = rng.random((18, 6)) + 0.01
    tables = {
        "plain": ({k: v.astype(np.float32) for k, v in feats.items()}, "matrix", False),
        # rows > 8 give CM (per-column headers), 6 rows give CM2
        "compressed": ({k: v.astype(np.float32) for k, v in feats.items()}, "matrix", True),
        "soft": ({"u1": (post / post.sum(1, keepdims=True)).astype(np.float32),
                  "u2": np.full((4, 6), 1 / 6, np.float32)}, "matrix", False),
        "ali": ({"u1": rng.integers(0, 6, 30).astype(np.int32),
                 "u2": rng.integers(0, 6, 12).astype(np.int32)}, "int-vector", False),
        # top-k soft targets (one view) and a ragged entry (frame by frame), as Kaldi Posteriors
        "post": ({"u1": SparsePosterior(rng.integers(0, 50, (12, 4)).astype(np.int32),
                                        rng.random((12, 4)).astype(np.float32)),
                  "u2": SparsePosterior.from_pairs([[(3, 0.5), (7, 0.5)], [(1, 1.0)], [],
                                                    [(2, 0.25), (4, 0.25), (9, 0.5)]])},
                 "posterior", False),
    }
    out = {}
    for name, (items, kind, compress) in tables.items():
        ark, scp = root / f"{name}.ark", root / f"{name}.scp"
        writer_class = PosteriorWriter if kind == "posterior" else partial(ArkScpWriter,
                                                                           compress=compress)
        with writer_class(ark, scp) as writer:
            for key in sorted(items):
                writer.write(key, items[key])
        out[name] = (ark, scp, kind, [_shape(items[k]) for k in sorted(items)])
    return out


def _shape(value) -> tuple:
    """An array's shape; a Posterior's (frames, pairs per frame)."""
    return value.ids.shape if isinstance(value, SparsePosterior) else value.shape


def _header_positions(data: bytes) -> List[int]:
    """Byte positions of keys, type tokens, dimensions and compressed headers."""
    positions, start = [], 0
    while True:
        marker = data.find(b"\0B", start)
        if marker < 0:
            return positions
        positions += list(range(max(0, marker - 3), min(len(data), marker + 40)))
        start = marker + 2


def _mutate(data: bytes, rng: np.random.Generator) -> Tuple[str, bytes]:
    kind = ["flip", "truncate", "insert", "header", "token", "dims"][rng.integers(6)]
    buf = bytearray(data)
    if kind == "flip":
        for _ in range(rng.integers(1, 4)):
            pos = rng.integers(len(buf))
            buf[pos] ^= 1 << rng.integers(8)
    elif kind == "truncate":
        buf = buf[:rng.integers(1, len(buf))]
    elif kind == "insert":
        pos = rng.integers(len(buf))
        buf[pos:pos] = rng.integers(0, 256, rng.integers(1, 9)).astype(np.uint8).tobytes()
    elif kind == "header":
        for pos in rng.choice(_header_positions(data), size=rng.integers(1, 3)):
            buf[pos] = rng.integers(256)
    elif kind == "token":  # swap the type token for another one, or delete it
        tokens = [b"FM ", b"DM ", b"FV ", b"DV ", b"CM ", b"CM2 ", b"CM3 ", b"XY ", b""]
        for old in (b"FM ", b"CM ", b"CM2 "):
            if old in buf:
                pos = buf.index(old)
                new = [t for t in tokens if t != old][rng.integers(len(tokens) - 1)]
                buf[pos:pos + len(old)] = new
                break
        else:  # int32 vector: damage its marker or size
            pos = buf.index(b"\0B") + 2
            buf[pos:pos + 5] = rng.integers(0, 256, 5).astype(np.uint8).tobytes()
    else:  # dims: a plausible wrong size (or a huge or negative one) in a size/header field
        value = int(rng.choice([0, 1, 5, 19, 21, 26, 1 << 20, 2 ** 31 - 1, -1, -7]))
        marker = buf.index(b"\0B")
        if buf[marker + 2:marker + 3] == b"\4":  # int32 vector: its size
            pos = marker + 3
        elif buf[marker + 2:marker + 4] == b"CM":  # rows or cols after min and range
            pos = buf.index(b" ", marker) + 1 + 8 + 4 * rng.integers(2)
        else:  # rows or cols after their size markers
            pos = buf.index(b" ", marker) + 2 + 5 * rng.integers(2)
        buf[pos:pos + 4] = struct.pack("<i", value)
    return kind, bytes(buf)


class _Timeout(Exception):
    pass


def _alarm(*_):
    raise _Timeout()


def _valid(array, kind: str) -> None:
    if kind == "posterior":
        assert isinstance(array, SparsePosterior)
        assert array.ids.dtype == np.int32 and array.weights.dtype == np.float32
        assert array.ids.ndim == 2 and array.ids.shape == array.weights.shape
        assert np.all(array.ids >= 0) and np.all(np.isfinite(array.weights))
        return
    assert array.ndim == (2 if kind == "matrix" else 1)
    if kind == "int-vector":
        assert array.dtype == np.int32
    else:
        assert np.all(np.isfinite(array))


def _check(result: List[Tuple[str, np.ndarray]], kind: str, shapes: List[tuple]) -> None:
    """An accepted sequential read: finite arrays of the right kind, in the original shapes
    (a prefix of the entries when the archive was cut at an entry boundary)."""
    assert [_shape(a) for _, a in result] == shapes[:len(result)]
    for _, array in result:
        _valid(array, kind)


def _declared_shape(buf: bytes, offset: int, kind: str):
    """The shape the (possibly damaged) header at ``offset`` declares, parsed naively."""
    try:
        if kind == "posterior" and buf[offset + 2:offset + 3] == b"\4":
            return _declared_posterior_shape(buf, offset + 3)
        if buf[offset + 2:offset + 3] == b"\4":
            return (struct.unpack("<i", buf[offset + 3:offset + 7])[0],)
        end = buf.index(b" ", offset + 2)
        token, pos = buf[offset + 2:end], end + 1
        if token in (b"CM", b"CM2", b"CM3"):
            return struct.unpack("<ii", buf[pos + 8:pos + 16])
        if token in (b"FM", b"DM"):
            return (struct.unpack("<i", buf[pos + 1:pos + 5])
                    + struct.unpack("<i", buf[pos + 6:pos + 10]))
        return (struct.unpack("<i", buf[pos + 1:pos + 5])[0],)
    except (ValueError, struct.error):
        return None


def _declared_posterior_shape(buf: bytes, pos: int):
    """(frames, widest frame) that a Posterior's frame count and pair counts declare."""
    frames, pos, width = struct.unpack("<i", buf[pos:pos + 4])[0], pos + 4, 0
    for _ in range(max(frames, 0)):
        count = struct.unpack("<i", buf[pos + 1:pos + 5])[0]
        if count < 0:
            return None
        width, pos = max(width, count), pos + 5 + 10 * count
    return (frames, width)


def _check_entries(result, kind, shapes, declared) -> None:
    """Random access through the original scp: each entry either has its original shape or
    the one its damaged header declares (a smaller, self-consistent size cannot be told
    from a real one without the rest of the archive)."""
    assert len(result) == len(shapes)
    for (_, array), shape, other in zip(result, shapes, declared):
        assert _shape(array) in (shape, other)
        _valid(array, kind)


def _sequential(ark, kind):
    return list(read_table(ark, kind))


def _random_access(table, scp, kind):
    return [(key, read_scp_entry(table, key, scp, kind)) for key in table]


def _read(fn, kind, shapes, outcome, declared=None):
    signal.alarm(5)  # no hang
    try:
        result = fn()
        if declared is None:
            _check(result, kind, shapes)
        else:
            _check_entries(result, kind, shapes, declared)
        outcome["accepted"] += 1
    except AsrktError as exc:
        assert "\n" not in str(exc) and str(exc).strip(), repr(str(exc))
        outcome["rejected"] += 1
    finally:
        signal.alarm(0)


def test_fuzzed_archives_fail_cleanly_or_decode_to_valid_matrices(tmp_path):
    previous = signal.signal(signal.SIGALRM, _alarm)
    rng = np.random.default_rng(12)
    counts = {}
    archives = _archives(tmp_path)
    try:
        for name, (ark, scp, kind, shapes) in archives.items():
            data = ark.read_bytes()
            _check(list(read_table(scp, kind)), kind, shapes)  # the undamaged archive
            with pytest.raises(AsrktError, match="expected a"):  # the wrong kind
                list(read_table(ark, "vector"))
            for _ in range(VARIANTS_PER_ARCHIVE):
                damage, variant = _mutate(data, rng)
                ark.write_bytes(variant)
                outcome = counts.setdefault((name, damage), {"accepted": 0, "rejected": 0})
                _read(partial(_sequential, ark, kind), kind, shapes, outcome)
                table = load_scp(scp)
                declared = [_declared_shape(variant, int(v.rsplit(":", 1)[1]), kind)
                            for _, v in table.entries.values()]
                _read(partial(_random_access, table, scp, kind), kind, shapes, outcome,
                      declared)
    finally:
        signal.signal(signal.SIGALRM, previous)
    total = sum(sum(o.values()) for o in counts.values())
    assert total == 2 * len(archives) * VARIANTS_PER_ARCHIVE
    rejected = sum(o["rejected"] for o in counts.values())
    # damaged type tokens and sizes are always caught (measured: 0 of 310 reads accepted);
    # payload flips mostly decode to finite numbers and are accepted, as in Kaldi
    header = [o for (_, damage), o in counts.items() if damage in ("token", "dims")]
    assert sum(o["accepted"] for o in header) == 0, counts
    assert rejected > total / 2, counts


def _corrupt_data_dir(root: Path, ark_bytes: bytes, key: str = "u1") -> Path:
    data = root / "data"
    data.mkdir(parents=True)
    (root / "feats.ark").write_bytes(ark_bytes)
    (data / "feats.scp").write_text(f"{key} {root / 'feats.ark'}:{len(key) + 1}\n")
    (data / "utt2spk").write_text(f"{key} s\n")
    (data / "spk2utt").write_text(f"s {key}\n")
    return data


def _ark(key: str, token: bytes, payload: bytes) -> bytes:
    return key.encode() + b" \0B" + token + payload


@pytest.mark.parametrize("case, expected", [
    ("vector", "expected a matrix"),
    ("dm", "declares"),
    ("nan", "NaN/inf"),
    ("cm_header", "range"),
    ("newline_token", "unknown type token"),
])
def test_compute_cmvn_on_corrupt_archives_is_one_line(tmp_path, case, expected):
    from asrkt.cli.main import cli

    mat = np.arange(12, dtype=np.float32).reshape(3, 4)
    dims = b"\4" + struct.pack("<i", 3) + b"\4" + struct.pack("<i", 4)
    payload = {
        "vector": _ark("u1", b"FV ", b"\4" + struct.pack("<i", 12) + mat.tobytes()),
        "dm": _ark("u1", b"DM ", dims + mat.tobytes()),
        "nan": _ark("u1", b"FM ", dims + np.full((3, 4), np.nan, np.float32).tobytes()),
        "cm_header": _ark("u1", b"CM2 ", struct.pack("<ffii", 0.0, float("inf"), 3, 4)
                          + bytes(24)),
        "newline_token": _ark("u1", b"F\n ", dims + mat.tobytes()),
    }[case]
    data = _corrupt_data_dir(tmp_path, payload)
    result = CliRunner().invoke(cli, ["compute-cmvn", str(data)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith("asrkt compute-cmvn: error:"), result.output
    assert expected in lines[0] and "(u1)" in lines[0] and "feats.ark" in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not (data / "cmvn.scp").exists()
