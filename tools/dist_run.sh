#!/usr/bin/env bash
# torchrun for one of our tools: tools/dist_run.sh SCRIPT CONFIG GPUS [script args]
# (what tools/dist_train.sh and tools/dist_test.sh run). Multi-node: set
# NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on every node. Without CUDA
# the backend is gloo, so this also runs GPUS processes on CPUs.
set -euo pipefail
SCRIPT=$1
CONFIG=$2
GPUS=$3
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
    "$HERE/$SCRIPT" "$CONFIG" --launcher pytorch "${@:4}"
