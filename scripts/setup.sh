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
