"""scripts/nnet1_anchor_table.py: ANCHOR_nnet1.md from decode dirs laid out as
recipes/speech_commands/local/nnet1_anchor.sh leaves them (GMM, asrkt teachers, Kaldi nnet1
with its newbob logs): each cell comes from its file, the best LM weight is the lowest %WER (the
lowest weight on ties), rejected epochs are not the kept model, missing systems are '-'."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import nnet1_anchor_table  # noqa: E402


def wer(d: Path, weights: dict) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for w, v in weights.items():
        errors = round(v * 554 / 100)
        (d / f"wer_{w}").write_text(f"%WER {v:.2f} [ {errors} / 554, 0 ins, 0 del, "
                                    f"{errors} sub ]\n")


def kaldi_epoch(k: Path, it: int, lr: str, cv_loss: float, cv_acc: float, kept: bool) -> None:
    (k / "log").mkdir(parents=True, exist_ok=True)
    (k / "nnet").mkdir(exist_ok=True)
    (k / "log" / f"iter{it:02d}.tr.log").write_text(
        f"# nnet-train-frmshuff --minibatch-size=256 --randomizer-seed=777 --learn-rate={lr} "
        f"--momentum=0 x\nLOG (nnet-train-frmshuff[5.5]:main()) AvgLoss: 1.5 (Xent)\n"
        f"FRAME_ACCURACY >> 50.0% <<\n")
    (k / "log" / f"iter{it:02d}.cv.log").write_text(
        f"LOG (nnet-train-frmshuff[5.5]:main()) AvgLoss: {cv_loss} (Xent)\n"
        f"FRAME_ACCURACY >> {cv_acc}% <<\n")
    name = f"nnet_iter{it:02d}_learnrate{lr}_tr1.5_cv{cv_loss}" + ("" if kept else "_rejected")
    (k / "nnet" / name).write_text("")


@pytest.fixture
def exp(tmp_path):
    e = tmp_path / "exp" / "full"
    wer(e / "mono" / "decode_dev", {12: 11.91})
    wer(e / "mono" / "decode_dev_sweep", {w: 11.91 if w % 2 else 11.73 for w in range(4, 16)})
    t = e / "seed1" / "dnn_rand"
    wer(t / "decode_dev", {10: 15.16})
    wer(t / "decode_dev_sweep", {w: 15.0 - 0.1 * (w == 8) for w in range(4, 16)})
    wer(t / "decode_dev_ps0.5_sweep", {w: 11.0 + 0.1 * (w != 4) for w in range(4, 16)})
    (t / "train.jsonl").write_text("\n".join(json.dumps(h) for h in (
        {"epoch": 1, "cv_acc": 0.5, "accepted": True},
        {"epoch": 2, "cv_acc": 0.6, "accepted": True},
        {"epoch": 3, "cv_acc": 0.55, "accepted": False})) + "\n")
    (t / "config.yaml").write_text("num_layers: 3\nhidden_dim: 512\nsplice: 5\noptimizer: adam\n"
                                   "learning_rate: 0.001\nbatch_size: 256\nmax_epochs: 20\n")
    k = e / "nnet1" / "rand"
    wer(k / "decode_dev", {w: 13.72 - 0.36 * (w in (8, 12)) for w in range(4, 16)})
    wer(k / "decode_dev_asrkt", {10: 13.72})
    (k / "nnet.proto").write_text("<NnetProto>\n<AffineTransform> <InputDim> 440 <OutputDim> 512\n"
                                  "<Sigmoid> <InputDim> 512 <OutputDim> 512\n"
                                  "<Sigmoid> <InputDim> 512 <OutputDim> 512\n</NnetProto>\n")
    kaldi_epoch(k, 1, "0.008", 1.6, 49.0, True)
    kaldi_epoch(k, 2, "0.008", 1.7, 48.0, False)
    kaldi_epoch(k, 3, "0.004", 1.4, 58.25, True)
    return e


def row(text: str, name: str, last: bool = False) -> list:
    lines = [ln for ln in text.splitlines() if ln.startswith(f"| {name} ")]
    return [c.strip() for c in lines[-1 if last else 0].strip("|").split("|")]


def test_cells_come_from_the_decode_dirs(exp, tmp_path):
    out = tmp_path / "ANCHOR.md"
    assert nnet1_anchor_table.main(["--exp", str(exp), "--command", "cmd", "--out", str(out),
                                    "--prior-scales", "0.5"]) == 0
    text = out.read_text()
    assert row(text, "monophone GMM")[3:5] == ["11.91", "11.73 (LMWT 4)"]
    assert row(text, "dnn_rand (seed 1)")[3:] == ["15.16", "14.90 (LMWT 8)", "60.00", "3 (2)"]
    # Kaldi: the best of two tied weights is the lower; the kept model is the last accepted
    assert row(text, "nnet1_rand")[3:] == ["13.72", "13.36 (LMWT 8)", "58.25", "3 (2)"]
    assert row(text, "nnet1_dbn")[3:] == ["-", "-", "-", "- (0)"]
    assert "nnet1_rand 13.72 (Kaldi) / 13.72 (asrkt)" in text
    # the prior-scale table reads the sweeps (S = 1.0: decode_dev_sweep, not decode_dev)
    assert row(text, "dnn_rand", last=True)[1:] == ["15.00 / 14.90 (LMWT 8)",
                                                    "11.10 / 11.00 (LMWT 4)"]
    assert "learn rate 0.008 -> 0.004 (newbob)" in text and "3 epochs" in text
    assert "3 x 512 sigmoid hidden layers" in text and "2 x 512 sigmoid, softmax" in text


def test_lstm_rows_with_kaldi_systems_lstm(exp, tmp_path):
    """--kaldi-systems with lstm: nnet1_lstm (LstmProjected, target delay, multistream) next to
    asrkt's lstm_ce; without it neither appears (the tables made before stay as they were)."""
    t = exp / "seed1" / "lstm_ce"
    wer(t / "decode_dev", {10: 14.26})
    wer(t / "decode_dev_sweep", {w: 14.26 + 0.18 * (w > 9) for w in range(4, 16)})
    wer(t / "decode_dev_ps0.5_sweep", {w: 13.72 for w in range(4, 16)})
    (t / "train.jsonl").write_text(json.dumps({"epoch": 1, "cv_acc": 0.6842}) + "\n")
    (t / "config.yaml").write_text("model: lstm\nnum_layers: 2\nhidden_dim: 256\nproj_dim: 128\n"
                                   "splice: 0\ntarget_delay: 5\noptimizer: adam\n"
                                   "learning_rate: 0.001\ngrad_clip: 5.0\nnum_streams: 16\n"
                                   "chunk_len: 20\nmax_epochs: 20\n")
    (t / "log").mkdir()
    (t / "log" / "finetune.log").write_text("CV set: 263 utterances held out of 2630\n")
    k = exp / "nnet1" / "lstm"
    wer(k / "decode_dev", {w: 12.0 + 0.18 * (w == 4) for w in range(4, 16)})
    wer(k / "decode_dev_ps0.5", {w: 11.55 for w in range(4, 16)})
    (k / "nnet.proto").write_text(
        "<NnetProto>\n<LstmProjected> <InputDim> 40 <OutputDim> 128 <CellDim> 256\n"
        "<LstmProjected> <InputDim> 128 <OutputDim> 128 <CellDim> 256\n"
        "<Tanh> <InputDim> 128 <OutputDim> 128\n</NnetProto>\n")
    (k / "delay5.proto").write_text("<Splice> <InputDim> 40 <OutputDim> 40 <BuildVector> 5 "
                                    "</BuildVector>\n")
    kaldi_epoch(k, 1, "0.0001", 1.2, 66.5, True)
    first = k / "log" / "iter01.tr.log"
    first.write_text(first.read_text().replace(
        "nnet-train-frmshuff --minibatch-size=256 --randomizer-seed=777",
        "nnet-train-multistream --num-streams=16 --batch-size=20").replace(
        "--momentum=0", "--momentum=0.9"))
    out = tmp_path / "ANCHOR.md"
    common = ["--exp", str(exp), "--command", "cmd", "--out", str(out), "--prior-scales", "0.5"]
    assert nnet1_anchor_table.main(common) == 0
    assert "nnet1_lstm" not in out.read_text() and "lstm_ce" not in out.read_text()
    assert nnet1_anchor_table.main(common + ["--kaldi-systems", "rand dbn lstm"]) == 0
    text = out.read_text()
    assert row(text, "lstm_ce (seed 1)")[2:] == ["random init (LSTM)", "14.26", "14.26 (LMWT 4)",
                                                 "68.42", "1 (1)"]
    assert row(text, "nnet1_lstm")[3:] == ["12.00", "12.00 (LMWT 5)", "66.50", "1 (1)"]
    assert row(text, "nnet1_lstm", last=True)[1:] == ["12.00 / 12.00 (LMWT 5)",
                                                      "11.55 / 11.55 (LMWT 4)"]
    assert row(text, "lstm_ce", last=True)[1:] == ["14.44 / 14.26 (LMWT 4)",
                                                   "13.72 / 13.72 (LMWT 4)"]
    assert ("- asrkt lstm_ce: 2 x LSTM (cell 256, projection 128), target delay 5, splice +-0, "
            "adam learning rate 0.001, gradient clip 5.0, 16 streams x 20 frames") in text
    assert "CV 263 utterances held out." in text
    assert ("- Kaldi nnet1_lstm: 2 x LstmProjected (cell 256, projection 128) + Tanh, softmax; "
            "target delay 5 (<Splice> of one offset, no splicing) + global CMVN") in text
    assert ("momentum 0.9, nnet-train-multistream 16 streams x 20 frames (truncated BPTT); "
            "1 epochs") in text
    with pytest.raises(SystemExit):
        nnet1_anchor_table.main(common + ["--kaldi-systems", "rand gru"])


