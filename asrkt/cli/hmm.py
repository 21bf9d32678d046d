"""CLI commands for the HMM side: lang dirs, grammars, monophone GMM training, alignment,
graphs, decoding and scoring (Kaldi names; see the module docstring of asrkt.cli.main)."""

from __future__ import annotations

import click

from asrkt.decode.config import DecodeConfig, GraphConfig, HybridDecodeConfig
from asrkt.hmm.config import (
    AlignConfig,
    LangConfig,
    TrainDeltasConfig,
    TrainLdaMlltConfig,
    TrainMonoConfig,
    TreeConfig,
    WordLoopConfig,
)
from asrkt.utils.config import config_options

DIR = click.Path(exists=True, file_okay=False)
OUT_DIR = click.Path(file_okay=False)
_NJ = click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
                   help="Parallel jobs.")
def _echo_wer(data_dir, decode_dir) -> None:
    """Score DECODE_DIR against DATA_DIR's text and print the best WER line, as local/score.sh."""
    from asrkt.decode.score import score_decode_dir

    lmwt, line = score_decode_dir(data_dir, decode_dir)
    click.echo(f"{line} {decode_dir}/wer_{lmwt}")


_SKIP_SCORING = click.option("--skip-scoring", is_flag=True,
                             help="Do not score even if DATA_DIR has text.")


@click.command("prepare-lang")
@click.argument("dict_dir", type=DIR)
@click.argument("lang_dir", type=OUT_DIR)
@config_options(LangConfig)
def prepare_lang_cmd(dict_dir, lang_dir, config):
    """Make a lang dir from a dict dir (as utils/prepare_lang.sh).

    DICT_DIR holds lexicon.txt (or lexiconp.txt), silence_phones.txt, nonsilence_phones.txt and
    optional_silence.txt. LANG_DIR gets phones.txt, words.txt, topo (3-state phones, 5-state
    silence), L.fst, L_disambig.fst (#0, #1.. disambiguation), oov.txt and phones/.

    \b
    Usage:   asrkt prepare-lang [options] DICT_DIR LANG_DIR
    Example: asrkt prepare-lang --sil-prob 0.5 --oov-word '<SIL>' data/local/dict data/lang
    """
    from pathlib import Path

    from asrkt.hmm.lang import prepare_lang
    from asrkt.utils.config import save_config

    lang = prepare_lang(dict_dir, lang_dir, config.sil_prob, config.position_dependent_phones,
                        config.oov_word)
    save_config(config, Path(lang_dir) / "config.yaml")
    click.echo(f"{lang_dir}: {len(lang.phones)} phone symbols, {len(lang.words)} word symbols")


@click.command("format-lm")
@click.argument("arpa", type=click.Path(exists=True, dir_okay=False))
@click.argument("lang_dir", type=DIR)
@click.argument("out_dir", type=OUT_DIR)
def format_lm_cmd(arpa, lang_dir, out_dir):
    """Convert an ARPA LM to OUT_DIR/G.fst in a copy of LANG_DIR (utils/format_lm.sh).

    The ARPA file is checked first (sections, counts, numbers, histories, words in
    words.txt); kaldilm converts it with #0 on backoff arcs.

    \b
    Usage:   asrkt format-lm ARPA LANG_DIR OUT_DIR
    Example: asrkt format-lm data/local/lm/task.arpabo data/lang data/lang_test
    """
    from asrkt.hmm.grammar import format_lm

    click.echo(f"{format_lm(arpa, lang_dir, out_dir)}")


@click.command("make-word-loop")
@click.argument("lang_dir", type=DIR)
@click.argument("out_dir", type=OUT_DIR)
@click.option("--exclude", multiple=True, help="Word to leave out (repeatable); silence-only "
              "words and the OOV word are always left out.")
@config_options(WordLoopConfig)
def make_word_loop_cmd(lang_dir, out_dir, exclude, config):
    """Write OUT_DIR/G.fst accepting any word sequence (uniform), in a copy of LANG_DIR.

    For tasks without a language model (digits, yes/no). With --one-word it accepts exactly one
    word (isolated-word tasks such as Speech Commands); optional silence comes from L.fst.
    The resolved options are saved as OUT_DIR/grammar.yaml.

    \b
    Usage:   asrkt make-word-loop [options] [--exclude WORD] LANG_DIR OUT_DIR
    Example: asrkt make-word-loop data/lang data/lang_loop
    """
    from pathlib import Path

    from asrkt.hmm.grammar import make_word_loop
    from asrkt.utils.config import save_config

    path = make_word_loop(lang_dir, out_dir, exclude, one_word=config.one_word)
    save_config(config, Path(out_dir) / "grammar.yaml")
    click.echo(f"{path}")


