#!/usr/bin/env bash
# Set up poseclass in ./.venv (idempotent): virtualenv, the package with its test tools, MoveNet models.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.poseclass-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[train,dev]'
  touch "$stamp"
fi
# Every MoveNet variant (single-pose and MultiPose), into the user cache (reused between runs; see `poseclass models list`).
.venv/bin/poseclass models fetch
# Chromium (the Debian package) runs the web page's tests (tests/test_web.py); installed once, when missing.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "setup: could not install chromium (the web page's tests need it)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
