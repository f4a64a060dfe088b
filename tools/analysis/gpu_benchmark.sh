#!/usr/bin/env bash
# One prepared GPU benchmark: tools/analysis/gpu_benchmark.sh OUT_DIR [--dry-run]
#     [--peak-tflops X]
#
# Writes OUT_DIR/gpu_benchmark.json and OUT_DIR/gpu_benchmark.md (and each step's
# log and raw JSON lines), on one GPU, with synthetic clips (no dataset needed):
#   1. a 1-GPU torchrun training run of l2_kinetics_6f through tools/dist_train.sh
#      (NCCL, synchronized BatchNorm on, --amp), a few iterations, paper width, batch 8;
#   2. benchmark_train.py for l1_kinetics_24f_32, l2_kinetics_6f, l2_kinetics_3f and
#      l3_bdd_256 at paper width, batch 8: s/iter, clips/s, peak memory, FLOPs of a
#      D/G cycle and MFU, in fp32 and with --amp;
#   3. memory_scaling.py (paper Figure 5) at full width, 12 to 96 output frames;
#   4. benchmark_sampling.py: the 2-level Kinetics hierarchy at 48/128x128, random
#      weights (speed does not depend on their values);
#   5. benchmark_metrics.py: I3D clips/s (random weights).
# Every step has its own time limit; a failed step is reported, the others still run.
# --dry-run: the same steps on the CPU (CUDA hidden, so gloo) at width 2, batch 1,
# one D/G cycle, one of the four levels, one frame count: checks the script in a
# couple of minutes; its figures mean nothing.
set -uo pipefail
usage="usage: $0 OUT_DIR [--dry-run] [--peak-tflops X]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
OUT=$1; shift
DRY=0; PEAK=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1; shift ;;
        --peak-tflops) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
                       PEAK=(--peak-tflops "$2"); shift 2 ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{train,dist_train,sampling,metrics}.jsonl "$OUT/steps.tsv"
# checkpoints and sample videos of the torchrun run stay out of OUT_DIR
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvg_gpu_benchmark.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

CONFIGS=(l1_kinetics_24f_32 l2_kinetics_6f l2_kinetics_3f l3_bdd_256)
if [ $DRY = 1 ]; then
    export CUDA_VISIBLE_DEVICES=""  # the CPU even on a GPU machine: gloo, not NCCL
    # one of the four levels, the one with all three discriminators: on 2 CPU
    # cores l3_bdd_256 takes minutes even at width 2, and level 1's bf16 step is
    # ~20 s (no native bf16 on such CPUs; its bf16 step is unit-tested instead)
    CONFIGS=(l2_kinetics_3f)
    DEVICE=cpu; BATCH=1; WIDTH=(--base-channels 2); ITERS=2; WARMUP=0; DIST_ITERS=2
    MEM=(--frames 12 --width 0.02 --warmup-cycles 0 --no-exact-rss)
    SAMPLING=(--batch-size 1 --repeats 1 --bn-passes 1); I3D=(--batch-size 1 --repeats 1)
    LIMIT=300
else
    DEVICE=cuda; BATCH=8; WIDTH=(); ITERS=4; WARMUP=2; DIST_ITERS=6
    MEM=(--frames 12 24 48 72 96)
    SAMPLING=(--batch-size 8 --repeats 3 --bn-passes 2); I3D=(--batch-size 8 --repeats 5)
    LIMIT=150
fi

step() {  # step NAME LIMIT_S COMMAND...: run with a time limit, log, record the exit
    local name=$1 limit=$2; shift 2
    local start=$SECONDS
    echo "== $name (limit ${limit}s)" >&2
    timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" >>"$OUT/steps.tsv"
    [ $rc = 0 ] || { echo "   $name failed (exit $rc): tail of $OUT/$name.log" >&2
                     tail -5 "$OUT/$name.log" >&2; }
}

options() {  # options CONFIG [--synthetic-data]: the --cfg-options tokens of a level
    python "$HERE/gpu_benchmark.py" options "configs/hvg/$1.py" "${WIDTH[@]}" "${@:2}"
}

# 1. torchrun, one GPU, NCCL (gloo in the dry run), sync BN, --amp
DIST_CFG=l2_kinetics_6f
mapfile -t DIST_OPTS < <(options $DIST_CFG --synthetic-data --batch-size $BATCH)
step dist_train $((LIMIT + 60)) "$REPO/tools/dist_train.sh" "configs/hvg/$DIST_CFG.py" 1 \
    --amp --work-dir "$WORK/dist_train" --cfg-options "${DIST_OPTS[@]}" \
    train_cfg.max_iters=$DIST_ITERS default_hooks.logger.interval=1 \
    default_hooks.checkpoint.interval=100000 default_hooks.samples.interval=0 \
    default_hooks.samples.num_samples=2
BACKEND=$([ $DRY = 1 ] && echo gloo || echo nccl)
python -c "import json,sys; print(json.dumps(dict(config=sys.argv[1], gpus=1, \
backend=sys.argv[2], flags='--amp, sync BN', rc=int(sys.argv[3]), work_dir=sys.argv[4])))" \
    "configs/hvg/$DIST_CFG.py" "$BACKEND" "$(tail -1 "$OUT/steps.tsv" | cut -f2)" \
    "$WORK/dist_train" >>"$OUT/dist_train.jsonl"

# 2. the training step of every level, fp32 and --amp
for name in "${CONFIGS[@]}"; do
    mapfile -t OPTS < <(options "$name")
    step "train_$name" $LIMIT python "$HERE/benchmark_train.py" "configs/hvg/$name.py" \
        --device $DEVICE --batch-size $BATCH --iters $ITERS --warmup $WARMUP \
        --precision fp32 amp --flops --json "$OUT/train.jsonl" \
        ${OPTS[@]+--cfg-options "${OPTS[@]}"}
done

# 3. memory against output frames (Figure 5)
step memory_scaling $((LIMIT + 60)) python "$HERE/memory_scaling.py" "${MEM[@]}" \
    --device $DEVICE --out-dir "$OUT/memory_scaling"

# 4. sampling the 2-level Kinetics hierarchy, 48/128x128, random weights
LEVEL_OPTS=()
[ $DRY = 1 ] && LEVEL_OPTS=(--cfg-options model.generator.base_channels=2 \
    model.discriminator.spatial.base_channels=2 model.discriminator.temporal.base_channels=2 \
    model.discriminator.matching.base_channels=2)
step sampling $LIMIT python "$HERE/benchmark_sampling.py" configs/hvg/hvg2_kinetics_48f_128.py \
    --random-weights --device $DEVICE "${SAMPLING[@]}" --json "$OUT/sampling.jsonl" \
    "${LEVEL_OPTS[@]}"

# 5. I3D feature extraction
step i3d $LIMIT python "$HERE/benchmark_metrics.py" --device $DEVICE "${I3D[@]}" \
    --skip frechet tfhub top5 --json "$OUT/metrics.jsonl"

DRY_FLAG=(); [ $DRY = 1 ] && DRY_FLAG=(--dry-run)
python "$HERE/gpu_benchmark.py" report "$OUT" "${PEAK[@]}" "${DRY_FLAG[@]}"
