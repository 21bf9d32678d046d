"""asrkt synth-digits: help, a real (tiny) run, re-run, and bad options."""

from __future__ import annotations

from click.testing import CliRunner

from asrkt.cli.main import cli
from asrkt.data.datadir import DataDir


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith("asrkt synth-digits: error:"), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_tiny_run_then_rerun_does_nothing(tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("babble_speakers: 2\nbabble_talkers: 2\nutts_per_speaker: 5\n")
    out = tmp_path / "corpus"
    args = ["synth-digits", "--config", config, "--seed", 7, "--num-train-speakers", 1,
            "--num-test-speakers", 1, "--utts-per-speaker", 2, "--test-utts-per-speaker", 1,
            "--snrs", "10,0", "--noise-types", "white,babble", "--nj", 2, out]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "test_babble_snr0" in result.output
    sets = sorted(p.name for p in (out / "data").iterdir())
    assert sets == ["local", "test_babble_snr0", "test_babble_snr10", "test_clean",
                    "test_white_snr0", "test_white_snr10", "train"]
    assert len(DataDir(out / "data/train").utterances) == 2  # the flag beats the YAML file
    assert len(DataDir(out / "data/test_white_snr0").utterances) == 1
    assert (out / "log/synth-digits.log").exists() and (out / ".done").exists()
    again = run(*args)
    assert again.exit_code == 0 and "nothing to do" in again.output
    # an unfinished corpus (no .done, as a kill leaves it) resumes and appends to its log
    first_log = (out / "log/synth-digits.log").read_text()
    (out / ".done").unlink()
    assert run(*args).exit_code == 0
    log = (out / "log/synth-digits.log").read_text()
    assert log.startswith(first_log) and "resuming the unfinished corpus" in log[len(first_log):]


def test_bad_options_are_one_line_errors(tmp_path):
    one_line_error(run("synth-digits", "--snrs", "10,x", tmp_path / "a"), "--snrs")
    one_line_error(run("synth-digits", "--noise-types", "white,brown", tmp_path / "b"), "brown")
    one_line_error(run("synth-digits", "--num-test-speakers", -1, tmp_path / "c"),
                   "num_test_speakers")
    one_line_error(run("synth-digits", "--nj", 0, tmp_path / "d"), "--nj")  # click's usage error
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_every_temporary_name_of_synth_digits_is_one_a_rerun_removes(tmp_path, monkeypatch):
    """The kill-safety check of tests/helpers/temporaries.py (in-process, one job); a kill
    leaves no .done, so the re-run does the work again and must remove every temporary."""
    from tests.helpers.temporaries import check_rerun_removes_temporaries

    out = tmp_path / "corpus"
    args = ["synth-digits", "--seed", 7, "--num-train-speakers", 1, "--num-test-speakers", 1,
            "--utts-per-speaker", 2, "--test-utts-per-speaker", 1, "--snrs", "10",
            "--noise-types", "white,babble", "--babble-speakers", 2, "--babble-talkers", 2,
            "--nj", 1, out]
    assert check_rerun_removes_temporaries(monkeypatch, args, [out], markers=[".done"])
