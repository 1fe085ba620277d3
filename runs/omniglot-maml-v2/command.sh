#!/usr/bin/env bash
# The omniglot-maml v2 meta-training run (issue 28). Resumable: run this again on a fresh
# clone and it continues from state.pt (written every 5 minutes and at each validation).
# Attempt 2: the step sizes stay at the start chosen on val (attempt 1 learned them, and
# they grew 25-45% in 150 meta-steps while val fell: docs/results/maml-v2/attempt1-*).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python -m core.train --algorithm maml --name omniglot-maml \
  --init-from omniglot-maml --head-init zero --head-lr-per-class --init-lr-scale 0.5 \
  --ways 5 20 --shots 1 5 --queries 5 --meta-batch 8 \
  --inner-steps 5 --test-inner-steps 5 --no-learn-inner-lr --lr 5e-5 --lr-halve-every 1500 \
  --episodes 6000 --eval-every 100 --val-episodes 50 \
  --val-settings 5w1s 5w5s 20w1s 20w5s --seed 0 --device cpu \
  --run-dir runs/omniglot-maml-v2 --out-dir runs/omniglot-maml-v2/out --json "$@"
