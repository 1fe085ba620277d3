#!/usr/bin/env bash
# "None of these" thresholds per number of classes for omniglot-maml v4, chosen on val
# (--record writes them into the card), then its one test measurement at 5-way 5-shot (logged).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/open_set
for ways in 2 5 10 20; do
  .venv/bin/python -m core.evaluate_open_set --model omniglot-maml --split val --ways "$ways" \
    --episodes 300 --record >> "$out/val-omniglot-maml-v4-by-ways.jsonl"
done
.venv/bin/python -m core.evaluate_open_set --model omniglot-maml --split test --episodes 600 \
  --log-test "issue 28: 'none of these' for omniglot-maml v4 (thresholds chosen on val per number of classes); first and only test measurement" \
  >> "$out/test-omniglot-maml-v4.jsonl"
