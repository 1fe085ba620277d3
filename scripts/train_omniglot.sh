#!/usr/bin/env bash
# Meta-trains both shipped Omniglot models and evaluates them on the Vinyals test split.
# This is the exact recipe behind assets/models/omniglot-*.{safetensors,json}; it ran on
# one H100 in one go (see the model cards for wall time). On a CPU it is the same command,
# only slower: set PROTO_BUDGET / MAML_BUDGET (seconds) or leave them 0 for no limit.
# Usage: bash scripts/train_omniglot.sh [results-dir]
set -euo pipefail
out=${1:-runs/omniglot-results}
mkdir -p "$out"
py=${PYTHON:-python3}
PROTO_BUDGET=${PROTO_BUDGET:-0}
MAML_BUDGET=${MAML_BUDGET:-0}

# 1. Prototypical Networks: 60-way episodes with 1 or 5 shots, 5 queries, Adam 1e-3 halved
#    every 8000 episodes, random shifts; best of the validation checks (5w1s + 20w1s).
$py -m core.train --algorithm protonet --name omniglot-protonet --ways 60 --shots 1 5 \
  --queries 5 --episodes 40000 --lr 1e-3 --lr-halve-every 8000 --eval-every 1000 \
  --val-episodes 300 --time-budget-s "$PROTO_BUDGET" --seed 0 --json --quiet \
  | tee "$out/train-protonet.json"

# 2. MAML, started from the ProtoNet weights, prototype-initialised head, second order,
#    a mix of 5/20 ways and 1/5 shots so one checkpoint serves every setting, 2 inner steps
#    with meta-learned per-tensor step sizes.
$py -m core.train --algorithm maml --name omniglot-maml --init-from omniglot-protonet \
  --ways 5 20 --shots 1 5 --queries 5 --meta-batch 16 --inner-steps 2 \
  --test-inner-steps 2 --inner-lr 0.001 --episodes 6000 --lr 1e-4 \
  --lr-halve-every 2000 --eval-every 250 --val-episodes 150 \
  --time-budget-s "$MAML_BUDGET" --seed 0 --json --quiet | tee "$out/train-maml.json"

# 3. MAML, stage 2: the same recipe continued from stage 1 with new tasks (seed 1) and a
#    300-episode validation; the shipped checkpoint ran this on a 2-core CPU, one thread,
#    with MAML2_BUDGET=5400. Its card's training.started_from records stages 1 and 0.
MAML2_BUDGET=${MAML2_BUDGET:-0}
OMP_NUM_THREADS=${MAML2_THREADS:-1} $py -m core.train --algorithm maml --name omniglot-maml \
  --init-from omniglot-maml --ways 5 20 --shots 1 5 --queries 5 --meta-batch 16 \
  --inner-steps 2 --test-inner-steps 2 --inner-lr 0.001 --episodes 3000 --lr 1e-4 \
  --lr-halve-every 1000 --eval-every 250 --val-episodes 300 --device cpu \
  --time-budget-s "$MAML2_BUDGET" --seed 1 --run-dir runs/maml-cpu/run \
  --out-dir runs/maml-cpu/out --json | tee "$out/train-maml-continued.json"
cp runs/maml-cpu/out/omniglot-maml.safetensors runs/maml-cpu/out/omniglot-maml.json \
  "${FEWSHOT_MODELS:-assets/models}/"

# 4. Test split, the protocol of the papers: 15 queries, 1000 (ProtoNet) / 600 (MAML).
for model in omniglot-protonet omniglot-maml; do
  episodes=1000; [ "$model" = omniglot-maml ] && episodes=600
  for setting in "5 1" "5 5" "20 1" "20 5"; do
    set -- $setting
    $py -m core.evaluate --model "$model" --dataset omniglot --split test --ways "$1" \
      --shots "$2" --queries 15 --episodes "$episodes" --seed 0 \
      --device "${EVAL_DEVICE:-cpu}" $([ "$model" = omniglot-maml ] && echo --inner-steps 2) \
      --json 2>/dev/null | tee -a "$out/eval.jsonl"
  done
done
