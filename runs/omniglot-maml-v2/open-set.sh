#!/usr/bin/env bash
# "None of these" thresholds per number of classes (issues 28 and 31), chosen on val, then
# omniglot-maml v2's one test measurement at 5-way 5-shot (logged).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/open_set
for ways in 2 5 10 20; do
  episodes=300; [ "$ways" -ge 10 ] && episodes=150
  .venv/bin/python -m core.evaluate_open_set --model omniglot-maml --split val --ways "$ways" \
    --episodes "$episodes" --record >> "$out/val-omniglot-maml-v2-by-ways.jsonl"
done
for ways in 2 10 20; do
  .venv/bin/python -m core.evaluate_open_set --model omniglot-protonet --split val --ways "$ways" \
    --episodes 300 --record >> "$out/val-omniglot-protonet-by-ways.jsonl"
done
.venv/bin/python -m core.evaluate_open_set --model omniglot-maml --split test --episodes 600 \
  --log-test "issue 28: 'none of these' for omniglot-maml v2 (threshold chosen on val at 5-way 5-shot); first and only test measurement" \
  >> "$out/test-omniglot-maml-v2.jsonl"
