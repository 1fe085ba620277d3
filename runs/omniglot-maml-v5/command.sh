#!/usr/bin/env bash
# omniglot-maml v5 (issue 28): v4's recipe (ANIL, 20 classifier steps from zero at training and
# test, per-class step size 0.02 x N, Adam 1e-5, 5/20 ways, 1/5 shots, 16 tasks a meta-step),
# trained on Vinyals trainval (train + val, 1200 characters, the papers' protocol) from
# omniglot-protonet v2 (itself trained on trainval: runs/omniglot-protonet-v2/command.sh),
# for 100 meta-steps: v4's checkpoint, chosen on val (train alone), was its step 100.
# Its val numbers are on classes it trained on; the checkpoint is step 100, fixed in advance.
# The held-out twin (runs/omniglot-maml-v5-heldout/command.sh) runs the same on train alone.
# Resumable like v3's and v4's: run it again to continue.
set -euo pipefail
cd "$(dirname "$0")/../.."
export FEWSHOT_MODELS=runs/omniglot-protonet-v2/out  # --init-from omniglot-protonet: v2
exec bash runs/omniglot-maml-v3/command.sh \
  --inner-steps 20 --test-inner-steps 20 --train-split trainval --episodes 100 \
  --eval-every 100 --time-budget-s 0 \
  --run-dir runs/omniglot-maml-v5 --out-dir runs/omniglot-maml-v5/out "$@"
