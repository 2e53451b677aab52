#!/usr/bin/env bash
# Make .venv in the repo root with the exact, measured stack (requirements/constraints.txt),
# mmcv with compiled ops (tools/build_mmcv.sh, the wheel cached outside the work tree) and
# simmim_mm (editable, with the downstream and tests extras). Safe to run again: every step
# is quick when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

step_start=$SECONDS
step() { echo "[setup] $* ..."; step_start=$SECONDS; }
step_done() { echo "[setup]   done in $((SECONDS - step_start)) s"; }
# pip without -q: what it downloads and builds is shown, what is already there is not
pip() {
    "$PY" -m pip install --disable-pip-version-check --progress-bar off \
        -c requirements/constraints.txt "$@" \
        | { grep -v -E '^(Requirement already satisfied|Looking in|  Using cached)' || true; }
}

if [ ! -x "$VENV/bin/python" ]; then step "creating $VENV"; "$PYTHON" -m venv "$VENV"; step_done; fi
PY="$(cd "$VENV" && pwd)/bin/python"

step "torch, torchvision and build tools"
pip torch torchvision setuptools wheel
step_done
step "mmcv with compiled ops (tools/build_mmcv.sh: built once, then cached)"
PYTHON="$PY" bash tools/build_mmcv.sh --install >/dev/null
step_done
step "simmim_mm (editable) with the OpenMMLab stack, downstream and test requirements"
pip --no-build-isolation -e '.[downstream,tests]'
step_done
"$PY" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, simmim_mm; print("simmim_mm environment ready:", mmcv.__version__)'