def _dirs(*names: str):
    """click arguments for directories: every one must exist but the last (the output)."""
    def decorate(command):
        for i in reversed(range(len(names))):
            kind = OUT_DIR if i == len(names) - 1 else DIR
            command = click.argument(names[i], type=kind)(command)
        return command
    return decorate


def _train_gmm(exp_dir: str, name: str, train, config=None) -> None:
    """Run ``train()`` with log/<name>.log in EXP_DIR; print the model's size. With the
    ``config`` of a resumable trainer (train-deltas, train-lda-mllt), a run that continues an
    earlier run or finds its work done appends to that run's log rather than replacing it."""
    from pathlib import Path

    from asrkt.hmm.train_deltas import continues_earlier_run
    from asrkt.utils.logs import command_log

    append = config is not None and continues_earlier_run(exp_dir, config)
    with command_log(Path(exp_dir) / "log", name, append=append):
        model = train()
    click.echo(f"{exp_dir}/final.mdl: {model.num_pdfs} pdfs, {model.num_gauss} Gaussians")


@click.command("train-mono")
@click.argument("data_dir", type=DIR)
@click.argument("lang_dir", type=DIR)
@click.argument("exp_dir", type=OUT_DIR)
@config_options(TrainMonoConfig)
@_NJ
def train_mono_cmd(data_dir, lang_dir, exp_dir, config, nj):
    """Flat-start monophone GMM-HMM training (as steps/train_mono.sh).

    MFCC (or any features) + deltas with per-speaker CMN, global-mean init, equal alignment,
    40 passes with realignment on Kaldi's schedule and Gaussian splitting up to --totgauss.
    Writes EXP_DIR/final.mdl (Kaldi text), final.npz (exact reload), tree,
    feature_pipeline.yaml, config.yaml, ali.ark/scp and log/train-mono.log (per-pass
    likelihoods). Utterances that cannot be aligned are named in the log and left out.

    \b
    Usage:   asrkt train-mono [options] DATA_DIR LANG_DIR EXP_DIR
    Example: asrkt train-mono --totgauss 400 data/train data/lang exp/mono
    """
    from asrkt.hmm.train_mono import train_mono

    _train_gmm(exp_dir, "train-mono", lambda: train_mono(data_dir, lang_dir, exp_dir, config, nj))


@click.command("align")
@click.argument("data_dir", type=DIR)
@click.argument("lang_dir", type=DIR)
@click.argument("model_dir", type=DIR)
@click.argument("ali_dir", type=OUT_DIR)
@config_options(AlignConfig)
@_NJ
def align_cmd(data_dir, lang_dir, model_dir, ali_dir, config, nj):
    """Force-align a data dir with a trained model (as steps/align_si.sh).

    Writes ALI_DIR/ali.ark + ali.scp (transition-ids as Kaldi int vectors), ALI_DIR/pdf_counts
    (frames per pdf, Kaldi text vector, for priors) and copies of the model files.

    \b
    Usage:   asrkt align [options] DATA_DIR LANG_DIR MODEL_DIR ALI_DIR
    Example: asrkt align --nj 2 data/train data/lang exp/mono exp/mono_ali
    """
    from pathlib import Path

    from asrkt.hmm.align import align_data
    from asrkt.utils.logs import command_log

    with command_log(Path(ali_dir) / "log", "align"):
        done, failed = align_data(data_dir, lang_dir, model_dir, ali_dir, config,
                                  config.boost_silence, nj)
    click.echo(f"{ali_dir}/ali.scp: {done} utterance(s) aligned, {len(failed)} failed")


