#!/usr/bin/env bash
# Evaluate on a Slurm cluster: tools/slurm_test.sh PARTITION JOB_NAME CONFIG GPUS [test.py args]
# One task per GPU (generated and real clips split across them, the numbers of
# one process for a fixed --seed); GPUS_PER_NODE (default 8, or GPUS if fewer)
# tasks per node, CPUS_PER_TASK (default 5) cores each. Extra srun options go
# in SRUN_ARGS. CONFIG may be '' to evaluate --checkpoints alone.
# tools/slurm_test.sh gpu eval_k600 configs/hvg/hvg2_kinetics_48f_128.py 8 \
#     --checkpoints L1.pth L2.pth --metrics fvd is --i3d work_dirs/i3d/i3d_k400.pth
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG GPUS [--checkpoints ...] [--metrics ...] ..." >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=$4
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
HERE=$(cd "$(dirname "$0")" && pwd)
CONFIG_ARG=()
if [ -n "$CONFIG" ]; then CONFIG_ARG=("$CONFIG"); fi

# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    python -u "$HERE/test.py" "${CONFIG_ARG[@]}" --launcher slurm "${@:5}"
