#!/usr/bin/env bash
# Make .venv in the repo root with the exact, measured stack (requirements/constraints.txt)
# and simmim_mm (editable). Safe to run again: every step is quick when its result is there.
#
#   bash tools/setup_env.sh            # everything: mmcv with compiled ops (built once by
#                                      # tools/build_mmcv.sh, ~15 min on 2 cores, cached),
#                                      # mmdet, mmsegmentation, the test requirements
#   SIMMIM_MM_SETUP=pretrain bash tools/setup_env.sh
#                                      # pretraining only (make demo): mmcv without ops,
#                                      # built in seconds; a later full set-up adds the rest
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
WHAT=${SIMMIM_MM_SETUP:-full}
case $WHAT in full|pretrain) ;; *) echo "SIMMIM_MM_SETUP must be full or pretrain" >&2; exit 2 ;; esac

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
if [ "$WHAT" = full ]; then
    step "mmcv with compiled ops (tools/build_mmcv.sh: built once, then cached)"
    PYTHON="$PY" bash tools/build_mmcv.sh --install >/dev/null
    step_done
    step "simmim_mm (editable) with the OpenMMLab stack, downstream and test requirements"
    pip --no-build-isolation -e '.[downstream,tests]'
    step_done
    "$PY" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, simmim_mm; print("simmim_mm environment ready:", mmcv.__version__)'
else
    if ! "$PY" -c 'import mmcv' 2>/dev/null; then  # keep an mmcv with ops if there is one
        step "mmcv without compiled ops (pretraining calls none; tools/build_mmcv.sh)"
        PYTHON="$PY" MMCV_WITH_OPS=0 bash tools/build_mmcv.sh --install >/dev/null
        step_done
    fi
    step "simmim_mm (editable) with what pretraining needs"
    pip --no-build-isolation -e .
    step_done
    "$PY" -c 'import mmpretrain, simmim_mm; print("simmim_mm ready for pretraining (make setup adds mmcv ops, mmdet, mmseg)")'
fi
