#!/usr/bin/env bash
# Make .venv in the repo root with the exact, measured stack (requirements/constraints.txt)
# and simmim_mm (editable). Safe to run again: every step is quick when its result is there.
#
#   bash tools/setup_env.sh            # everything: mmcv with compiled ops (built once by
#                                      # tools/build_mmcv.sh, ~15 min on 2 cores, cached),
#                                      # mmdet, mmsegmentation, the test and docs
#                                      # requirements
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
    step "the manual's builder (requirements/docs.txt: mkdocs, for make docs)"
    pip -r requirements/docs.txt
    step_done
    step "the linter and formatter (requirements/lint.txt: ruff and yapf, for make lint)"
    pip -r requirements/lint.txt
    step_done
    step "OpenMMLab's mim (requirements/mim.txt: openmim without opendatalab)"
    pip -r requirements/mim.txt
    pip --no-deps openmim  # last: pip then has no unmet requirement of openmim to report
    step_done
    # A second environment: .venv's packages plus transformers 5 (which .venv cannot have:
    # mmpretrain 1.2 then fails to import unless simmim_mm comes first), for the tests of that
    # path. Made anew when requirements/transformers5.txt changes, never left half-made.
    T5="$VENV/transformers-5"
    if ! cmp -s requirements/transformers5.txt "$T5/requirements.txt"; then
        step "$T5: .venv plus transformers 5 (requirements/transformers5.txt)"
        rm -rf "$T5" "$T5.partial"
        "$PY" -m venv --without-pip "$T5.partial"
        site_of() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
        # .venv's site-packages after its own, .pth files (the editable simmim_mm) included
        echo "import site; site.addsitedir('$(site_of "$PY")')" \
            > "$(site_of "$T5.partial/bin/python")/venv_packages.pth"
        # pip installs what .venv lacks or has at other versions ("not uninstalling ...
        # outside environment": .venv keeps its transformers 4)
        "$PY" -m pip --python "$T5.partial/bin/python" install --disable-pip-version-check \
            --progress-bar off -q -r requirements/transformers5.txt 2>&1 \
            | { grep -v -E '^(WARNING: Location|Not uninstalling|Can.t uninstall)' || true; }
        cp requirements/transformers5.txt "$T5.partial/requirements.txt"
        mv "$T5.partial" "$T5"
        step_done
    fi
    "$PY" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain.models, simmim_mm; print("simmim_mm environment ready:", mmcv.__version__)'
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
