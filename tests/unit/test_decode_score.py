"""WER scoring: Kaldi's %WER line, best LM weight, detail files, bad inputs."""

from __future__ import annotations

import pytest

from asrkt.errors import AsrktError


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def dirs(tmp_path):
    data = tmp_path / "data"
    write(data / "text", "a-1 ONE TWO THREE\na-2 FOUR\nb-1 FIVE SIX\n")
    write(data / "utt2spk", "a-1 a\na-2 a\nb-1 b\n")
    write(data / "spk2utt", "a a-1 a-2\nb b-1\n")
    dec = tmp_path / "decode"
    write(dec / "scoring" / "7.txt", "a-1 ONE TWO TWO THREE\na-2\nb-1 FIVE SEVEN\n")
    write(dec / "scoring" / "10.txt", "a-1 ONE TWO THREE\na-2 FOUR\nb-1 FIVE SIX\n")
    write(dec / "scoring" / "12.txt", "a-1 ONE THREE\na-2 FOUR\nb-1 FIVE SIX\n")
    return data, dec


def test_wer_lines_and_best(dirs):
    from asrkt.decode.score import score_decode_dir

    data, dec = dirs
    lmwt, line = score_decode_dir(data, dec)
    assert (lmwt, line) == ("10", "%WER 0.00 [ 0 / 6, 0 ins, 0 del, 0 sub ]")
    assert (dec / "wer_7").read_text() == ("%WER 50.00 [ 3 / 6, 1 ins, 1 del, 1 sub ]\n"
                                           "%SER 100.00 [ 3 / 3 ]\n")
    assert (dec / "wer_12").read_text().startswith("%WER 16.67 [ 1 / 6, 0 ins, 1 del, 0 sub ]")
    assert (dec / "scoring_kaldi" / "best_wer").read_text().startswith("%WER 0.00")
    per_spk = (dec / "scoring_kaldi" / "wer_details" / "per_spk").read_text()
    assert "a " in per_spk and "b " in per_spk and "SUM" in per_spk


def test_per_utt_details(dirs):
    from asrkt.decode.score import align_words

    pairs, counts = align_words("ONE TWO THREE".split(), "ONE TWO TWO THREE".split())
    assert (counts.ins, counts.dels, counts.subs, counts.corr) == (1, 0, 0, 3)
    assert counts.wer_line() == "%WER 33.33 [ 1 / 3, 1 ins, 0 del, 0 sub ]"


def test_unknown_hypothesis_utterance(dirs):
    from asrkt.decode.score import score_decode_dir

    data, dec = dirs
    write(dec / "scoring" / "7.txt", "a-1 ONE\nzz-9 TWO\n")
    with pytest.raises(AsrktError, match="not in the reference text, e.g. 'zz-9'"):
        score_decode_dir(data, dec)


def test_no_hypotheses(dirs, tmp_path):
    from asrkt.decode.score import score_decode_dir

    data, _ = dirs
    (tmp_path / "empty" / "scoring").mkdir(parents=True)
    with pytest.raises(AsrktError, match="no <LMWT>.txt hypotheses"):
        score_decode_dir(data, tmp_path / "empty")
