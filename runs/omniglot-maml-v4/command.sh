#!/usr/bin/env bash
# A candidate for omniglot-maml v4 (issue 28), val only: v3's recipe with 20 classifier
# steps at training and at test instead of 10 (on val before meta-training, 20 steps scored
# 99.67 / 96.84 at 5w1s / 20w1s against 10 steps' 99.53 / 96.37:
# docs/results/maml-v3/recipe-probes.txt). Not shipped and never evaluated on test; its
# validation curve is in state.pt (and in the card it writes to runs/omniglot-maml-v4/out/).
# Resumable like v3's: run it again to continue (--time-budget-s counts the whole run).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python -m core.train --algorithm maml --name omniglot-maml \
  --init-from omniglot-protonet --head-init zero --head-lr-per-class --no-inner-backbone \
  --inner-lr 0.02 --no-learn-inner-lr --ways 5 20 --shots 1 5 --queries 5 --meta-batch 16 \
  --inner-steps 20 --test-inner-steps 20 --lr 1e-5 --lr-halve-every 100000 \
  --episodes 4000 --eval-every 100 --val-episodes 100 \
  --val-settings 5w1s 5w5s 20w1s 20w5s --seed 0 --device cpu --time-budget-s 900 \
  --run-dir runs/omniglot-maml-v4 --out-dir runs/omniglot-maml-v4/out --json "$@"
