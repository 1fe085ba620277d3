"""Download Omniglot and the Vinyals split files, for machines without ../shared/data.

    python -m core.download --root DIR/omniglot      # then run with FEWSHOT_DATA=DIR

Needs internet access; the app and the tests never call it (core.data.download_omniglot).
"""

from __future__ import annotations

from pathlib import Path

from core.cli import command_parser
from core.data import data_root, download_omniglot

MODULE = "core.download"


def main(argv: list[str] | None = None) -> int:
    """python -m core.download --root DIR: fetch Omniglot where there is internet."""
    parser = command_parser(MODULE, __doc__)
    parser.add_argument("--root", type=Path, default=data_root() / "omniglot")
    args = parser.parse_args(argv)
    root = download_omniglot(args.root)
    print(f"Omniglot is in {root}; run with FEWSHOT_DATA={root.parent}")
    return 0
