"""validate-data-dir reports every problem as file:line (key); fix-data-dir repairs; every
strict reader refuses Windows line ends and a spk2utt that disagrees with utt2spk."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.datadir import DataDir
from asrkt.data.subset import subset_data_dir
from asrkt.data.validate import fix_data_dir, validate_data_dir
from asrkt.errors import AsrktError
from tests.helpers.datadirs import generated_data_dir


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


def crlf(path):
    """Rewrite ``path`` with Windows line ends."""
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def test_windows_line_ends_are_one_problem_per_file_and_fix_removes_them(tmp_path):
    d = make_dir(tmp_path / "d", **GOOD)
    crlf(d / "text")
    crlf(d / "wav.scp")
    problems = validate_data_dir(d)
    assert sorted(problems) == [
        f"{d}/text:1: Windows line end (CRLF); Kaldi files need Unix line ends (LF) (3 line(s), "
        f"the first here): run 'asrkt fix-data-dir {d}'",
        f"{d}/wav.scp:1: Windows line end (CRLF); Kaldi files need Unix line ends (LF) "
        f"(3 line(s), the first here): run 'asrkt fix-data-dir {d}'"]
    result = CliRunner().invoke(cli, ["validate-data-dir", str(d)])
    assert result.exit_code == 1 and "text:1: Windows line end" in result.output
    assert fix_data_dir(d) == {}
    assert b"\r" not in (d / "text").read_bytes() + (d / "wav.scp").read_bytes()
    assert validate_data_dir(d) == []
    assert DataDir(d).text == {"a-1": ["ONE"], "a-2": ["TWO"], "b-1": ["THREE"]}


def test_every_strict_reader_refuses_a_carriage_return(tmp_path):
    d = make_dir(tmp_path / "d", **GOOD)
    (d / "text").write_bytes(b"a-1 ONE\na-2 TWO\r\nb-1 THREE\n")
    with pytest.raises(AsrktError, match=rf"^{d}/text:2: Windows line end \(CRLF\); Kaldi files "
                                         rf"need Unix line ends \(LF\): run sed -i 's/\\r//g' "
                                         rf"{d}/text$"):
        assert not DataDir(d).text
    (d / "wav.scp").write_bytes(b"a-1 x.wav\na-2 y\rz.wav\nb-1 z.wav\n")
    with pytest.raises(AsrktError, match=r"wav.scp:2: carriage return \(\\r\) inside the line"):
        assert not DataDir(d).wav_scp
    crlf(d / "utt2spk")
    with pytest.raises(AsrktError, match=r"utt2spk:1: Windows line end"):
        assert not DataDir(d).utterances
    with pytest.raises(AsrktError, match=r"utt2spk:1: Windows line end"):
        subset_data_dir(d, tmp_path / "s", ["a-1"])


def test_make_feats_refuses_a_wav_scp_with_windows_line_ends(tmp_path):
    d = generated_data_dir(tmp_path / "d", 8000, count=2)
    crlf(d / "wav.scp")
    result = CliRunner().invoke(cli, ["make-feats", "--nj", "1", str(d), str(tmp_path / "f")])
    assert result.exit_code == 1, result.output
    assert f"{d}/wav.scp:1: Windows line end (CRLF)" in result.output
    assert not (d / "feats.scp").exists()


def test_spk2utt_that_disagrees_with_utt2spk_stops_every_reader(tmp_path):
    d = generated_data_dir(tmp_path / "d", 8000, count=4)
    assert CliRunner().invoke(cli, ["make-feats", "--nj", "1", str(d), str(tmp_path / "f")]
                              ).exit_code == 0
    good = (d / "spk2utt").read_text()
    # spk1-utt1 listed under spk0: compute-cmvn (spk2utt) and the trainers (utt2spk) must not
    # each go on with one of the two files
    (d / "spk2utt").write_text("spk0 spk0-utt0 spk0-utt2 spk1-utt1\nspk1 spk1-utt3\n")
    expected = (f"{d}/spk2utt:1 (spk0): utterance 'spk1-utt1' is not mapped to this speaker in "
                f"utt2spk: spk2utt disagrees with utt2spk; run 'asrkt fix-data-dir {d}' (it "
                f"rewrites spk2utt from utt2spk)")
    result = CliRunner().invoke(cli, ["compute-cmvn", str(d)])
    assert result.exit_code == 1
    assert result.output.strip() == f"asrkt compute-cmvn: error: {expected}"
    assert not (d / "cmvn.scp").exists()
    for read in (lambda: DataDir(d).utterances, lambda: DataDir(d).spk2utt):
        with pytest.raises(AsrktError) as caught:
            read()
        assert str(caught.value) == expected
    (d / "spk2utt").write_text("spk0 spk0-utt0 spk0-utt2\nspk1 spk1-utt1 spk1-utt1 spk1-utt3\n")
    with pytest.raises(AsrktError, match=r"spk2utt:2 \(spk1\): utterance 'spk1-utt1' listed "
                                         r"twice \(also under speaker 'spk1'\)"):
        assert not DataDir(d).utterances
    assert "listed twice" in "\n".join(validate_data_dir(d))
    (d / "spk2utt").write_text("spk0 spk0-utt0\nspk1 spk1-utt1 spk1-utt3\n")
    with pytest.raises(AsrktError, match=r"utt2spk:2 \(spk0-utt2\): speaker 'spk0' in utt2spk "
                                         r"but not in spk2utt: spk2utt disagrees"):
        assert not DataDir(d).utterances
    fix_data_dir(d)
    assert (d / "spk2utt").read_text() == good
    assert CliRunner().invoke(cli, ["compute-cmvn", str(d)]).exit_code == 0
