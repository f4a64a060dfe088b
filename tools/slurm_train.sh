#!/usr/bin/env bash
# Train on a Slurm cluster: tools/slurm_train.sh PARTITION JOB_NAME CONFIG GPUS [train.py args]
# One task per GPU; GPUS_PER_NODE (default 8, or GPUS if fewer) tasks per node,
# CPUS_PER_TASK (default 5) cores each (DataLoader workers). Extra srun options
# go in SRUN_ARGS, e.g. SRUN_ARGS="--time=72:00:00 --qos=high".
# The paper's level 2: tools/slurm_train.sh gpu l2_k600 configs/hvg/l2_kinetics_6f.py 64
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG GPUS [--work-dir DIR] [--resume] [--cfg-options ...]" >&2
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
    python -u "$HERE/train.py" "$CONFIG" --launcher slurm "${@:5}"
