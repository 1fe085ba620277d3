#!/usr/bin/env bash
# Creates .venv and installs what the project needs: `setup.sh` for the app,
# `setup.sh dev` for the tests too (pytest, Playwright with Debian's Chromium, ruff).
# torch==2.14.1 / torchvision==0.29.1 come from this machine's local package disk.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
requirements=requirements.txt
[ "${1:-}" = dev ] && requirements=requirements-dev.txt
if ! .venv/bin/python -m pip install -q -r "$requirements" 2> .venv/pip.log; then
  cat .venv/pip.log >&2
  exit 1
fi
if [ "${1:-}" = dev ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  if [ ! -x /usr/bin/chromium ]; then
    # Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    # The proxy test (tests/e2e/test_proxy.py) runs deploy/serve.sh, which needs nginx; where
    # it cannot be installed, that one test says so (and fails under CI=true).
    { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq nginx >/dev/null; } ||
      echo "setup: nginx could not be installed; tests/e2e/test_proxy.py will say so" >&2
  fi
fi
