"""HCLG construction as Kaldi's utils/mkgraph.sh (self-loop scale 0.1).

LG = min(det*(L_disambig o G)); CLG = compose_context(LG) with the model tree's context width
and central position (1/0 for a monophone, 3/1 for a triphone tree: fstcomposecontext);
Ha = get_h_transducer(ilabels) with the tree (make-h-transducer);
HCLGa = min(rmeps(rmsymbols(det*(Ha o CLG)))) and HCLG = add_self_loops(HCLGa, scale 0.1,
reorder). Written to GRAPH_DIR/HCLG.fst with words.txt, phones.txt, disambig_tid.int and the
graph's options.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Union

from asrkt.errors import AsrktError
from asrkt.hmm.kaldi import kaldifst, khg, read_fst, write_fst
from asrkt.hmm.kaldi_model import check_model_lang
from asrkt.hmm.lang import Lang
from asrkt.hmm.model import GmmModel
from asrkt.utils.fileio import write_text_atomic

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.graph")


def remove_input_symbols(fst, symbols: Iterable[int]):
    """fstrmsymbols: replace the given input labels by epsilon (through the text form).

    Args:
        fst: a StdVectorFst.
        symbols: input labels to remove.

    Returns:
        A new StdVectorFst.
    """
    drop = {str(s) for s in symbols}
    lines = []
    for line in fst.to_str(show_weight_one=False).splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] in drop:
            fields[2] = "0"
        lines.append(" ".join(fields))
    return kaldifst.compile("\n".join(lines) + "\n")


def make_lg(lang: Lang):
    """min(det*(L_disambig o G)) with G from lang/G.fst.

    Args:
        lang: a lang dir with G.fst (format-lm or make-word-loop output).
    """
    lex = read_fst(lang.path / "L_disambig.fst")
    grammar = read_fst(lang.path / "G.fst")
    kaldifst.arcsort(lex, sort_type="olabel")
    kaldifst.arcsort(grammar, sort_type="ilabel")
    lg = kaldifst.compose(lex, grammar)
    if lg.num_states == 0:
        raise AsrktError(f"{lang.path}: L o G is empty (do G.fst's words match words.txt?)")
    if kaldifst.determinize_star(lg, use_log=True):
        raise AsrktError(f"{lang.path}: determinization of LG stopped early")
    kaldifst.minimize_encoded(lg)
    return lg


def make_graph(lang_dir: PathLike, model_dir: PathLike, graph_dir: PathLike,
               self_loop_scale: float = 0.1, transition_scale: float = 1.0) -> Path:
    """Build GRAPH_DIR/HCLG.fst for a model and a lang dir with G.fst (utils/mkgraph.sh).

    Args:
        lang_dir: lang dir with G.fst (e.g. data/lang_test).
        model_dir: model dir (final.npz) or a model file.
        graph_dir: output directory.
        self_loop_scale: scale on self-loop log-probs (Kaldi: 0.1).
        transition_scale: scale on other transition log-probs (Kaldi: 1.0).

    Returns:
        Path of HCLG.fst.
    """
    lang = Lang(lang_dir)
    model = GmmModel.load(model_dir)
    check_model_lang(model, lang, model_dir if Path(model_dir).is_dir() else Path(model_dir).parent)
    lg = make_lg(lang)
    clg, ilabels = kaldifst.compose_context(lang.disambig_phones, model.tree.context_width,
                                            model.tree.central_position, lg)
    kaldifst.arcsort(clg, sort_type="ilabel")
    ha, disambig_tids = khg.get_h_transducer(ilabels, model.tree, model.tm,
                                             khg.HTransducerConfig(transition_scale=transition_scale))
    hclga = kaldifst.compose(ha, clg)
    if kaldifst.determinize_star(hclga, use_log=True):
        raise AsrktError("determinization of HCLG stopped early")
    hclga = remove_input_symbols(hclga, disambig_tids)
    kaldifst.rmepsilon(hclga)
    kaldifst.minimize_encoded(hclga)
    hclg = khg.add_self_loops(self_loop_scale=self_loop_scale, disambig_syms=[], reorder=True,
                              trans_model=model.tm, ifst=hclga)
    kaldifst.arcsort(hclg, sort_type="ilabel")
    graph_dir = Path(graph_dir)
    graph_dir.mkdir(parents=True, exist_ok=True)
    write_fst(hclg, graph_dir / "HCLG.fst")
    for name in ("words.txt", "phones.txt"):
        write_text_atomic(graph_dir / name, (lang.path / name).read_text(encoding="utf-8"))
    write_text_atomic(graph_dir / "disambig_tid.int", "".join(f"{t}\n" for t in disambig_tids))
    write_text_atomic(graph_dir / "num_pdfs", f"{model.num_pdfs}\n")
    write_text_atomic(graph_dir / "num_transition_ids", f"{model.tm.num_transition_ids}\n")
    logger.info("HCLG: %d states, %d transition-ids; %s", hclg.num_states,
                model.tm.num_transition_ids, graph_dir / "HCLG.fst")
    return graph_dir / "HCLG.fst"
