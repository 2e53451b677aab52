#!/usr/bin/env bash
# The GPU check in one command. A bare CUDA machine with no network lacks the OpenMMLab
# stack, so a kit of what it lacks is prepared on a networked machine first:
#
#   bash tools/gpu_check.sh prepare DIR [--python-version 3.12] [--node-has FILE]  # networked
#   bash tools/gpu_check.sh install DIR [--dry-run]                  # GPU machine, offline
#   bash tools/gpu_check.sh run LOGDIR [--kit DIR] [--budget-s 540] [--smoke]
#   bash tools/gpu_check.sh all DIR LOGDIR [--budget-s 540] [--smoke]   # install + run
#
# prepare: wheels of simmim_mm's requirements (requirements/runtime, downstream, tests) and
# all their dependencies for the GPU machine's Python, at the versions that
# requirements/constraints.txt pins, but torch and torchvision (the GPU machine's own CUDA
# build); mmcv's source and mmcv built without ops. --node-has FILE (package names, one a
# line, or `pip freeze` of the GPU machine) leaves out what that machine has, but pinned ones.
# install: the kit's wheels of what $PYTHON lacks, or has at a version outside the
# requirements, with --no-deps from the kit alone: the machine's own packages that meet the
# requirements, its CUDA torch above all, are never replaced. --dry-run lists them.
# run: (a) the CUDA tests (tests/test_cuda); (b) the demo config for 50 iterations with AMP,
# then resumed for 10 more; (c) tools/benchmark.py train in bf16 and fp16: Swin-B 192 against
# mmpretrain, ViT-B 224; tools/benchmark.py compress in bf16: the distillation configs'
# teachers and students; (d) 2 iterations each of the Mask R-CNN and UperNet configs and an
# evaluation, from (b)'s checkpoint (tests/test_tools/test_transfer_e2e.py's data and config
# overrides, but on the GPU, which that test leaves alone). It prints one summary table
# (also LOGDIR/summary.md); each step's output is in LOGDIR, work dirs elsewhere.
# mmcv's CUDA ops are built (tools/build_mmcv.sh, from the kit's source) in the background
# while (a)-(c) run on mmcv without ops; (d) needs the ops and runs only if that build ends
# within the budget (seconds, counted from the start of the command), else the table says
# why. Without a GPU, (a) reports its skips and (b)-(d) are skipped; --smoke runs (b)-(d)
# tiny on the CPU instead, to try the whole flow on a machine without a GPU.
# Python is $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
HELPER=tools/gpu_check.py
START=$SECONDS

usage() { grep '^#   bash tools/gpu_check.sh ' "$0" | sed 's/^#   //' >&2; exit 2; }
die() { echo "gpu_check: $*" >&2; exit 2; }
log() { echo "[gpu_check] $*" >&2; }

