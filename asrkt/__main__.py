"""``python -m asrkt``: the asrkt command (what ``torchrun ... -m asrkt <command>`` runs)."""

from asrkt.cli.main import main

if __name__ == "__main__":
    main()
