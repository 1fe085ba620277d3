#!/usr/bin/env bash
# The held-out twin of omniglot-maml v5 (issue 28): the same recipe and steps on Vinyals train
# alone, from the train-only twin of omniglot-protonet v2 (runs/omniglot-protonet-cpu, step
# 3,000: the same continuation without the val characters). v5 trains on val, so its val
# numbers say little; this twin's do, and its "none of these" thresholds, chosen on val, are
# the ones v5 ships with. Never evaluated on test.
set -euo pipefail
cd "$(dirname "$0")/../.."
export FEWSHOT_MODELS=runs/omniglot-protonet-cpu/out  # --init-from omniglot-protonet: the twin
exec bash runs/omniglot-maml-v3/command.sh \
  --inner-steps 20 --test-inner-steps 20 --episodes 100 --eval-every 100 --time-budget-s 0 \
  --run-dir runs/omniglot-maml-v5-heldout --out-dir runs/omniglot-maml-v5-heldout/out "$@"
