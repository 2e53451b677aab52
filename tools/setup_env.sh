#!/usr/bin/env bash
# Make .venv in the repo root with torch, the OpenMMLab stack and simmim_mm (editable).
# mmcv 2.1.0 exists on PyPI only as source and needs C++20 under torch >= 2.10, so it is built
# once and the wheel cached outside the work tree, keyed by mmcv, torch and Python versions.
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
MMCV_VERSION=2.1.0
TORCH_VERSION=$(sed -n 's/^torch==//p' requirements/torch.txt)
CACHE_DIR=${SIMMIM_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/simmim_mm}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$(cd "$VENV" && pwd)/bin/python"
pip() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

pip -r requirements/torch.txt
# mmcv's setup.py and mmengine at run time (resolving `mmdet::` configs) use pkg_resources,
# which setuptools >= 70 breaks; pip warns that torch asks for >= 77, harmlessly.
pip 'setuptools<70' wheel ninja

PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
WHEEL_DIR="$CACHE_DIR/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PY_TAG"
if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    echo "Building mmcv $MMCV_VERSION with ops for torch $TORCH_VERSION ($PY_TAG), ~15 min on 2 cores"
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    "$PY" -m pip download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
    tar -xzf "$build"/mmcv-*.tar.gz -C "$build"
    src=$(find "$build" -maxdepth 1 -type d -name "mmcv-$MMCV_VERSION")
    # torch >= 2.10 headers need C++20; mmcv hard-codes c++17
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} \
        "$PY" -m pip wheel -q --no-build-isolation --no-deps -w "$build/dist" .)
    mkdir -p "$WHEEL_DIR"
    # rename into place only when complete, so an interrupted build leaves no half wheel
    whl=$(ls "$build"/dist/mmcv-*.whl)
    cp "$whl" "$WHEEL_DIR/.partial" && mv "$WHEEL_DIR/.partial" "$WHEEL_DIR/$(basename "$whl")"
fi
pip "$WHEEL_DIR"/mmcv-*.whl
pip -r requirements/mminstall.txt -r requirements/runtime.txt -r requirements/tests.txt
pip --no-build-isolation --no-deps -e .
"$PY" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, simmim_mm; print("simmim_mm environment ready:", mmcv.__version__)'
