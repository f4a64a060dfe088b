#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on every node.
# Without CUDA the backend is gloo, so this also runs GPUS processes on CPUs.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [--work-dir DIR] [--resume] [--cfg-options ...]" >&2
    exit 2
fi
exec "$(dirname "$0")/dist_run.sh" train.py "$@"
