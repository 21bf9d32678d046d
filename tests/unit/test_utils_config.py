"""Config precedence: defaults < YAML < flags; unknown keys and wrong types rejected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import pytest

from asrkt.errors import AsrktError
from asrkt.utils.config import load_config, resolve_config, save_config


@dataclass
class Cfg:
    lr: float = 0.1
    epochs: int = 3
    kind: Literal["a", "b"] = "a"
    seed: Optional[int] = None
    shuffle: bool = True


def test_precedence(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 0.5\nepochs: 7\n")
    cfg = resolve_config(Cfg, tmp_path / "c.yaml", {"epochs": 9, "kind": None})
    assert (cfg.lr, cfg.epochs, cfg.kind) == (0.5, 9, "a")
    save_config(cfg, tmp_path / "saved.yaml")
    assert load_config(Cfg, tmp_path / "saved.yaml") == cfg


@pytest.mark.parametrize("text,match", [
    ("lrr: 1\n", "unknown key.*lrr"),
    ("epochs: two\n", "epochs' must be an integer"),
    ("kind: c\n", "kind' must be one of a, b"),
    ("shuffle: 1\n", "shuffle' must be true or false"),
    ("lr: [1\n", "invalid YAML"),
    ("- 1\n", "expected a mapping"),
])
def test_rejections_name_the_file(tmp_path, text, match):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(AsrktError, match=match) as info:
        resolve_config(Cfg, tmp_path / "c.yaml")
    assert "c.yaml" in str(info.value)


def test_flags_are_type_checked():
    with pytest.raises(AsrktError, match="command line: 'lr' must be a number"):
        resolve_config(Cfg, None, {"lr": "fast"})
