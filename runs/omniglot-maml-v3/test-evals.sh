#!/usr/bin/env bash
# omniglot-maml v3's test evaluations (issue 28), each read once and logged.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/maml-v3/eval-test.jsonl
why="issue 28: omniglot-maml v3 (MAML from omniglot-protonet, classifier-only inner loop, 10 steps; checkpoint chosen on val); first and only test evaluation of this checkpoint"
for setting in "5 1" "5 5" "20 1" "20 5"; do
  set -- $setting
  .venv/bin/python -m core.evaluate --model omniglot-maml --dataset omniglot --split test \
    --ways "$1" --shots "$2" --queries 15 --episodes 600 --seed 0 --json --log-test "$why" >> "$out"
done
.venv/bin/python -m scripts.within_alphabet --split test --trials 400 \
  --out docs/results/maml-v3/within-alphabet-test.jsonl \
  --log-test "issue 28: within-alphabet 20-way one-shot (Lake et al.), omniglot-protonet and omniglot-maml v3; first and only test evaluation of v3"
