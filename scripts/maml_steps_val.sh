#!/usr/bin/env bash
# omniglot-maml's val accuracy by test-time inner steps, at the four settings (issue 28: does
# accuracy fall between step 1 and the card's count?). 50 episodes each, seed 0.
# Output: $1 (v2's: docs/results/maml-v2/steps-val.jsonl; v3's: docs/results/maml-v3/steps-val.jsonl;
# v4's, STEPS="1 3 5 10 20": docs/results/maml-v4/steps-val.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/maml_steps_val.sh OUTPUT.jsonl}
for setting in "5 1" "5 5" "20 1" "20 5"; do
  set -- $setting
  for steps in ${STEPS:-1 3 5 10}; do
    .venv/bin/python -m core.evaluate --model omniglot-maml --dataset omniglot --split val \
      --ways "$1" --shots "$2" --queries 15 --episodes 50 --seed 0 --inner-steps "$steps" \
      --json >> "$out"
  done
done
