"""Evaluate a model on N-way K-shot episodes: mean accuracy and 95% confidence interval.

    python -m core.evaluate --model omniglot-protonet --dataset omniglot --split test \\
        --ways 5 --shots 1 --queries 15 --episodes 1000 --seed 0 --json

The interval is 1.96 * std / sqrt(episodes) over per-episode accuracies (the protocol of
Snell et al. and Finn et al.). Fixed seed -> the same episodes every time.

A folder dataset is checked first (every file decoded once): unusable files are left out of
the episodes and listed, with the reason, under "rejected" in the result.

The test split is for reporting: `--split test --log-test WHY` appends the result, the
weights' hash, the commit and the full command, with WHY, to docs/results/test_log.jsonl
(`--test-log PATH` chooses another file), so every look at the test split stays on record.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.cli import command_line, command_parser, input_error
from core.data import DatasetMissing
from core.evaluate import EvalConfig, evaluate
from core.images import ImageRejected
from core.testlog import TEST_LOG, append_test_log, log_entry

MODULE = "core.evaluate"


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(MODULE, __doc__)
    parser.add_argument("--model", required=True, help="a name from assets/models")
    parser.add_argument(
        "--dataset",
        default="omniglot",
        help="omniglot, miniimagenet, or a folder of class subfolders",
    )
    parser.add_argument("--split", default="test")
    for name, default in (
        ("ways", 5),
        ("shots", 1),
        ("queries", 15),
        ("episodes", 1000),
        ("seed", 0),
    ):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument(
        "--inner-steps",
        type=int,
        default=None,
        help="MAML test-time inner steps (default: the model card's)",
    )
    parser.add_argument(
        "--inner-lr-scale",
        type=float,
        default=None,
        help="MAML: multiply the learned inner step sizes (default 1)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="folder datasets: only each class's first N images (0: all), e.g. cached features",
    )
    parser.add_argument(
        "--classes",
        type=int,
        default=0,
        help="only N of the split's classes, the same fixed draw for every model (0: all)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument(
        "--log-test",
        metavar="WHY",
        default=None,
        help="with --split test: append the result and WHY to the test log",
    )
    parser.add_argument(
        "--test-log",
        metavar="PATH",
        type=Path,
        default=TEST_LOG,
        help="the file --log-test appends to (default: docs/results/test_log.jsonl)",
    )
    args = parser.parse_args(argv)
    if args.log_test is not None and args.split != "test":
        parser.error(f"--log-test records test-split evaluations; got --split {args.split}")
    if args.log_test is not None and not args.log_test.strip():
        parser.error("--log-test needs a reason (WHY), got an empty one")
    flags = vars(args)
    as_json = flags.pop("json")
    why, log_path = flags.pop("log_test"), flags.pop("test_log")
    config = EvalConfig(**flags)
    try:
        result = evaluate(config, progress=True)
    except (DatasetMissing, ValueError, ImageRejected) as error:
        return input_error(error)
    result["command"] = command_line(MODULE, argv)
    if why is not None:
        append_test_log(log_path, log_entry(result, why))
    if as_json:
        print(json.dumps(result))
    else:
        print(
            f"{result['model']} on {result['dataset']}/{result['split']} "
            f"{config.ways}-way {config.shots}-shot: {result['accuracy']:.2f} "
            f"+- {result['ci95']:.2f}% ({config.episodes} episodes)"
        )
        for item in result.get("rejected", []):
            print(f"skipped {item['file']}: {item['reason']}", file=sys.stderr)
    return 0
