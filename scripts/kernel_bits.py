"""One MD5 of what torch's CPU kernels compute in asrkt's steps: the MFCCs of the first 60 FSDD
recordings (torchaudio's Kaldi-compatible MFCC), 30 Adam steps of a 3-layer sigmoid DNN and a
BLSTMP's forward pass. Run it under two kernel settings (or on two machines) to see whether they
give the same bits: README, "Reproducibility across machines".

Usage: python scripts/kernel_bits.py [fsdd-dir]   (default ../shared/data/fsdd)
Prints: torch's CPU capability, the number of recordings, the MD5 of features + BLSTM outputs,
the MD5 of the DNN's parameters.
"""

import asrkt  # noqa: F401  (pins the kernels before torch loads, unless ASRKT_CPU_KERNELS=native)

# isort: split
import hashlib
import sys
import warnings
from pathlib import Path

import soundfile as sf
import torch
import torchaudio

warnings.filterwarnings("ignore", message="LSTM with projections")


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else
                Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd")
    files = sorted(root.rglob("*.wav"))[:60]
    if not files:
        print(f"kernel_bits.py: no .wav under {root}", file=sys.stderr)
        return 1
    h = hashlib.md5()
    for f in files:
        x, sr = sf.read(str(f), dtype="float32")
        m = torchaudio.compliance.kaldi.mfcc(torch.from_numpy(x)[None] * 32768,
                                             sample_frequency=sr, num_ceps=13, dither=0.0)
        h.update(m.numpy().tobytes())
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
          p.hexdigest()[:12])
    return 0


if __name__ == "__main__":
    sys.exit(main())