@click.command("build-tree")
@click.argument("data_dir", type=DIR)
@click.argument("lang_dir", type=DIR)
@click.argument("ali_dir", type=DIR)
@click.argument("exp_dir", type=OUT_DIR)
@config_options(TreeConfig)
def build_tree_cmd(data_dir, lang_dir, ali_dir, exp_dir, config):
    """Build a triphone decision tree from alignments (the tree stage of steps/train_deltas.sh).

    acc-tree-stats over ALI_DIR's alignments with the features its model sees (silence phones
    without context), cluster-phones on LANG_DIR/phones/sets.int plus extra_questions.int,
    compile-questions and build-tree (--num-leaves, --thresh, --cluster-thresh) with
    phones/roots.int. Writes EXP_DIR/tree (Kaldi's binary tree file), treeacc.npz,
    questions.int, config.yaml and log/build-tree.log.

    \b
    Usage:   asrkt build-tree [options] DATA_DIR LANG_DIR ALI_DIR EXP_DIR
    Example: asrkt build-tree --num-leaves 2000 data/train data/lang exp/mono_ali exp/tri1
    """
    from pathlib import Path

    from asrkt.hmm.tree_dir import make_tree_dir
    from asrkt.utils.logs import command_log

    with command_log(Path(exp_dir) / "log", "build-tree"):
        tree = make_tree_dir(data_dir, lang_dir, ali_dir, exp_dir, config)
    click.echo(f"{exp_dir}/tree: {tree.num_pdfs} leaves "
               f"({tree.summary['splits']} splits, {tree.summary.get('leaves_merged', 0)} "
               f"merged)")


@click.command("train-deltas")
@_dirs("data_dir", "lang_dir", "ali_dir", "exp_dir")
@config_options(TrainDeltasConfig)
@_NJ
def train_deltas_cmd(data_dir, lang_dir, ali_dir, exp_dir, config, nj):
    """Triphone GMM-HMM training on delta features (as steps/train_deltas.sh).

    A decision tree from ALI_DIR's monophone alignments (as build-tree, up to --num-leaves),
    one Gaussian per leaf from the tree statistics, the alignments converted to the new tree,
    then 34 passes with realignment on passes 10 20 30 and mixing up to --totgauss. Writes
    EXP_DIR/final.mdl (Kaldi text), final.npz, tree, feature_pipeline.yaml, config.yaml,
    ali.ark/scp, questions.int and log/train-deltas.log. A re-run with the same options
    continues after the last finished pass (or finds the model done) and appends to the log.

    \b
    Usage:   asrkt train-deltas [options] DATA_DIR LANG_DIR ALI_DIR EXP_DIR
    Example: asrkt train-deltas --num-leaves 2000 --totgauss 10000 data/train data/lang \\
                 exp/mono_ali exp/tri1
    """
    from asrkt.hmm.train_deltas import train_deltas

    _train_gmm(exp_dir, "train-deltas",
               lambda: train_deltas(data_dir, lang_dir, ali_dir, exp_dir, config, nj), config)


@click.command("train-lda-mllt")
@_dirs("data_dir", "lang_dir", "ali_dir", "exp_dir")
@config_options(TrainLdaMlltConfig)
@_NJ
def train_lda_mllt_cmd(data_dir, lang_dir, ali_dir, exp_dir, config, nj):
    """Triphone GMM-HMM training on LDA+MLLT features (as steps/train_lda_mllt.sh).

    Spliced features (+-3 frames, CMVN as ALI_DIR's model), LDA to --dim from ALI_DIR's
    alignments (silence frames weighted by --silence-weight), the tree and the model as
    train-deltas on the LDA features, 34 passes with realignment on --realign-iters and an MLLT
    update on --mllt-iters (means transformed, the MLLT composed into the transform). Writes
    EXP_DIR/final.mat (Kaldi binary matrix), feature_pipeline.yaml naming it, splice_opts,
    cmvn_opts and train-deltas' files; log/train-lda-mllt.log. A re-run with the same options
    continues after the last finished pass (or finds the model done) and appends to the log.

    \b
    Usage:   asrkt train-lda-mllt [options] DATA_DIR LANG_DIR ALI_DIR EXP_DIR
    Example: asrkt train-lda-mllt --num-leaves 2500 --totgauss 15000 data/train data/lang \\
                 exp/tri1_ali exp/tri2b
    """
    from asrkt.hmm.lda_mllt import train_lda_mllt

    _train_gmm(exp_dir, "train-lda-mllt",
               lambda: train_lda_mllt(data_dir, lang_dir, ali_dir, exp_dir, config, nj), config)


