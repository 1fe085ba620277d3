#!/usr/bin/env bash
# The omniglot-maml v3 meta-training run (issue 28). Resumable: run this again on a fresh
# clone and it continues from state.pt (written every 5 minutes and at each validation).
# MAML from omniglot-protonet's weights, zero classifier, 10 inner steps at training and at
# test; the inner loop adapts the classifier only (backbone step sizes 0: ANIL, Raghu et al.
# 2020), its two step sizes per class (x N), fixed at 0.02 (attempt 1 learned them: they
# grew 1.8x in 250 meta-steps while val fell at every setting,
# docs/results/maml-v3/attempt1-learned-rates.json); the backbone is meta-trained by the
# outer loop (Adam 1e-5: 5e-5 lowered 20w1s val within 80 steps, 1e-5 raised it:
# docs/results/maml-v3/recipe-probes.txt). Mixed task shapes: 5 and 20 ways, 1 and 5 shots.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python -m core.train --algorithm maml --name omniglot-maml \
  --init-from omniglot-protonet --head-init zero --head-lr-per-class --no-inner-backbone \
  --inner-lr 0.02 --no-learn-inner-lr --ways 5 20 --shots 1 5 --queries 5 --meta-batch 16 \
  --inner-steps 10 --test-inner-steps 10 --lr 1e-5 --lr-halve-every 100000 \
  --episodes 4000 --eval-every 200 --val-episodes 100 \
  --val-settings 5w1s 5w5s 20w1s 20w5s --seed 0 --device cpu --time-budget-s 4800 \
  --run-dir runs/omniglot-maml-v3 --out-dir runs/omniglot-maml-v3/out --json "$@"