# ------------------------------------------------------------------ prepare (networked)
prepare() {
    local dir="" pyver=3.12 node_has=""
    while [ $# -gt 0 ]; do
        case $1 in
            --python-version) [ $# -ge 2 ] || die "--python-version needs a value"
                              pyver=$2; shift 2 ;;
            --node-has) [ $# -ge 2 ] || die "--node-has needs FILE"
                        [ -f "$2" ] || die "--node-has: no file $2"
                        node_has=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
            -*) die "prepare: unknown option $1" ;;
            *) [ -z "$dir" ] || die "prepare takes one DIR"; dir=$1; shift ;;
        esac
    done
    [ -n "$dir" ] || die "prepare needs DIR"
    [[ $pyver =~ ^3\.[0-9]+$ ]] || die "--python-version must look like 3.12, not $pyver"
    local net=${PREPARE_PYTHON:-python3}  # any Python with pip and network does
    mkdir -p "$dir"/{wheels,build-tools,src,mmcv-lite}
    dir=$(cd "$dir" && pwd)
    rm -f "$dir"/wheels/* "$dir"/build-tools/* "$dir"/src/* "$dir"/mmcv-lite/*  # one version
    # Wheels for the GPU machine's Python on manylinux x86-64, whichever Python runs this
    # (pip matches each manylinux_2_N exactly, hence the list).
    local target=(--only-binary=:all: --python-version "$pyver" --implementation cp
                  --abi "cp${pyver/./}")
    local n
    for n in 17 24 27 28 31 34 35; do target+=(--platform "manylinux_2_${n}_x86_64"); done
    target+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
    local requirements tools
    mapfile -t requirements < <("$net" $HELPER requirements)
    "$net" $HELPER constraints > "$dir/constraints.txt"
    mapfile -t tools < <("$net" $HELPER build-tools)
    log "downloading ${#requirements[@]} requirements and their dependencies for Python" \
        "$pyver, pinned by requirements/constraints.txt"
    "$net" -m pip download -q "${target[@]}" -d "$dir/wheels" -c "$dir/constraints.txt" \
        "${requirements[@]}"
    if [ -n "$node_has" ]; then "$net" $HELPER prune "$dir/wheels" "$node_has"; fi
    # tools/build_mmcv.sh's build venv installs these, offline, from the kit: a folder of
    # their own, never installed into the GPU machine's Python
    log "downloading mmcv's build tools with their dependencies: ${tools[*]}"
    "$net" -m pip download -q "${target[@]}" -d "$dir/build-tools" "${tools[@]}"

    # mmcv: its source, built with CUDA ops on the GPU machine, and a wheel without ops
    # (pure Python, named mmcv-lite) made here, which the GPU machine installs at once. Its
    # setup.py needs pkg_resources (setuptools < 70) and wheel, even to be downloaded.
    local version tmp
    version=$("$net" $HELPER mmcv-version)
    tmp=$(mktemp -d)
    PREPARE_TMP=$tmp
    trap 'rm -rf "$PREPARE_TMP"' EXIT
    "$net" -m venv "$tmp/venv"
    "$tmp/venv/bin/python" -m pip install -q 'setuptools<70' wheel
    log "downloading mmcv $version's source and building it without ops"
    "$tmp/venv/bin/python" -m pip download -q --no-deps --no-binary :all: \
        --no-build-isolation "mmcv==$version" -d "$dir/src"
    tar -xzf "$dir/src/mmcv-$version.tar.gz" -C "$tmp"
    (cd "$tmp/mmcv-$version" && MMCV_WITH_OPS=0 "$tmp/venv/bin/python" -m pip wheel -q \
        --no-deps --no-build-isolation -w "$dir/mmcv-lite" .)
    echo "$pyver" > "$dir/python-version"
    local files=("$dir"/wheels/*.whl "$dir"/build-tools/*.whl "$dir"/src/*.tar.gz
                 "$dir"/mmcv-lite/*.whl)
    log "kit for Python $pyver in $dir: $(du -sh "$dir" | cut -f1), ${#files[@]} files"
}

# ------------------------------------------------------------------ install (offline)
install() {
    local dir="" dry=0
    while [ $# -gt 0 ]; do
        case $1 in
            --dry-run) dry=1; shift ;;
            -*) die "install: unknown option $1" ;;
            *) [ -z "$dir" ] || die "install takes DIR (a kit made by prepare)"; dir=$1; shift ;;
        esac
    done
    [ -n "$dir" ] || die "install takes DIR (a kit made by prepare)"
    local given=$dir
    dir=$(cd "$given" 2>/dev/null && pwd) || die "install: no folder $given"
    [ -f "$dir/python-version" ] || die "install: $dir is no kit (run prepare first)"
    local want have
    want=$(cat "$dir/python-version")
    have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$want" = "$have" ] || die "install: the kit is for Python $want, $PY is Python $have"
    # the kit's wheels of what $PY lacks; fails, naming it, where the kit lacks one it needs
    local plan wheels=() mmcv_lite=()
    plan=$("$PY" $HELPER install-plan "$dir") || die "install: $dir cannot complete $PY"
    [ -z "$plan" ] || mapfile -t wheels <<< "$plan"
    if ! "$PY" -c 'import mmcv' 2>/dev/null; then  # one built with ops stays
        mmcv_lite=("$dir"/mmcv-lite/*.whl)
        [ -f "${mmcv_lite[0]}" ] || die "install: the kit has no mmcv wheel in $dir/mmcv-lite"
    fi
    if [ "$dry" = 1 ]; then
        printf 'would install %s\n' "${wheels[@]##*/}" "${mmcv_lite[@]##*/}" simmim_mm
        return 0
    fi
    export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
    log "installing ${#wheels[@]} wheels from $dir into $PY (no dependencies, no index)"
    [ ${#wheels[@]} -eq 0 ] || "$PY" -m pip install -q --no-deps "${wheels[@]}"
    [ ${#mmcv_lite[@]} -eq 0 ] || "$PY" -m pip install -q --no-deps "${mmcv_lite[@]}"
    # editable, as make setup does; setuptools is the machine's own (no build isolation)
    "$PY" -m pip install -q --no-deps --no-build-isolation -e .
    "$PY" - <<'EOF'
import importlib
import torch
versions = {name: importlib.import_module(name).__version__
            for name in ('mmengine', 'mmcv', 'mmpretrain', 'mmdet', 'mmseg', 'simmim_mm')}
print('installed:', ', '.join(f'{k} {v}' for k, v in versions.items()), '| torch',
      torch.__version__, '(CUDA', torch.version.cuda, ')')
EOF
}

# ------------------------------------------------------------------ run
record() {  # ID RESULT SECONDS TITLE NOTE: one row of the summary table
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | tr '\t\n' '  ')" \
        >> "$LOGDIR/steps.tsv"
}

last_error() {  # the line of a log that most likely says what went wrong, else its last
    local line
    line=$(grep -E 'Error|error:|FAILED|Traceback|assert' "$1" | tail -1 || true)
    [ -n "$line" ] || line=$(tail -1 "$1")
    echo "${line:0:240}"
}

# step ID CAP TITLE COMMAND...: COMMAND's output goes to LOGDIR/ID.log; it may take CAP
# seconds (sized for the GPU machine; CAP_SCALE times that on a CPU with --smoke) or what is
# left of the budget, whichever is less
CAP_SCALE=1
step() {
    local id=$1 cap=$(($2 * CAP_SCALE)) title=$3
    shift 3
    local limit=$((DEADLINE - SECONDS))
    [ "$limit" -gt "$cap" ] && limit=$cap
    if [ "$limit" -lt 20 ]; then
        record "$id" "not run" 0 "$title" "no time left in the ${BUDGET}-s budget"
        return 0
    fi
    log "$id: $title (up to $limit s)"
    local t0=$SECONDS rc=0 result=passed note=""
    timeout --kill-after=10 "$limit" "$@" > "$LOGDIR/$id.log" 2>&1 || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        result="timed out"; note="stopped after $limit s"
    elif [ "$rc" != 0 ]; then
        result=failed; note="exit $rc: $(last_error "$LOGDIR/$id.log")"
    fi
    record "$id" "$result" $((SECONDS - t0)) "$title" "$note"
}

environment() {
    "$PY" - <<'EOF'
import os, platform, shutil, subprocess
import torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none (torch sees no GPU)'
print(f'GPU: {gpu}; {os.cpu_count()} CPUs; Python {platform.python_version()}')
cudnn = torch.backends.cudnn.version()
print(f'torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {cudnn}')
nvcc = shutil.which('nvcc')
if nvcc:
    out = subprocess.run([nvcc, '--version'], capture_output=True, text=True).stdout
    print('nvcc:', out.strip().splitlines()[-1])
else:
    print('nvcc: not found')
try:
    import mmcv
    try:
        import mmcv.ops  # noqa: F401
        ops = 'with ops'
    except ImportError:
        ops = 'without ops'
    print(f'mmcv {mmcv.__version__} {ops} when (a) began')
except ImportError:
    print('mmcv: not installed')
EOF
    echo "budget: $BUDGET s from the start; work dirs in $SCRATCH"
}

start_ops_build() {  # KIT CUDA: builds mmcv with ops in the background (LOGDIR/mmcv_build.*)
    local kit=$1 cuda=$2 src
    src=$(ls "$kit"/src/mmcv-*.tar.gz 2>/dev/null | head -1)
    [ -n "$src" ] || { OPS_NOTE="no mmcv source in $kit/src"; return 0; }
    # MMCV_CUDA=1 on a GPU machine: a failed CUDA check fails, never falls back to CPU ops.
    # nice: the build shares the CPUs with (a)-(c), whose timings must not suffer more than
    # need be. setsid: its own process group, so that it can be stopped with its children.
    PIP_NO_INDEX=1 PIP_FIND_LINKS="$kit/build-tools" MMCV_SRC="$src" PYTHON="$PY" \
        MMCV_VERSION=$("$PY" $HELPER mmcv-version) \
        MMCV_CUDA=$([ "$cuda" = 1 ] && echo 1 || echo auto) \
        setsid nice -n 19 bash -c 'bash tools/build_mmcv.sh >"$1/mmcv_build.out" \
            2>"$1/mmcv_build.log"; echo $? >"$1/mmcv_build.rc"' _ "$LOGDIR" &
    BUILD_PID=$!
    BUILD_START=$(date +%s)
    trap 'kill -- -$BUILD_PID 2>/dev/null || true' EXIT
    log "building mmcv's ops in the background (log: $LOGDIR/mmcv_build.log)"
}

# Waits, while NEED seconds of the budget remain after, for the ops build; installs its
# wheel. Returns 1, with the reason in OPS_NOTE, when mmcv with ops cannot be had in time.
ops_ready() {
    local need=$1
    "$PY" -c 'import mmcv.ops' 2>/dev/null && return 0
    [ -n "$BUILD_PID" ] || return 1
    while [ ! -f "$LOGDIR/mmcv_build.rc" ] && [ $((SECONDS + need)) -lt "$DEADLINE" ]; do
        sleep 5
    done
    local took=$(($(date +%s) - BUILD_START)) title="ops build, in the background"
    if [ ! -f "$LOGDIR/mmcv_build.rc" ]; then
        kill -- -"$BUILD_PID" 2>/dev/null || true
        OPS_NOTE="mmcv's ops build had not finished after $took s, leaving under $need s of"
        OPS_NOTE+=" the ${BUDGET}-s budget for (d)"
        record mmcv "not finished" "$took" "$title" "stopped; $OPS_NOTE"
        return 1
    fi
    local rc wheel
    rc=$(cat "$LOGDIR/mmcv_build.rc")
    took=$(($(stat -c %Y "$LOGDIR/mmcv_build.rc") - BUILD_START))  # when it ended
    if [ "$rc" != 0 ]; then
        OPS_NOTE="mmcv's ops build failed: $(last_error "$LOGDIR/mmcv_build.log")"
        record mmcv failed "$took" "$title" "exit $rc: $(last_error "$LOGDIR/mmcv_build.log")"
        return 1
    fi
    wheel=$(tail -1 "$LOGDIR/mmcv_build.out")
    "$PY" -m pip uninstall -q -y mmcv-lite >> "$LOGDIR/mmcv_build.log" 2>&1 || true
    if ! "$PY" -m pip install -q --no-deps --no-index --force-reinstall "$wheel" \
            >> "$LOGDIR/mmcv_build.log" 2>&1 || ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
        OPS_NOTE="mmcv with ops was built but does not install or import (mmcv_build.log)"
        record mmcv failed "$took" "$title" "$OPS_NOTE"
        return 1
    fi
    record mmcv passed "$took" "$title" "$(grep -o 'built in [0-9]* s' "$LOGDIR/mmcv_build.log" \
        || echo 'from the cache'): $(basename "$wheel")"
}

begin() {  # LOGDIR BUDGET
    # a new folder or an earlier run's: its files are replaced, no others are touched
    if [ -d "$1" ] && [ -n "$(ls -A "$1")" ] && [ ! -f "$1/steps.tsv" ]; then
        die "$1 holds other files: give a new LOGDIR (or an earlier run's)"
    fi
    mkdir -p "$1"
    LOGDIR=$(cd "$1" && pwd)
    BUDGET=$2
    DEADLINE=$((START + BUDGET))
    : > "$LOGDIR/steps.tsv"
    rm -f "$LOGDIR"/mmcv_build.* "$LOGDIR"/*.xml "$LOGDIR"/*.json "$LOGDIR"/*.detail
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")  # checkpoints: not for LOGDIR
}

# KIT SMOKE: sets CUDA (1 or 0) and starts mmcv's ops build, first thing: it is the longest
# step, and needs only torch and the kit, not the kit installed
begin_ops() {
    local kit=$1 smoke=$2
    export PYTHONUNBUFFERED=1
    # torch's extension builder and build_mmcv.sh look for nvcc on PATH or in CUDA_HOME
    if ! command -v nvcc >/dev/null && [ -z "${CUDA_HOME:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]
    then export CUDA_HOME=/usr/local/cuda PATH="/usr/local/cuda/bin:$PATH"; fi
    CUDA=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')
    BUILD_PID="" OPS_NOTE=""
    if "$PY" -c 'import mmcv.ops' 2>/dev/null; then :
    elif [ "$CUDA" = 0 ] && [ "$smoke" = 0 ]; then OPS_NOTE="no CUDA GPU"
    elif [ -z "$kit" ]; then OPS_NOTE="mmcv has no ops and no kit (--kit DIR) to build them from"
    else start_ops_build "$kit" "$CUDA"; fi
}

run_steps() {  # SMOKE
    local smoke=$1 cuda=$CUDA
    environment > "$LOGDIR/environment.txt" 2>&1 || true

    local demo=configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py
    local swin=configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py
    local vit=configs/pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py
    local pytest=("$PY" -m pytest -q -rs -p no:cacheprovider)

    step a 240 "CUDA tests (tests/test_cuda)" \
        "${pytest[@]}" tests/test_cuda \
        "tests/test_tools/test_kill_resume.py::test_resume_reproduces_uninterrupted_run[cuda-2workers]" \
        --junitxml="$LOGDIR/a.xml" --basetemp="$SCRATCH/a"

    local iters=50 log_every=10 precisions=(bf16 fp16) bench=(--device cuda --batch-size 128)
    local compress=(--device cuda --batch-size 64 --rounds 2 --precision bf16)
    local d_need=120 where="on the GPU"  # an estimate: (d) is two 2-iteration trainings
    if [ "$cuda" = 0 ]; then
        if [ "$smoke" = 0 ]; then
            local why="no CUDA GPU (torch.cuda.is_available() is False); --smoke runs it on the CPU"
            record b skipped 0 "demo with AMP, then resumed" "$why"
            record c skipped 0 "benchmarks" "$why"
            record d skipped 0 "Mask R-CNN and UperNet" "$why"
            return 0
        fi
        # --smoke: the same commands, tiny, so that the flow is tried before a GPU is at hand
        iters=2 log_every=1 precisions=(fp32) d_need=900 where="on the CPU (smoke)" CAP_SCALE=5
        bench=(--device cpu --batch-size 1 --trials 1 --warmup 1 --no-memory --no-check)
        compress=(--device cpu --batch-size 1 --trials 1 --warmup 1 --rounds 1 --no-memory
                  --precision fp32)
    fi

    step b 240 "demo, $iters it with AMP, then resumed to $((iters + 10)), $where" \
        bash "$0" _demo "$demo" "$SCRATCH/demo" "$iters" "$log_every" "$LOGDIR/b.detail"

    local model p id
    for model in swin vit; do
        for p in "${precisions[@]}"; do
            id=c_${model}_$p
            if [ "$model" = swin ]; then
                step "$id" 180 "train step Swin-B 192 $p vs mmpretrain, $where" \
                    "$PY" tools/benchmark.py train "$swin" "${bench[@]}" --precision "$p" \
                    --compare mmpretrain --out "$LOGDIR/$id.json"
            else
                step "$id" 180 "train step ViT-B 224 $p (no mmpretrain counterpart), $where" \
                    "$PY" tools/benchmark.py train "$vit" "${bench[@]}" --precision "$p" \
                    --out "$LOGDIR/$id.json"
            fi
        done
    done

    # what compression buys: the teachers and students of the distillation configs, at the
    # fine-tune size (docs/en/useful_tools/benchmark.md's table)
    local pair
    for pair in vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px \
                vit-base-p16-to-vit-tiny-p16_32xb128-amp-300e_in1k-224px \
                swin-base-w6-to-swin-tiny-w6_32xb128-amp-300e_in1k-192px; do
        id=c_compress_${pair%%_*}
        step "$id" 120 "compress ${pair%%_*}, ${compress[-1]}, $where" \
            "$PY" tools/benchmark.py compress "configs/distill/tinymim_$pair.py" \
            "${compress[@]}" --out "$LOGDIR/$id.json"
    done

    # from (b)'s checkpoint: the demo's Swin is the one test_transfer_e2e.py fine-tunes
    local title="Mask R-CNN and UperNet configs, 2 it each + evaluation, $where"
    local checkpoint="$SCRATCH/demo/iter_$((iters + 10)).pth"
    if ! ops_ready "$d_need"; then
        record d "not run" 0 "$title" "needs mmcv's compiled ops: $OPS_NOTE"
    elif [ ! -f "$checkpoint" ]; then
        record d "not run" 0 "$title" "needs (b)'s SimMIM checkpoint, which it did not write"
    else
        step d 300 "$title" "$PY" $HELPER downstream "$SCRATCH/downstream" "$checkpoint"
        if [ "$(tail -1 "$LOGDIR/steps.tsv" | cut -f2)" = passed ]; then
            tail -1 "$LOGDIR/d.log" > "$LOGDIR/d.detail"  # the metrics line
        fi
    fi
}

finish() {
    "$PY" $HELPER summary "$LOGDIR"
    ! cut -f2 "$LOGDIR/steps.tsv" | grep -q -E '^(failed|timed out)$'
}

# (b) as one command, so that step can time it: train, resume, check (internal verb)
demo() {
    local config=$1 work=$2 iters=$3 log_every=$4 detail=$5 more=$(($3 + 10))
    "$PY" tools/train.py "$config" --work-dir "$work" --cfg-options train_cfg.max_iters="$iters" \
        default_hooks.checkpoint.interval="$iters" default_hooks.logger.interval="$log_every"
    "$PY" tools/train.py "$config" --work-dir "$work" --resume --cfg-options \
        train_cfg.max_iters="$more" default_hooks.checkpoint.interval="$more" \
        default_hooks.logger.interval="$log_every"
    "$PY" $HELPER check-demo "$work" "$iters" "$more" | tee "$detail"
}

parse_run_options() {  # sets KIT BUDGET_S SMOKE from --kit DIR --budget-s N --smoke
    KIT="" BUDGET_S=540 SMOKE=0
    while [ $# -gt 0 ]; do
        case $1 in
            --kit) [ $# -ge 2 ] || die "--kit needs DIR"; KIT=$(cd "$2" && pwd); shift 2 ;;
            --budget-s) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--budget-s needs seconds"
                        BUDGET_S=$2; shift 2 ;;
            --smoke) SMOKE=1; shift ;;
            *) die "unknown option $1" ;;
        esac
    done
}

[ $# -ge 1 ] || usage
verb=$1
shift
case $verb in
    prepare) prepare "$@" ;;
    install) install "$@" ;;
    run)
        [ $# -ge 1 ] && [[ $1 != -* ]] || die "run needs LOGDIR"
        logdir=$1
        shift
        parse_run_options "$@"
        begin "$logdir" "$BUDGET_S"
        begin_ops "$KIT" "$SMOKE"
        run_steps "$SMOKE"
        finish ;;
    all)
        [ $# -ge 2 ] && [[ $1 != -* ]] && [[ $2 != -* ]] || die "all needs DIR and LOGDIR"
        kit=$1 logdir=$2
        shift 2
        parse_run_options --kit "$kit" "$@"
        begin "$logdir" "$BUDGET_S"
        begin_ops "$KIT" "$SMOKE"
        step install 300 "install the kit (offline)" bash "$0" install "$KIT"
        if grep -q "^install"$'\t'passed "$LOGDIR/steps.tsv"; then run_steps "$SMOKE"; fi
        finish ;;
    _demo) demo "$@" ;;
    -h|--help|help) usage ;;
    *) echo "gpu_check: unknown command $verb" >&2; usage ;;
esac
