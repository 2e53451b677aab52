#!/usr/bin/env bash
# Build mmcv with its compiled ops for the current interpreter and cache the wheel.
#
#   PYTHON=/path/to/python bash tools/build_mmcv.sh [--install | --dry-run]
#
# PyPI has mmcv 2.1.0 (the newest that mmdet 3.3.0 / mmsegmentation 1.2.2 accept) only as
# source, and torch >= 2.10 headers need C++20 where its setup.py says c++17.
# CUDA kernels are built when torch is a CUDA build, nvcc is found and either GPUs are visible
# (their compute capabilities become TORCH_CUDA_ARCH_LIST) or TORCH_CUDA_ARCH_LIST is set.
# MMCV_CUDA=0 forces a CPU-only build, MMCV_CUDA=1 fails unless CUDA ops can be built.
# MMCV_WITH_OPS=0 builds mmcv without compiled ops (seconds): enough for pretraining and
# classification, which call no mmcv op; mmdet / mmseg need the ops.
# MMCV_SRC=path/to/mmcv-2.1.0.tar.gz builds from a local source archive (no network).
# The cache key names mmcv, torch, CUDA version and archs (or `cpu`) and Python, so a CPU
# wheel is never picked up on a GPU node. Prints the wheel's path as the last line.
set -euo pipefail

PY=${PYTHON:-python}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
CACHE_DIR=${SIMMIM_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/simmim_mm}
log() { echo "[build_mmcv] $*" >&2; }

read -r TORCH_VERSION TORCH_CUDA GPU_ARCHS PY_TAG < <("$PY" - <<'EOF'
import sys
import torch
archs = 'none'
if torch.version.cuda and torch.cuda.is_available():
    caps = {torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())}
    archs = ';'.join(f'{major}.{minor}' for major, minor in sorted(caps))
print(torch.__version__.split('+')[0], torch.version.cuda or 'none', archs,
      f'cp{sys.version_info.major}{sys.version_info.minor}')
EOF
)

NVCC=""
if [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then NVCC="$CUDA_HOME/bin/nvcc"
elif command -v nvcc >/dev/null 2>&1; then NVCC=$(command -v nvcc); fi

ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-}
[ -z "$ARCH_LIST" ] && [ "$GPU_ARCHS" != none ] && ARCH_LIST=$GPU_ARCHS
WITH_CUDA=0
why_not="MMCV_CUDA=0"
if [ "${MMCV_CUDA:-auto}" != 0 ]; then
    if [ "$TORCH_CUDA" = none ]; then why_not="torch $TORCH_VERSION is a CPU build"
    elif [ -z "$NVCC" ]; then why_not="no nvcc on PATH or in CUDA_HOME"
    elif [ -z "$ARCH_LIST" ]; then why_not="no GPU visible and TORCH_CUDA_ARCH_LIST unset"
    else WITH_CUDA=1; fi
fi
if [ "${MMCV_CUDA:-auto}" = 1 ] && [ "$WITH_CUDA" = 0 ]; then
    log "MMCV_CUDA=1 but CUDA ops cannot be built: $why_not"; exit 1
fi

if [ "${MMCV_WITH_OPS:-1}" = 0 ]; then
    WITH_CUDA=0
    ARCH_TAG=noops
    log "no compiled ops (MMCV_WITH_OPS=0)"
elif [ "$WITH_CUDA" = 1 ]; then
    ARCH_TAG="cu${TORCH_CUDA//./}-sm$(echo "$ARCH_LIST" | tr -d '.+' | tr ' ;,' '___')"
    log "CUDA ops for CUDA $TORCH_CUDA, archs $ARCH_LIST ($NVCC)"
else
    ARCH_TAG=cpu
    log "CPU-only ops ($why_not)"
fi
WHEEL_DIR="$CACHE_DIR/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$ARCH_TAG-$PY_TAG"
if [ "${1:-}" = --dry-run ]; then echo "$WHEEL_DIR"; exit 0; fi  # what it would build, and where

