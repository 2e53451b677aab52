#!/usr/bin/env bash
# The project's own GPU check, on the GPU machine lent to its sessions (Python 3.12, its own
# CUDA torch, no network; the working tree travels with at most 64 MiB of ignored paths).
# Users run tools/gpu_check.sh directly; this only fixes what our lent machine needs:
#
#   bash .dev_scripts/gpu_check/device_run.sh prepare   # here, with PyPI: .gpukit, small
#   bash .dev_scripts/gpu_check/device_run.sh command   # what to run there
#
# prepare leaves out of the kit what the lent machine already has (lent_gpu_packages.txt);
# command prints the device run's command line: it carries .gpukit, installs it, runs every
# check within a budget that leaves the run's 600-s limit some slack, and writes the logs
# where the run brings files back ($OUT).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=.dev_scripts/gpu_check
CARRY_MIB=64

case ${1:-} in
    prepare)
        bash tools/gpu_check.sh prepare .gpukit --python-version 3.12 \
            --node-has "$HERE/lent_gpu_packages.txt"
        size=$(du -sm .gpukit | cut -f1)
        if [ "$size" -ge "$CARRY_MIB" ]; then
            echo "device_run: .gpukit is $size MiB, over the $CARRY_MIB MiB a run carries" >&2
            exit 1
        fi ;;
    command)
        echo 'PYTHON=python3 bash tools/gpu_check.sh all .gpukit "$OUT/gpu_logs" --budget-s 540'
        echo '# carry: .gpukit; timeout_s: 590; the table: gpu_logs/summary.md' ;;
    *)
        grep '^#   bash ' "$HERE/device_run.sh" | sed 's/^#   //' >&2
        exit 2 ;;
esac
