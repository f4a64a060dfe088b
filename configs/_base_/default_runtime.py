# Runtime shared by every HVG config: scope, hooks, logging, environment.
default_scope = 'hvg'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook, crash-safe: atomic writes, old checkpoints
    # removed only after the new one is complete, resume falls back to the
    # newest checkpoint that loads (hvg/engine/hooks/safe_checkpoint_hook.py).
    checkpoint=dict(
        type='SafeCheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Checkpoints load with torch.load(weights_only=True): no pickled objects.
    weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook'),
    # Checkpoints carry every rank's RNG states; --resume continues exactly.
    exact_resume=dict(type='ExactResumeHook'),
    # A NaN/inf loss or gradient stops the run (action='skip' skips the step).
    nonfinite_guard=dict(type='NonFiniteGuardHook', action='stop'),
    # Broken videos are skipped; each is logged once and listed in
    # {work_dir}/bad_videos.txt; more than 10% failed reads stop the run.
    read_failures=dict(
        type='VideoReadFailureHook', max_fail_fraction=0.1, min_reads=100),
    # Fixed-noise sample grids (GIF + MP4) in {work_dir}/samples.
    samples=dict(type='VideoSamplesHook', interval=5000, num_samples=16, fps=8))

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is not available.
    dist_cfg=dict(backend='nccl'))

# Each sub-network gets its own DDP wrapper: the level's train_step drives them.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# Scalars (losses, metrics) and the sample grids go to every vis backend:
# LocalVisBackend writes {work_dir}/{timestamp}/vis_data/ (scalars.json, which
# tools/analysis/analyze_logs.py plots, and vis_image/). Add TensorBoard or
# W&B with tools/train.py --vis-backends tensorboard [wandb] (pip install
# tensorboard / wandb), or list them here.
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
# 'quiet': the console shows the run (config, work dir, log file), warnings and
# the iteration logs; the environment, config and hook order go to the log file
# only. 'verbose' (tools/train.py --verbose): mmengine's console, all of it.
console_log = 'quiet'
load_from = None
resume = False
randomness = dict(seed=None)