if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    start=$SECONDS
    log "building mmcv $MMCV_VERSION into $WHEEL_DIR (with ops: 15 min on 2 CPU cores;"
    log "with CUDA kernels about 5 min on 16 cores per arch; without ops: seconds)"
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    # mmcv's setup.py needs pkg_resources (setuptools < 70), ninja and this interpreter's
    # torch: build in a throw-away venv that gets the build tools first and only then sees
    # this interpreter's packages (a .pth file), so the user's setuptools is never touched.
    # PIP_FIND_LINKS / PIP_NO_INDEX make this step work offline.
    BPY="$build/venv/bin/python"
    if "$PY" -m venv "$build/venv" 2>/dev/null; then
        "$BPY" -m pip install --disable-pip-version-check -q 'setuptools<70' wheel ninja >&2
    else  # a Python without ensurepip: this interpreter's pip installs into the build venv
        "$PY" -m venv --without-pip --clear "$build/venv"
        "$PY" -m pip --python "$BPY" install --disable-pip-version-check -q \
            'setuptools<70' wheel ninja >&2
    fi
    "$PY" -c 'import sysconfig; p = sysconfig.get_paths(); print(p["purelib"]); print(p["platlib"])' \
        > "$("$BPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/host_env.pth"
    if [ -n "${MMCV_SRC:-}" ]; then
        cp "$MMCV_SRC" "$build/"
    else
        MMCV_WITH_OPS=1 "$BPY" -m pip download --disable-pip-version-check -q --no-deps \
            --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$build"
    fi
    tar -xzf "$build"/mmcv-*.tar.gz -C "$build"
    src=$(find "$build" -maxdepth 1 -type d -name "mmcv-$MMCV_VERSION")
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    # without ops mmcv calls itself mmcv-lite, which mmdet / mmpretrain / simmim_mm do not
    # accept as mmcv: keep the name (the cache key says noops, a full set-up replaces it)
    sed -i "s/name='mmcv' if os.getenv('MMCV_WITH_OPS', '1') == '1' else 'mmcv-lite'/name='mmcv'/" \
        "$src/setup.py"
    cuda_env=(FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=)  # mmcv builds CUDA ops whenever it sees a GPU
    if [ "$WITH_CUDA" = 1 ]; then
        # CUDA 13 toolkits may lack headers (cusparse.h, ...) that pip's nvidia-* wheels of a
        # CUDA torch carry: let the compilers find those too
        headers=$("$PY" -c 'import glob, os, sysconfig
print(os.pathsep.join(glob.glob(os.path.join(sysconfig.get_paths()["platlib"], "nvidia", "*", "include"))))')
        cuda_env=(FORCE_CUDA=1 "TORCH_CUDA_ARCH_LIST=$ARCH_LIST"
                  "CUDA_HOME=$(dirname "$(dirname "$NVCC")")" "CPATH=${CPATH:+$CPATH:}$headers")
    fi
    (cd "$src" && env MMCV_WITH_OPS="${MMCV_WITH_OPS:-1}" "${cuda_env[@]}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$BPY" -m pip wheel --disable-pip-version-check -q --no-build-isolation --no-deps \
        -w "$build/dist" .)
    mkdir -p "$WHEEL_DIR"
    # renamed into place only when complete: an interrupted build leaves no half wheel
    whl=$(ls "$build"/dist/mmcv-*.whl)
    cp "$whl" "$WHEEL_DIR/.partial" && mv "$WHEEL_DIR/.partial" "$WHEEL_DIR/$(basename "$whl")"
    log "built in $((SECONDS - start)) s"
fi
WHEEL=$(ls "$WHEEL_DIR"/mmcv-*.whl | head -1)
if [ "${1:-}" = --install ]; then
    "$PY" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall "$WHEEL" >&2
fi
echo "$WHEEL"
