#!/usr/bin/env bash
# Set up (first time only) and run every check: ruff lint + format, then the whole pytest
# suite (unit, AppTest pages, real-data evaluation, float64 equality with the peer libraries,
# Playwright + Chromium journeys), and prints the 25 slowest tests. While working:
#   bash test.sh -m "not slow"   (the fast tier: unit tests, under 2 minutes)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh dev
# The peers (learn2learn, easyfsl) that the float64 equality tests compare against: installed
# once into .venv by the project's own script, then found there by every later run.
if ! .venv/bin/python -c "import learn2learn, easyfsl" 2>/dev/null; then
  bash benchmarks/install-peers.sh .venv/bin/python
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Two workers, whole files each (a file's server and browser fixtures stay with its tests):
# much of a browser or AppTest test waits on another process, so two overlap on two cores.
.venv/bin/python -m pytest -q -n 2 --dist loadfile --timeout 900 --durations=25 "$@"
