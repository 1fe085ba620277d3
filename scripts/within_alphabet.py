"""Lake et al.'s one-shot task (lab.oneshot): 20-way, one drawing per character, every
character of a trial from one alphabet; both Omniglot models, beside humans' 95.5%.

    python -m scripts.within_alphabet --split val --trials 200
    python -m scripts.within_alphabet --split test --trials 400 --out F --log-test "why"

Prints one JSON line per model (and appends it to --out). On the test split, --log-test
appends each line to docs/results/test_log.jsonl, as every test-split number must be.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.cli import command_line, command_parser
from core.data import omniglot
from core.learner import load_model
from lab import oneshot

MODELS = ("omniglot-protonet", "omniglot-maml")


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("scripts.within_alphabet", __doc__)
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--ways", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--log-test", metavar="WHY")
    args = parser.parse_args(argv)
    if args.log_test is not None and args.split != "test":
        parser.error("--log-test logs test-split evaluations only")
    command = command_line("scripts.within_alphabet", argv)
    data = omniglot(args.split)
    for name in args.models:
        started = time.perf_counter()
        result = oneshot.score(load_model(name), data, args.ways, args.trials, args.seed)
        result |= {"split": args.split, "task": "within-alphabet one-shot", "command": command}
        result["wall_time_s"] = round(time.perf_counter() - started, 1)
        line = json.dumps(result)
        print(line, flush=True)
        if args.out:
            with args.out.open("a") as out:
                out.write(line + "\n")
        if args.log_test is not None:
            _log(result, args.log_test)
    return 0


def _log(result: dict, why: str) -> None:
    from core.testlog import TEST_LOG, append_test_log, log_entry

    shaped = result | {"dataset": "omniglot", "shots": 1, "queries": 1}
    shaped |= {"episodes": result["trials"], "inner_steps": None, "inner_lr_scale": None}
    shaped |= {"device": "cpu"}
    line = log_entry(shaped, why)
    line["settings"]["task"] = result["task"]
    line["source"] = "python -m scripts.within_alphabet --log-test"
    append_test_log(TEST_LOG, line)


if __name__ == "__main__":
    raise SystemExit(main())
