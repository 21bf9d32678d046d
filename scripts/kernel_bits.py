"""MD5s of what torch's and numpy's CPU kernels compute in asrkt's steps: the MFCCs of the
first 60 FSDD recordings (torchaudio's Kaldi-compatible MFCC), 30 Adam steps of a 3-layer sigmoid
DNN and a BLSTMP's forward pass (torch); the GMM E-step's arithmetic on those MFCCs, float64 GEMM
(OpenBLAS) and exp/log (numpy's loops), as asrkt/hmm/train_mono.py does it (numpy). Run it
under two kernel settings (or on two machines) to see whether they give the same bits: README,
"Reproducibility across machines".

Usage: python scripts/kernel_bits.py [fsdd-dir]   (default ../shared/data/fsdd)
Prints: torch's CPU capability, the number of recordings, the MD5 of features + BLSTM outputs,
the MD5 of the DNN's parameters, the MD5 of the GMM arithmetic.
"""
# ruff: noqa: E402  (the thread counts and asrkt's pins must be set before numpy and torch load)

import os

# one thread everywhere: BLAS results also depend on how a product is split among threads, and
# machines differ in their cores
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import asrkt  # noqa: F401  (pins the kernels before torch loads, unless ASRKT_CPU_KERNELS=native)

# isort: split
import hashlib
import sys
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

warnings.filterwarnings("ignore", message="LSTM with projections")


def gmm_bits(feats: np.ndarray) -> str:
    """MD5 of a diagonal GMM's frame log-likelihoods and posteriors over ``feats`` (float64
    GEMMs, exp and log, the arithmetic of the GMM's E-step), and of float32 exp/log."""
    x = feats.astype(np.float64)
    rng = np.random.default_rng(0)
    means = x[rng.choice(len(x), 256, replace=False)]
    inv = 1.0 / np.maximum(x.var(axis=0), 1e-3)
    gconst = -0.5 * (np.sum(means * means * inv, axis=1) - np.sum(np.log(inv)))
    ll = gconst + x @ (means * inv).T - 0.5 * (x * x) @ np.tile(inv, (256, 1)).T
    peak = ll.max(axis=1, keepdims=True)
    post = np.exp(ll - peak)
    total = post.sum(axis=1, keepdims=True)
    h = hashlib.md5(post.tobytes())
    h.update((peak + np.log(total)).tobytes())
    h.update(post.T @ x)
    small = (ll - peak).astype(np.float32)
    h.update(np.exp(small).tobytes())
    h.update(np.log(np.exp(small) + 1.0).tobytes())
    return h.hexdigest()[:12]


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else
                Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd")
    files = sorted(root.rglob("*.wav"))[:60]
    if not files:
        print(f"kernel_bits.py: no .wav under {root}", file=sys.stderr)
        return 1
    h = hashlib.md5()
    mfccs = []
    for f in files:
        x, sr = sf.read(str(f), dtype="float32")
        m = torchaudio.compliance.kaldi.mfcc(torch.from_numpy(x)[None] * 32768,
                                             sample_frequency=sr, num_ceps=13, dither=0.0)
        h.update(m.numpy().tobytes())
        mfccs.append(m.numpy())
    torch.manual_seed(0)
    dnn = torch.nn.Sequential(torch.nn.Linear(440, 512), torch.nn.Sigmoid(),
                              torch.nn.Linear(512, 512), torch.nn.Sigmoid(),
                              torch.nn.Linear(512, 100))
    opt = torch.optim.Adam(dnn.parameters(), 1e-3)
    for _ in range(30):
        x, y = torch.randn(256, 440), torch.randint(0, 100, (256,))
        loss = torch.nn.functional.cross_entropy(dnn(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    blstm = torch.nn.LSTM(40, 128, 2, batch_first=True, proj_size=64, bidirectional=True)
    out, _ = blstm(torch.randn(8, 100, 40))
    h.update(out.detach().numpy().tobytes())
    p = hashlib.md5()
    for param in dnn.parameters():
        p.update(param.detach().numpy().tobytes())
    print(torch.backends.cpu.get_cpu_capability(), len(files), h.hexdigest()[:12],
          p.hexdigest()[:12], gmm_bits(np.concatenate(mfccs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
