#!/usr/bin/env bash
# omniglot-maml v4's test evaluations (issue 28), each read once and logged. Chosen on val
# before this ran: docs/results/maml-v4/ (probe-weights-val.jsonl, steps-val.jsonl,
# within-alphabet-val.jsonl). v3's were runs/omniglot-maml-v3/test-evals.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/maml-v4/eval-test.jsonl
why="issue 28: omniglot-maml v4 (v3's recipe with 20 classifier steps at training and test; checkpoint step 100 chosen on val); first and only test evaluation of this checkpoint"
for setting in "5 1" "5 5" "20 1" "20 5"; do
  set -- $setting
  .venv/bin/python -m core.evaluate --model omniglot-maml --dataset omniglot --split test \
    --ways "$1" --shots "$2" --queries 15 --episodes 600 --seed 0 --json --log-test "$why" >> "$out"
done
.venv/bin/python -m scripts.within_alphabet --split test --trials 400 --models omniglot-maml \
  --out docs/results/maml-v4/within-alphabet-test.jsonl \
  --log-test "issue 28: within-alphabet 20-way one-shot (Lake et al.), omniglot-maml v4; first and only test evaluation of v4 (omniglot-protonet's 84.72 +- 1.19 on the same 400 trials: docs/results/maml-v3/within-alphabet-test.jsonl)"
