#!/usr/bin/env bash
# Set up (first time only) and run every check: ruff lint + format, then the whole pytest
# suite (unit, AppTest pages, real-data evaluation, Playwright + Chromium journeys).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q --timeout 900 "$@"
