#!/usr/bin/env bash
# Distributed evaluation with torchrun: tools/dist_test.sh CONFIG GPUS [test.py args]
# Generated and real clips are split across the GPUS processes; with a fixed
# --seed the metrics equal those of one process. Multi-node and CPU (gloo) as
# for tools/dist_train.sh.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS --i3d WEIGHTS [--checkpoints ...] [--metrics ...] [--out FILE]" >&2
    exit 2
fi
exec "$(dirname "$0")/dist_run.sh" test.py "$@"
