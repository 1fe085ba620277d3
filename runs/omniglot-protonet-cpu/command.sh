#!/usr/bin/env bash
# omniglot-protonet, continued on the 2-core CPU (issue 28: better features for omniglot-maml).
# The shipped omniglot-protonet is a run of scripts/train_omniglot.sh that its 190 s GPU budget
# stopped at episode 17,544 of 40,000, Adam still at 2.5e-4 with val 20w1s still rising
# (97.16 at 17,000). This continues it with the same episodes (60 ways, 1 or 5 shots,
# 5 queries, random shifts of up to 2 pixels) from that step size, halved every 2,500
# episodes, and chooses the checkpoint on val (all four settings, 200 episodes each).
# New episodes (seed 1); Adam's moments start fresh. Never evaluated on test here.
# Result: no validation beat the start (98.71 at step 0; 98.65 / 98.61 / 98.67 at 1,000 /
# 2,000 / 3,000; docs/results/maml-v5/protonet-continued-val.json), stopped by hand at 3,000.
# Its step 3,000 (out/, written with --episodes 3000) is the held-out twin of
# omniglot-protonet v2 (runs/omniglot-protonet-v2: the same continuation on train + val).
# Resumable: run it again on a fresh clone and it continues from state.pt.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python -m core.train --algorithm protonet --name omniglot-protonet \
  --init-from omniglot-protonet --ways 60 --shots 1 5 --queries 5 --augment \
  --lr 2.5e-4 --lr-halve-every 2500 --episodes 10000 --eval-every 1000 \
  --val-episodes 200 --val-settings 5w1s 5w5s 20w1s 20w5s --seed 1 --device cpu \
  --save-every-s 240 --time-budget-s 3900 \
  --run-dir runs/omniglot-protonet-cpu --out-dir runs/omniglot-protonet-cpu/out --json "$@"
