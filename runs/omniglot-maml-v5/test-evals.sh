#!/usr/bin/env bash
# The test evaluations of omniglot-protonet v2 and omniglot-maml v5 (issue 28), each read once
# and logged. Both were trained on trainval with recipes and step counts chosen on val before
# this ran (runs/omniglot-protonet-v2/command.sh, runs/omniglot-maml-v5/command.sh; the
# held-out twins' val: docs/results/maml-v5/). v4's were runs/omniglot-maml-v4/test-evals.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/maml-v5
proto="issue 28: omniglot-protonet v2 (v1 continued 3,000 episodes on trainval, the papers' protocol; steps fixed in advance); first and only test evaluation of this checkpoint"
maml="issue 28: omniglot-maml v5 (v4's recipe, 100 meta-steps, on trainval from omniglot-protonet v2; steps fixed in advance); first and only test evaluation of this checkpoint"
for setting in "5 1" "5 5" "20 1" "20 5"; do
  set -- $setting
  .venv/bin/python -m core.evaluate --model omniglot-protonet --dataset omniglot --split test \
    --ways "$1" --shots "$2" --queries 15 --episodes 1000 --seed 0 --json --log-test "$proto" \
    >> "$out/protonet-v2-eval-test.jsonl"
  .venv/bin/python -m core.evaluate --model omniglot-maml --dataset omniglot --split test \
    --ways "$1" --shots "$2" --queries 15 --episodes 600 --seed 0 --json --log-test "$maml" \
    >> "$out/eval-test.jsonl"
done
.venv/bin/python -m scripts.within_alphabet --split test --trials 400 \
  --models omniglot-protonet omniglot-maml --out "$out/within-alphabet-test.jsonl" \
  --log-test "issue 28: within-alphabet 20-way one-shot (Lake et al.), omniglot-protonet v2 and omniglot-maml v5 on the 400 trials of v3's and v4's reads; first and only test evaluation of these checkpoints"
