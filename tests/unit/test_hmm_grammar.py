"""ARPA validation before kaldilm, G.fst from ARPA, word-loop and one-word grammars."""

from __future__ import annotations

import math

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


def _accepts(fst_text: str, labels) -> bool:
    """Whether the OpenFst text acceptor (no epsilons) accepts the label sequence."""
    arcs, finals = {}, set()
    for line in fst_text.splitlines():
        f = line.split()
        if len(f) >= 4:
            arcs.setdefault((f[0], int(f[2])), set()).add(f[1])
        elif f:
            finals.add(f[0])
    states = {"0"}
    for label in labels:
        states = set().union(*(arcs.get((s, label), set()) for s in states))
    return bool(states & finals)


def test_one_word_grammar_accepts_exactly_one_word(lang, tmp_path):
    from asrkt.hmm.grammar import make_word_loop
    from asrkt.hmm.kaldi import read_fst

    x, y = lang.words["X"], lang.words["Y"]
    text = read_fst(make_word_loop(lang.path, tmp_path / "one", one_word=True)).to_str()
    assert _accepts(text, [x]) and _accepts(text, [y])
    for seq in ([], [x, x], [x, y], [lang.words["<SIL>"]]):
        assert not _accepts(text, seq), seq
    costs = [float(a.split()[4]) for a in text.splitlines() if len(a.split()) >= 5]
    assert costs == pytest.approx([math.log(2)] * 2)          # uniform over the two words
    loop = read_fst(make_word_loop(lang.path, tmp_path / "loop")).to_str()
    assert _accepts(loop, [x, y]) and _accepts(loop, [])     # the loop, for contrast
    text = read_fst(make_word_loop(lang.path, tmp_path / "one_x", ["Y"], one_word=True)).to_str()
    assert _accepts(text, [x]) and not _accepts(text, [y])


def test_make_word_loop_cli_one_word(lang, tmp_path):
    from click.testing import CliRunner

    from asrkt.cli.main import cli
    from asrkt.hmm.kaldi import read_fst

    result = CliRunner().invoke(cli, ["make-word-loop", "--one-word", str(lang.path),
                                      str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    text = read_fst(tmp_path / "one" / "G.fst").to_str()
    assert _accepts(text, [lang.words["X"]]) and not _accepts(text, [lang.words["X"]] * 2)
    assert "one_word: true" in (tmp_path / "one" / "grammar.yaml").read_text()