@click.command("ali-to-pdf")
@click.argument("model_dir", type=click.Path(exists=True))
@click.argument("ali_rspecifier")
@click.argument("out_ark", type=click.Path(dir_okay=False))
def ali_to_pdf_cmd(model_dir, ali_rspecifier, out_ark):
    """Convert transition-id alignments to pdf-ids per frame (Kaldi's ali-to-pdf).

    Writes OUT_ARK and the matching .scp (int32 vectors).

    \b
    Usage:   asrkt ali-to-pdf MODEL_DIR ALI_RSPECIFIER OUT_ARK
    Example: asrkt ali-to-pdf exp/mono_ali scp:exp/mono_ali/ali.scp exp/mono_ali/pdf.ark
    """
    from asrkt.hmm.align import write_pdf_alignments

    n = write_pdf_alignments(model_dir, ali_rspecifier, out_ark)
    click.echo(f"{out_ark}: {n} utterance(s)")


@click.command("copy-ali")
@click.argument("data_dir", type=DIR)
@click.argument("src_ali_dir", type=DIR)
@click.argument("dst_ali_dir", type=OUT_DIR)
def copy_ali_cmd(data_dir, src_ali_dir, dst_ali_dir):
    """Alignments of perturbed copies from their originals' (steps/copy_ali_dir.sh).

    Every utterance of DATA_DIR gets SRC_ALI_DIR's alignment of its original (DATA_DIR/utt2uniq;
    the utterance itself without it): the targets of noise copies (perturb-data-dir
    --noise-dir), whose frame count is the clean utterance's. DST_ALI_DIR gets ali.ark/.scp and
    pdf.ark/.scp (those SRC_ALI_DIR has), pdf_counts over the copied alignments and the model
    files, so train-teacher and finetune take it as they take align + ali-to-pdf output. An
    utterance whose original has no alignment is an error naming it.

    \b
    Usage:   asrkt copy-ali DATA_DIR SRC_ALI_DIR DST_ALI_DIR
    Example: asrkt copy-ali data/train_noise exp/mono_ali exp/mono_ali_noise
    """
    from asrkt.hmm.copy_ali import copy_ali_dir

    count = copy_ali_dir(data_dir, src_ali_dir, dst_ali_dir)
    click.echo(f"{dst_ali_dir}: alignments of {count} utterance(s) from {src_ali_dir}")


@click.command("ali-to-phones")
@click.argument("model_dir", type=click.Path(exists=True))
@click.argument("ali_rspecifier")
@click.argument("out_ark", type=click.Path(dir_okay=False))
@click.option("--per-frame", is_flag=True, help="One phone per frame instead of one per phone.")
def ali_to_phones_cmd(model_dir, ali_rspecifier, out_ark, per_frame):
    """Convert transition-id alignments to phone sequences (Kaldi's ali-to-phones).

    Writes OUT_ARK and the matching .scp (int32 vectors of phone ids, see phones.txt).

    \b
    Usage:   asrkt ali-to-phones [--per-frame] MODEL_DIR ALI_RSPECIFIER OUT_ARK
    Example: asrkt ali-to-phones exp/mono scp:exp/mono/ali.scp exp/mono/phones.ark
    """
    from asrkt.hmm.align import write_phone_alignments

    n = write_phone_alignments(model_dir, ali_rspecifier, out_ark, per_frame)
    click.echo(f"{out_ark}: {n} utterance(s)")


@click.command("make-graph")
@click.argument("lang_test_dir", type=DIR)
@click.argument("model_dir", type=DIR)
@click.argument("graph_dir", type=OUT_DIR)
@config_options(GraphConfig)
def make_graph_cmd(lang_test_dir, model_dir, graph_dir, config):
    """Compile GRAPH_DIR/HCLG.fst (as utils/mkgraph.sh), for a monophone or triphone model.

    LANG_TEST_DIR must hold G.fst (format-lm or make-word-loop).

    \b
    Usage:   asrkt make-graph [options] LANG_TEST_DIR MODEL_DIR GRAPH_DIR
    Example: asrkt make-graph data/lang_test exp/mono exp/mono/graph
    """
    from pathlib import Path

    from asrkt.decode.graph import make_graph
    from asrkt.utils.config import save_config
    from asrkt.utils.logs import command_log

    with command_log(Path(graph_dir) / "log", "make-graph"):
        path = make_graph(lang_test_dir, model_dir, graph_dir, config.self_loop_scale,
                          config.transition_scale)
        save_config(config, Path(graph_dir) / "config.yaml")
    click.echo(f"{path}")