def test_speechocean762_layout_gmms_sweep_dirs_and_lmwt_range(exp, tmp_path):
    """recipes/speechocean762/local/nnet1_anchor.sh's options: several GMM rows from their own
    dirs (--gmms), the asrkt systems' and GMMs' sweep in decode_<set> itself (--asrkt-sweep),
    the LM weights 7..17 (--min-lmwt/--max-lmwt: the per-weight table and the 'best' cells keep
    weights in that range only), the GMMs' fixed weight (--gmm-lmwt) and the text (--about)."""
    root = tmp_path / "so"
    wer(root / "exp" / "mono" / "decode_dev", {w: 65.0 - 0.1 * (w == 10) for w in range(7, 18)})
    wer(root / "exp" / "tri2" / "decode_dev", {w: 60.0 - 0.1 * w for w in range(7, 18)})
    t = exp / "seed1" / "dnn_rand"
    wer(t / "decode_dev", {w: 59.23 + 0.1 * (w != 10) for w in range(7, 18)})
    wer(t / "decode_dev_ps0.5_sweep", {w: 57.0 + 0.1 * (w != 12) for w in range(7, 18)})
    k = exp / "nnet1" / "rand"
    wer(k / "decode_dev", {w: 50.0 + 0.1 * (w != 16) for w in range(4, 18)})
    out = tmp_path / "ANCHOR.md"
    assert nnet1_anchor_table.main([
        "--exp", str(exp), "--command", "cmd", "--out", str(out), "--prior-scales", "0.5",
        "--gmms", f"mono={root / 'exp' / 'mono'} tri2={root / 'exp' / 'tri2'}",
        "--asrkt-sweep", "decode_{set}", "--min-lmwt", "7", "--max-lmwt", "17",
        "--gmm-lmwt", "10", "--about", "Senone targets."]) == 0
    text = out.read_text()
    assert "monophone GMM" not in text and text.count("Senone targets. `fixed`") == 1
    assert row(text, "mono GMM")[2:5] == ["flat start", "64.90", "64.90 (LMWT 10)"]
    assert row(text, "tri2 GMM")[3:5] == ["59.00", "58.30 (LMWT 17)"]
    assert row(text, "dnn_rand (seed 1)")[3:5] == ["59.23", "59.23 (LMWT 10)"]
    assert row(text, "nnet1_rand")[3:5] == ["50.10", "50.00 (LMWT 16)"]
    assert "| system | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 | 16 | 17 |" in text
    assert row(text, "tri2", last=True)[1] == "59.30" and row(text, "mono", last=True)[4] == "64.90"
    assert "best over LMWT 7..17" in text
    assert row(text, "dnn_rand", last=True)[1:] == ["59.23 / 59.23 (LMWT 10)",
                                                    "57.10 / 57.00 (LMWT 12)"]
    with pytest.raises(SystemExit):
        nnet1_anchor_table.main(["--exp", str(exp), "--command", "c", "--out", str(out),
                                 "--gmms", "tri2"])
