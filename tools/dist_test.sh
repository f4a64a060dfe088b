#!/usr/bin/env bash
# Distributed evaluation with torchrun: tools/dist_test.sh CONFIG GPUS [test.py args]
# Generated and real clips are split across the GPUS processes; with a fixed
# --seed the metrics equal those of one process. Without CUDA the backend is
# gloo, so this also runs GPUS processes on CPUs.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS --i3d WEIGHTS [--checkpoints ...] [--metrics ...] [--out FILE]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-${PORT:-29500}}
HERE=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
exec python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$MASTER_PORT" \
    --nproc_per_node="$GPUS" \
    "$HERE/test.py" "$CONFIG" --launcher pytorch "${@:3}"
