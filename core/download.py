"""Download Omniglot and the Vinyals split files, for machines without ../shared/data.

    python -m core.download --root DIR/omniglot      # then run with FEWSHOT_DATA=DIR

Needs internet access; the app and the tests never call it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.data import OMNIGLOT_SPLITS, data_root

VINYALS_SPLITS_URL = (
    "https://raw.githubusercontent.com/jakesnell/prototypical-networks/master/"
    "data/omniglot/splits/vinyals/{split}.txt"
)


def download_omniglot(root: Path) -> Path:
    """Download Omniglot (torchvision) and the Vinyals split files into `root`.

    torchvision leaves root/omniglot-py/images_{background,evaluation}/, which
    _omniglot_sources reads like the extracted zips; the split files (from the Prototypical
    Networks repository, MIT) go to root/splits/vinyals/. Needs internet access; the app and
    the tests never call this. Returns `root`, ready for FEWSHOT_DATA=<root's parent>.
    """
    import urllib.request

    from torchvision.datasets import Omniglot

    root = Path(root)
    for background in (True, False):
        Omniglot(str(root), background=background, download=True)
    splits = root / "splits" / "vinyals"
    splits.mkdir(parents=True, exist_ok=True)
    for split in OMNIGLOT_SPLITS:
        target = splits / f"{split}.txt"
        if not target.exists():
            with urllib.request.urlopen(VINYALS_SPLITS_URL.format(split=split), timeout=60) as r:
                target.write_bytes(r.read())
    return root


def main(argv: list[str] | None = None) -> int:
    """python -m core.download --root DIR: fetch Omniglot where there is internet."""
    parser = argparse.ArgumentParser(prog="python -m core.download", description=main.__doc__)
    parser.add_argument("--root", type=Path, default=data_root() / "omniglot")
    args = parser.parse_args(argv)
    root = download_omniglot(args.root)
    print(f"Omniglot is in {root}; run with FEWSHOT_DATA={root.parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