@click.command("decode")
@click.argument("graph_dir", type=DIR)
@click.argument("data_dir", type=DIR)
@click.argument("model_dir", type=DIR)
@click.argument("decode_dir", type=OUT_DIR)
@config_options(DecodeConfig)
@_NJ
@_SKIP_SCORING
def decode_cmd(graph_dir, data_dir, model_dir, decode_dir, config, nj, skip_scoring):
    """Decode a data dir with a GMM (as steps/decode.sh), then score it.

    Features go through the model's saved feature pipeline. One LM weight (--min-lmwt equal to
    --max-lmwt) is one search at acoustic scale 1/LMWT. A range is searched once per utterance
    at --acoustic-scale into a raw lattice of graph and acoustic costs, and each LM weight's best
    path is taken from it (as lattice-scale --inv-acoustic-scale=LMWT + lattice-best-path).
    Hypotheses go to DECODE_DIR/scoring/<LMWT>.txt, and with DATA_DIR/text the WERs to
    DECODE_DIR/wer_<LMWT>.

    \b
    Usage:   asrkt decode [options] GRAPH_DIR DATA_DIR MODEL_DIR DECODE_DIR
    Example: asrkt decode --nj 2 exp/mono/graph data/test exp/mono exp/mono/decode_test
    """
    from pathlib import Path

    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import gmm_source, run_decode
    from asrkt.hmm.kaldi_model import model_pipeline
    from asrkt.hmm.model import GmmModel
    from asrkt.utils.logs import command_log

    data = DataDir(data_dir)
    with command_log(Path(decode_dir) / "log", "decode"):
        model = GmmModel.load(model_dir)
        source = gmm_source(model, data_dir, model_pipeline(model_dir, model))
        run_decode(graph_dir, model, data.utterances, source, decode_dir, config, nj)
        if not skip_scoring and data.has("text"):
            _echo_wer(data_dir, decode_dir)


@click.command("decode-nnet")
@click.argument("graph_dir", type=DIR)
@click.argument("loglikes_rspecifier")
@click.argument("model_dir", type=DIR)
@click.argument("decode_dir", type=OUT_DIR)
@config_options(DecodeConfig)
@_NJ
@click.option("--data-dir", type=DIR, help="Score against this data dir's text afterwards.")
def decode_nnet_cmd(graph_dir, loglikes_rspecifier, model_dir, decode_dir, config, nj, data_dir):
    """Decode per-frame pdf log-likelihoods from a neural net (hybrid NN-HMM decoding).

    LOGLIKES_RSPECIFIER is a matrix table (scp:/ark: or a .scp/.ark path), one [T, num_pdfs]
    matrix per utterance, e.g. log-posteriors minus log-priors (see read_pdf_counts). They are
    gathered to transition-ids and decoded through DecodableCtc with the same LM-weight sweep
    as `asrkt decode` (one lattice search per utterance for a range of weights).

    \b
    Usage:   asrkt decode-nnet [options] GRAPH_DIR LOGLIKES_RSPECIFIER MODEL_DIR DECODE_DIR
    Example: asrkt decode-nnet --data-dir data/test exp/mono/graph scp:exp/nnet/loglikes.scp \\
                 exp/mono exp/nnet/decode
    """
    from pathlib import Path

    from asrkt.decode.decoder import run_decode, table_keys, table_source
    from asrkt.hmm.model import GmmModel
    from asrkt.utils.logs import command_log

    with command_log(Path(decode_dir) / "log", "decode-nnet"):
        model = GmmModel.load(model_dir)
        utts = table_keys(loglikes_rspecifier)
        run_decode(graph_dir, model, utts, table_source(loglikes_rspecifier), decode_dir, config,
                   nj)
        if data_dir is not None:
            _echo_wer(data_dir, decode_dir)


@click.command("decode-hybrid")
@click.argument("graph_dir", type=DIR)
@click.argument("nnet", type=click.Path(exists=True))
@click.argument("data_dir", type=DIR)
@click.argument("model_dir", type=DIR)
@click.argument("decode_dir", type=OUT_DIR)
@config_options(HybridDecodeConfig)
@_NJ
@_SKIP_SCORING
@click.option("--also", "also", type=(click.Path(exists=True), DIR, OUT_DIR), multiple=True,
              metavar="NNET DATA_DIR DECODE_DIR",
              help="Decode another network / data dir into its own DECODE_DIR, in order, after "
                   "the first, through the same graph, model and options (repeatable): one "
                   "process, so the libraries load once.")
