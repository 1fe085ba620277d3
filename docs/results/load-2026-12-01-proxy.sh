#!/bin/bash
# The protocol-visitor load run through the nginx recipe, with 1 and then 2 replicas.
cd "$(dirname "$0")/../.."
for r in 1 2; do
  REPLICAS=$r FIRST_PORT=$((8700 + 10 * r)) LISTEN=127.0.0.1:$((8800 + r)) bash deploy/serve.sh > /tmp/serve-$r.log 2>&1 &
  sleep 25
  PYTHONPATH=. .venv/bin/python -m benchmarks load --sessions 1 10 --others protocol --rounds 5 --timeout 400 --url http://127.0.0.1:$((8800 + r)) --out docs/results/load-2026-12-01-proxy-$r.json
  pkill -f "deploy/serve.sh"; sleep 5
done
