"""prepare-lang: symbol tables, topology, lexicon FSTs with disambiguation, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from asrkt.errors import AsrktError


def write_dict(path: Path, lexicon: str, nonsil: str = "A\nB\nC\n") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "lexicon.txt").write_text(lexicon)
    (path / "silence_phones.txt").write_text("SIL\n")
    (path / "optional_silence.txt").write_text("SIL\n")
    (path / "nonsilence_phones.txt").write_text(nonsil)
    return path


def fst_arcs(path: Path):
    from asrkt.hmm.kaldi import read_fst

    return [line.split() for line in read_fst(path).to_str().splitlines() if len(line.split()) >= 4]


def test_symbols_topology_and_sets(tmp_path):
    from asrkt.hmm.lang import prepare_lang

    lang = prepare_lang(write_dict(tmp_path / "d", "<SIL> SIL\nX A B\nY C\n"), tmp_path / "lang")
    assert lang.phones == {"<eps>": 0, "SIL": 1, "A": 2, "B": 3, "C": 4, "#0": 5, "#1": 6}
    assert lang.words == {"<eps>": 0, "<SIL>": 1, "X": 2, "Y": 3, "#0": 4, "<s>": 5, "</s>": 6}
    from asrkt.hmm.kaldi import khg

    topo = khg.HmmTopology()
    topo.read(lang.topo_text)
    assert topo.phones == [1, 2, 3, 4]
    assert topo.num_pdf_classes(1) == 5 and topo.num_pdf_classes(2) == 3
    assert lang.phone_sets == [[1], [2], [3], [4]]
    assert (tmp_path / "lang" / "phones" / "optional_silence.csl").read_text() == "1\n"


def test_disambiguation_symbols_for_homophones_and_prefixes(tmp_path):
    from asrkt.hmm.lang import prepare_lang

    lex = "<SIL> SIL\nAB A B\nABC A B C\nBEE B\nBE B\n"
    lang = prepare_lang(write_dict(tmp_path / "d", lex), tmp_path / "lang")
    prons = (tmp_path / "lang" / "lexiconp_disambig.txt").read_text().splitlines()
    assert "AB 1 A B #1" in prons            # prefix of ABC
    assert "ABC 1 A B C" in prons
    assert "BEE 1 B #1" in prons and "BE 1 B #2" in prons   # homophones
    assert [p for p in lang.phones if p.startswith("#")] == ["#0", "#1", "#2", "#3"]
    arcs = fst_arcs(tmp_path / "lang" / "L_disambig.fst")
    ilabels = {int(a[2]) for a in arcs}
    assert lang.phones["#1"] in ilabels and lang.phones["#2"] in ilabels
    # the #0 self-loop (phone #0 : word #0) for the grammar's backoff arcs
    assert any(a[0] == a[1] and int(a[2]) == lang.phones["#0"] and int(a[3]) == lang.words["#0"]
               for a in arcs)
    assert not any(int(a[2]) >= lang.phones["#0"] for a in fst_arcs(tmp_path / "lang" / "L.fst"))


def test_silence_probability_on_lexicon_arcs(tmp_path):
    import math

    from asrkt.hmm.lang import prepare_lang

    prepare_lang(write_dict(tmp_path / "d", "<SIL> SIL\nX A\n"), tmp_path / "lang", sil_prob=0.2)
    weights = sorted({round(float(a[4]), 3) for a in fst_arcs(tmp_path / "lang" / "L.fst")
                      if len(a) == 5})
    assert round(-math.log(0.2), 3) in weights and round(-math.log(0.8), 3) in weights


def test_position_dependent_phones(tmp_path):
    from asrkt.hmm.lang import prepare_lang

    lang = prepare_lang(write_dict(tmp_path / "d", "<SIL> SIL\nX A B C\nY C\n"), tmp_path / "lang",
                        position_dependent=True)
    assert ("A_B" in lang.phones and "B_I" in lang.phones and "C_E" in lang.phones
            and "C_S" in lang.phones)
    assert "SIL" in lang.phones and "SIL_B" in lang.phones
    assert lang.base_phone(lang.phones["B_I"]) == "B"
    assert len(lang.phone_sets) == 4 and len(lang.phone_sets[0]) == 5
    assert "X 1 A_B B_I C_E" in (tmp_path / "lang" / "lexiconp.txt").read_text()


@pytest.mark.parametrize("lexicon, nonsil, message", [
    ("<SIL> SIL\nX A Q\n", "A\n", "lexicon.txt:2 (X): phone(s) Q not in"),
    ("<SIL> SIL\nX\n", "A\n", "lexicon.txt:2 (X): empty pronunciation"),
    ("<SIL> SIL\n#0 A\n", "A\n", "reserved word"),
    ("<SIL> SIL\nX A\n", "A\nSIL\n", "also listed in"),
])
def test_bad_dict_dirs(tmp_path, lexicon, nonsil, message):
    from asrkt.hmm.lang import prepare_lang

    with pytest.raises(AsrktError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare_lang(write_dict(tmp_path / "d", lexicon, nonsil), tmp_path / "lang")


def test_oov_mapping(tmp_path):
    from asrkt.hmm.lang import prepare_lang

    d = write_dict(tmp_path / "d", "<SIL> SIL\n<UNK> SIL\nX A\n")
    strict = prepare_lang(d, tmp_path / "strict")
    with pytest.raises(AsrktError, match="2 word\\(s\\) not in .*FOO \\(first in u1\\), BAR"):
        strict.map_transcripts({"u1": ["X", "FOO"], "u2": ["BAR"]}, "text")
    mapped = prepare_lang(d, tmp_path / "mapped", oov_word="<UNK>")
    ids = mapped.map_transcripts({"u1": ["X", "FOO"]}, "text")
    assert ids == {"u1": [mapped.words["X"], mapped.words["<UNK>"]]}
    with pytest.raises(AsrktError, match="--oov-word 'NOPE' is not in"):
        prepare_lang(d, tmp_path / "bad", oov_word="NOPE")
