#!/usr/bin/env bash
# photo-maml's test evaluations after its inner loop was chosen on val (issue 28: 20 steps at
# the meta-learned step sizes x0.25; scripts.set_photo_maml_loop), each read once and logged:
# mini-ImageNet test on the first 60 photos a class (the cached features; photo-protonet's
# 87.60 / 95.89 on the same episodes), Omniglot test through the photo backbone for both
# photo models on the same 200 classes (core.data.some_classes), and "none of these".
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/results/photo-maml-v2
why="issue 28: photo-maml with its inner loop chosen on val (20 steps, step sizes x0.25); first and only test evaluation of this loop"
for shots in 1 5; do
  .venv/bin/python -m core.evaluate --model photo-maml --dataset miniimagenet --split test \
    --first 60 --ways 5 --shots "$shots" --queries 15 --episodes 600 --seed 0 --json \
    --log-test "$why" >> "$out/eval-test-first60.jsonl"
done
for model in photo-protonet photo-maml; do
  for shots in 1 5; do
    .venv/bin/python -m core.evaluate --model "$model" --dataset omniglot --split test \
      --classes 200 --ways 5 --shots "$shots" --queries 15 --episodes 600 --seed 0 --json \
      --log-test "issue 28: cross-domain, the photo models on 200 Omniglot test classes (the same fixed draw for both); $model's first read on this subset" \
      >> "$out/eval-test-omniglot-200-classes.jsonl"
  done
done
.venv/bin/python -m core.evaluate_open_set --model photo-maml --dataset miniimagenet --split test \
  --first 60 --episodes 600 \
  --log-test "issue 28: 'none of these' for photo-maml with its val-chosen loop (threshold chosen on val); first and only test measurement" \
  >> "$out/open-set-test.jsonl"
