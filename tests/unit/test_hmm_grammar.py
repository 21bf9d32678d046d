"""ARPA validation before kaldilm, G.fst from ARPA, word-loop grammars."""

from __future__ import annotations

import pytest

from asrkt.errors import AsrktError
from tests.unit.test_hmm_lang import write_dict

BIGRAM = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-0.5\t<s>\t-0.3
-0.7\tX\t-0.2
-0.7\tY
-1.0\t</s>

\\2-grams:
-0.1\t<s> X
-0.2\tX Y

\\end\\
"""


@pytest.fixture
def lang(tmp_path):
    from asrkt.hmm.lang import prepare_lang

    return prepare_lang(write_dict(tmp_path / "d", "<SIL> SIL\nX A\nY B\n"), tmp_path / "lang")


def test_valid_arpa_counts(tmp_path):
    from asrkt.hmm.grammar import validate_arpa

    (tmp_path / "lm.arpa").write_text(BIGRAM)
    assert validate_arpa(tmp_path / "lm.arpa", {"X", "Y"}) == {1: 4, 2: 2}


@pytest.mark.parametrize("edit, message", [
    (("-0.7\tY\n", "-0.7x\tY\n"), r"lm.arpa:8: log-probability '-0.7x' is not a number"),
    (("ngram 2=2", "ngram 2=3"), r"\\2-grams: has 2 entries, the header says 3"),
    (("\\end\\\n", ""), r"expected '\\end\\'"),
    (("-0.2\tX Y\n", "-0.2\tY X Y X\n"), r"lm.arpa:13: a 2-gram line needs"),
    (("-0.2\tX Y\n", "-0.2\tZ Y\n"), r"history 'Z' of this 2-gram is not a 1-gram"),
    (("\\data\\\n", ""), r"no '\\data\\' section"),
    (("-0.7\tY\n", "-0.7\tW\n-0.7\tY\n"), None),
])
def test_arpa_errors(tmp_path, edit, message):
    from asrkt.hmm.grammar import validate_arpa

    text = BIGRAM.replace(*edit)
    if message is None:  # an extra unigram W: wrong count and W not in the vocabulary
        text = text.replace("ngram 1=4", "ngram 1=5")
        message = r"1 word\(s\) not in the lang dir's words.txt: W \(line 8\)"
    (tmp_path / "lm.arpa").write_text(text)
    with pytest.raises(AsrktError, match=message):
        validate_arpa(tmp_path / "lm.arpa", {"X", "Y"})


def test_format_lm_builds_g(lang, tmp_path):
    from asrkt.hmm.grammar import format_lm
    from asrkt.hmm.kaldi import read_fst

    (tmp_path / "lm.arpa").write_text(BIGRAM)
    path = format_lm(tmp_path / "lm.arpa", lang.path, tmp_path / "lang_test")
    g = read_fst(path)
    labels = {int(line.split()[2]) for line in g.to_str().splitlines() if len(line.split()) >= 4}
    assert lang.words["#0"] in labels and lang.words["X"] in labels and lang.words["Y"] in labels
    assert (tmp_path / "lang_test" / "L_disambig.fst").is_file()
    assert ((tmp_path / "lang_test" / "words.txt").read_text()
            == (lang.path / "words.txt").read_text())


def test_word_loop(lang, tmp_path):
    from asrkt.hmm.grammar import make_word_loop
    from asrkt.hmm.kaldi import read_fst

    loop = read_fst(make_word_loop(lang.path, tmp_path / "loop"))
    arcs = [line.split() for line in loop.to_str().splitlines()]
    words = sorted(int(a[2]) for a in arcs if len(a) >= 4)
    assert words == [lang.words["X"], lang.words["Y"]]        # no <SIL> (silence-only word)
    assert all(a[0] == a[1] == "0" for a in arcs if len(a) >= 4)
    loop = read_fst(make_word_loop(lang.path, tmp_path / "loop2", ["Y"]))
    arcs = [line.split() for line in loop.to_str().splitlines()]
    assert sorted(int(a[2]) for a in arcs if len(a) >= 4) == [lang.words["X"]]
