#!/usr/bin/env bash
# "None of these" for omniglot-protonet v2 and omniglot-maml v5 (issue 28). Both trained on val,
# so their thresholds are chosen on val with their held-out twins (the same recipes on train
# alone: runs/omniglot-protonet-cpu at step 3,000, runs/omniglot-maml-v5-heldout), per number of
# classes, then copied into the shipped cards (scripts.copy_open_set); then one test
# measurement of each at 5-way 5-shot (logged).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/open_set
for pair in "omniglot-protonet runs/omniglot-protonet-cpu/out protonet-v2" \
            "omniglot-maml runs/omniglot-maml-v5-heldout/out maml-v5"; do
  set -- $pair
  for ways in 2 5 10 20; do
    FEWSHOT_MODELS="$2" .venv/bin/python -m core.evaluate_open_set --model "$1" --split val \
      --ways "$ways" --episodes 300 --record >> "$out/val-omniglot-$3-twin-by-ways.jsonl"
  done
  .venv/bin/python -m scripts.copy_open_set --name "$1" --source "$2"
  .venv/bin/python -m core.evaluate_open_set --model "$1" --split test --episodes 600 \
    --log-test "issue 28: 'none of these' for omniglot-$3 (thresholds chosen on val per number of classes with its held-out twin); first and only test measurement" \
    >> "$out/test-omniglot-$3.jsonl"
done