def decode_hybrid_cmd(graph_dir, nnet, data_dir, model_dir, decode_dir, config, nj,
                      skip_scoring, also):
    """Run a network over a data dir and decode its log-likelihoods, in one process.

    What `asrkt forward` + `asrkt decode-nnet` do, without the log-likelihood archive between
    them (as Kaldi's nnet3-latgen-faster against nnet-forward | latgen-faster-mapped): each
    decoding job computes log-posterior - S log-prior (--prior-scale S) of its utterances as
    `forward` does, bit for bit, and decodes them. NNET is a final.pt or its EXP_DIR; DATA_DIR
    holds the features it was trained on; MODEL_DIR is the GMM whose transition model the graph
    uses. Hypotheses and WERs as `asrkt decode`. Every --also triple is checked before the
    first decode and gets the same outputs and log (DECODE_DIR/log/decode-hybrid.log) as the
    first; a decode that fails stops the command, the ones before it being complete.

    \b
    Usage:   asrkt decode-hybrid [options] GRAPH_DIR NNET DATA_DIR MODEL_DIR DECODE_DIR
    Example: asrkt decode-hybrid --prior-scale 0.5 --acoustic-scale 0.1 exp/tri2/graph \\
                 exp/lstm_kt_ft data/fbank/test exp/tri2 exp/lstm_kt_ft/decode_test
    Several: asrkt decode-hybrid --prior-scale 0.5 --also exp/dnn data/fbank/test \\
                 exp/dnn/decode_test exp/tri2/graph exp/lstm data/fbank/test exp/tri2 \\
                 exp/lstm/decode_test
    """
    from pathlib import Path

    from asrkt.data.datadir import DataDir
    from asrkt.decode.decoder import run_decode
    from asrkt.errors import AsrktError
    from asrkt.hmm.model import GmmModel
    from asrkt.nnet.config import resolve_device
    from asrkt.nnet.inference import nnet_source
    from asrkt.utils.logs import command_log
    from asrkt.utils.parallel import limit_threads

    jobs = [(nnet, data_dir, decode_dir), *also]
    outs = [Path(d).resolve() for _, _, d in jobs]
    for i, out in enumerate(outs):
        if out in outs[:i]:
            raise AsrktError(f"decode-hybrid: {jobs[i][2]} is the DECODE_DIR of two decodes; "
                             f"give each network and data dir its own")
    datas = [DataDir(d) for _, d, _ in jobs]   # every data dir checked before the first decode
    device = config.device
    if nj > 1 and device == "auto":
        device = "cpu"   # the jobs are forked processes: no GPU context survives a fork
    elif nj > 1 and resolve_device(device).type != "cpu":
        raise AsrktError(f"--nj {nj} with --device {device}: the decoding jobs are forked "
                         f"processes, which a GPU context does not survive; use --nj 1")
    import torch  # noqa: F401  (loaded first, so that limit_threads limits its pool)

    # one thread (torch's pool too, now that it is loaded) before the models load, so no thread
    # pool exists when the jobs fork; --num-threads then applies inside each job
    limit_threads(1)
    model = GmmModel.load(model_dir)   # one transition model for every decode
    for (net, data_path, out), data in zip(jobs, datas):
        with command_log(Path(out) / "log", "decode-hybrid"):
            source = nnet_source(net, data_path, config.priors, config.prior_floor,
                                 config.prior_scale, device, config.num_threads)
            run_decode(graph_dir, model, data.utterances, source, out, config, nj)
            if not skip_scoring and data.has("text"):
                _echo_wer(data_path, out)


@click.command("score")
@click.argument("data_dir", type=DIR)
@click.argument("decode_dir", type=DIR)
def score_cmd(data_dir, decode_dir):
    """Word error rates of a decode dir (as local/score.sh with kaldialign).

    Writes DECODE_DIR/wer_<LMWT> ('%WER x.xx [ e / n, i ins, d del, s sub ]' and %SER),
    DECODE_DIR/scoring_kaldi/best_wer and, for the best LM weight,
    scoring_kaldi/wer_details/per_utt and per_spk. Prints the best line.

    \b
    Usage:   asrkt score DATA_DIR DECODE_DIR
    Example: asrkt score data/test exp/mono/decode_test
    """
    _echo_wer(data_dir, decode_dir)


COMMANDS = [prepare_lang_cmd, format_lm_cmd, make_word_loop_cmd, train_mono_cmd, align_cmd,
            build_tree_cmd, train_deltas_cmd, train_lda_mllt_cmd, ali_to_pdf_cmd, copy_ali_cmd,
            ali_to_phones_cmd, make_graph_cmd, decode_cmd, decode_nnet_cmd, decode_hybrid_cmd,
            score_cmd]
