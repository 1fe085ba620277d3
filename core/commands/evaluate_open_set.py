"""Choose and measure "none of these" (core.open_set) on Omniglot or a folder dataset.

    python -m core.evaluate_open_set --model omniglot-protonet --split val --record
    python -m core.evaluate_open_set --model omniglot-protonet --split test --log-test "why"

Episodes: N-way K-shot with Q queries per class, plus Q queries from each of U further
classes that have no support images (the unknown). On val the threshold is the one that
maximises Youden's J (the share of known queries kept minus the share of unknown kept);
--record writes it into the model card, for the --ways it was chosen at (card
"open_set.by_ways"): run it once per number of classes (2, 5, 10, 20), since the scores
move with N; the app applies the threshold of the nearest N chosen.
Both splits report the AUROC of known against unknown and, at the card's threshold, the
accuracy on known queries (a known query answered "none of these" counts as wrong) and the
share of unknown queries answered "none of these".
"""

from __future__ import annotations

import json
from dataclasses import asdict

from core.cli import command_line, command_parser
from core.evaluate_open_set import OpenSetConfig, log_test, measure, record_threshold

MODULE = "core.evaluate_open_set"


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(MODULE, __doc__)
    parser.add_argument("--model", required=True)
    for name, default in asdict(OpenSetConfig("")).items():
        if name != "model":
            flag = "--" + name.replace("_", "-")
            parser.add_argument(flag, type=type(default), default=default)
    parser.add_argument("--record", action="store_true", help="val only: write the threshold")
    parser.add_argument("--log-test", metavar="WHY", help="test only: log this evaluation")
    args = parser.parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k not in ("record", "log_test")}
    config = OpenSetConfig(**options)
    if args.record and config.split == "test":
        parser.error("--record chooses the threshold: only on val, never on test")
    if args.log_test is not None and config.split != "test":
        parser.error("--log-test logs test-split evaluations only")
    result = measure(config) | {"command": command_line(MODULE, argv)}
    print(json.dumps(result), flush=True)
    if args.record:
        record_threshold(config, result)
    if args.log_test is not None:
        log_test(result, args.log_test)
    return 0
