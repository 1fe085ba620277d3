#!/usr/bin/env bash
# A candidate for omniglot-maml v4 (issue 28), val only: v3's recipe with 20 classifier
# steps at training and at test instead of 10 (on val before meta-training, 20 steps scored
# 99.67 / 96.84 at 5w1s / 20w1s against 10 steps' 99.53 / 96.37:
# docs/results/maml-v3/recipe-probes.txt). Not shipped and never evaluated on test; its
# validation curve is in state.pt (and in the card it writes to runs/omniglot-maml-v4/out/).
# Resumable like v3's: run it again to continue (--time-budget-s counts the whole run).
set -euo pipefail
# v3's command with these options after its own (the last of each wins).
exec bash "$(dirname "$0")/../omniglot-maml-v3/command.sh" \
  --inner-steps 20 --test-inner-steps 20 --eval-every 100 --time-budget-s 900 \
  --run-dir runs/omniglot-maml-v4 --out-dir runs/omniglot-maml-v4/out "$@"
