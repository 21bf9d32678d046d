"""validate-data-dir reports every problem as file:line (key); fix-data-dir repairs."""

from __future__ import annotations

from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.datadir import DataDir
from asrkt.data.subset import subset_data_dir
from asrkt.data.validate import fix_data_dir, validate_data_dir


def make_dir(path, utt2spk, text, wav, spk2utt=None, extra=None):
    path.mkdir(parents=True, exist_ok=True)
    (path / "utt2spk").write_text(utt2spk)
    (path / "text").write_text(text)
    (path / "wav.scp").write_text(wav)
    if spk2utt is not None:
        (path / "spk2utt").write_text(spk2utt)
    for name, content in (extra or {}).items():
        (path / name).write_text(content)
    return path


GOOD = dict(utt2spk="a-1 a\na-2 a\nb-1 b\n", text="a-1 ONE\na-2 TWO\nb-1 THREE\n",
            wav="a-1 x.wav\na-2 y.wav\nb-1 z.wav\n", spk2utt="a a-1 a-2\nb b-1\n")


def test_valid_dir_has_no_problems(tmp_path):
    assert validate_data_dir(make_dir(tmp_path / "d", **GOOD)) == []


def test_each_problem_names_file_line_and_key(tmp_path):
    d = make_dir(tmp_path / "d", utt2spk="a-1 a\na-2 a\nb-1 b\nc-1 c\n",
                 text="a-2 TWO\na-1 ONE\nb-1\n", wav="a-1 x.wav\na-2 y.wav\nb-1 z.wav\nb-1 w.wav\n",
                 spk2utt="a a-1\nb b-1\nc c-1\n", extra={"feats.scp": "a-1 f.ark:1\nzz f.ark:9\n"})
    problems = validate_data_dir(d)
    text = "\n".join(problems)
    assert f"{d}/text:2 (a-1): not sorted" in text
    assert f"{d}/text:3 (b-1): empty transcript" in text
    assert f"{d}/wav.scp:4 (b-1): duplicate key" in text
    assert f"{d}/utt2spk:2 (a-2): speaker 'a' in utt2spk but not in spk2utt" in text
    assert f"{d}/utt2spk:4 (c-1): utterance missing from text" in text
    assert f"{d}/feats.scp:2 (zz): utterance not in utt2spk" in text
    assert f"{d}/utt2spk:2 (a-2): utterance missing from feats.scp" in text
    assert all(p.startswith(str(d)) for p in problems)


def test_cli_validate_exit_status(tmp_path):
    d = make_dir(tmp_path / "d", **{**GOOD, "spk2utt": "a a-1\nb b-1\n"})
    result = CliRunner().invoke(cli, ["validate-data-dir", str(d)])
    assert result.exit_code == 1
    assert "utt2spk:2 (a-2)" in result.output
    result = CliRunner().invoke(cli, ["validate-data-dir", str(make_dir(tmp_path / "ok", **GOOD))])
    assert result.exit_code == 0 and "OK" in result.output


def test_fix_keeps_intersection_and_sorts(tmp_path):
    d = make_dir(tmp_path / "d", utt2spk="b-1 b\na-1 a\na-2 a\nc-1 c\n",
                 text="a-1 ONE\na-2\nb-1 THREE\nc-1 FOUR\n", wav="a-1 x\na-2 y\nb-1 z\n")
    dropped = fix_data_dir(d)
    assert dropped == {"missing from wav.scp": ["c-1"], "empty transcript": ["a-2"]}
    assert validate_data_dir(d) == []
    assert DataDir(d).utterances == ["a-1", "b-1"]
    assert (d / "spk2utt").read_text() == "a a-1\nb b-1\n"
    assert (d / ".backup" / "utt2spk").read_text().startswith("b-1 b")
    result = CliRunner().invoke(cli, ["fix-data-dir", str(d)])
    assert result.exit_code == 0 and "0 utterance(s) dropped" in result.output


def test_subset(tmp_path):
    d = make_dir(tmp_path / "d", **GOOD)
    subset_data_dir(d, tmp_path / "s", ["a-2", "b-1"])
    assert validate_data_dir(tmp_path / "s") == []
    assert (tmp_path / "s" / "wav.scp").read_text() == "a-2 y.wav\nb-1 z.wav\n"
    result = CliRunner().invoke(cli, ["subset-data-dir", str(d), str(tmp_path / "t"),
                                      "--speakers", "b"])
    assert result.exit_code == 0
    assert DataDir(tmp_path / "t").utterances == ["b-1"]
