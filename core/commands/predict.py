"""Classify a folder of query images from a support folder of class subfolders.

    python -m core.predict --model omniglot-protonet --support support/ --query queries/ --json

support/<class name>/<images>: the classes to learn; query/: images to classify (subfolders
are searched too). Files that cannot be used are listed with the reason and skipped; the
rest are still classified. Exit status 0 on success, 2 when the input cannot be used (a
class without any valid image, fewer than two classes, an unknown model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.checkpoints import CheckpointError
from core.cli import command_parser, input_error
from core.files import atomic_write_bytes
from core.predict import predict
from core.rows import to_csv

MODULE = "core.predict"


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(MODULE, __doc__)
    parser.add_argument("--model", required=True, help="a name from assets/models")
    parser.add_argument("--support", required=True, type=Path, help="folder of class subfolders")
    parser.add_argument("--query", required=True, type=Path, help="folder (or file) to classify")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--csv",
        type=Path,
        help="also write one row per image here (- for standard output): file, predicted, "
        "probability, p(<class>)..., distance(<class>)... for ProtoNet",
    )
    args = parser.parse_args(argv)
    try:
        result = predict(args.model, args.support, args.query, progress=not args.json)
    except (ValueError, CheckpointError) as error:
        return input_error(error)
    if args.csv is not None:
        text = to_csv(result["rows"])
        if str(args.csv) == "-":
            sys.stdout.write(text)
        else:
            atomic_write_bytes(args.csv, text.encode("utf-8"))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, ensure_ascii=False))
        return 0
    if str(args.csv) != "-":  # standard output holds the CSV, not these lines
        for item in result["predictions"]:
            p = item["probabilities"][item["predicted"]]
            print(f"{item['file']}: {item['predicted']} ({p:.0%})")
    for item in result["rejected"]:
        print(f"skipped {item['file']}: {item['reason']}", file=sys.stderr)
    return 0
