# A small level 2 on the sample clips, for the README demo: 4/32x32 windows of
# the demo level 1 (demo_l1_clips) -> 8/64x64. Unrolled over the level-1
# output (12 frames) it gives 24 frames of 64x64.
_base_ = [
    '../_base_/models/upsampling_gan.py',
    '../_base_/datasets/sample_clips.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_classes = 3

model = dict(
    num_classes=num_classes,
    # tools/demo.py sets the checkpoint of the level 1 it has just trained.
    lowres_source=dict(
        type='FrozenLevels',
        levels=[dict(config='{{ fileDirname }}/demo_l1_clips.py', checkpoint=None)]),
    # Departures from the paper, measured in docs/quality.md: as level 1's
    # (plain class embedding and conditional-BatchNorm layers, DiffAugment),
    # and residual_spectral_norm=False: plain 1x1 convs for the low-res
    # residuals, initialised at unit scale per channel; normalised, each of
    # the C channels gets ~1/sqrt(C) of the input and level 2 learns to
    # follow its input several times more slowly; and residual_resize='area':
    # each residual averages the low-res pixels of its cells, where the
    # paper's nearest downsampling takes their top-left pixel, so that the
    # top-left location of every residual is the input's corner pixel and
    # the samples had a bright spot there (error 0.36 against 0.17 on
    # average; 0.15 with 'area', the same grounding and FVD); and
    # padding_mode='reflect': the 3x3 convolutions pad each frame's features
    # with their own reflection where the paper's 'same' convolutions pad with
    # zeros, a border no frame has; with zeros the first and last columns of
    # level 2's outputs erred twice as much as the rest (0.30 / 0.35 against
    # 0.16 on real inputs; 0.17 / 0.16 against 0.16 with 'reflect').
    augment=dict(type='DiffAugment', policy=('color', 'translation', 'cutout')),
    generator=dict(
        num_frames=8, in_size=32, out_size=64, base_channels=8,
        channel_mults=(4, 4, 2, 2, 1), noise_dim=64, class_embed_dim=32,
        embed_spectral_norm=False, cbn_spectral_norm=False,
        residual_spectral_norm=False, residual_resize='area', padding_mode='reflect'),
    discriminator=dict(
        spatial=dict(base_channels=8, channel_mults=(1, 2, 4, 4, 4),
                     num_sampled_frames=4),
        temporal=dict(base_channels=8, channel_mults=(1, 2, 4, 4)),
        matching=dict(base_channels=8, channel_mults=(1, 2, 4, 4))))

# The pairs: 4 frames 32x32 -> 8 frames 64x64. One 8-frame window at source
# interval 2 (64x64) and, from the same decoded frames, its low-res view
# x_1 = T(S(x_2)): every 2nd frame (source interval 4, the level-1 demo's rate),
# bilinearly downsampled to 32x32 (its resolution). The decoded copies have a
# 64-pixel short side, so Resize is then a no-op on it.
train_pipeline = [
    # The three decoded clips (11 MiB) kept in memory: opening and decoding
    # a clip each draw cost the loader worker one core's 0.15 s per batch,
    # taken from the training step (docs/benchmarks.md); the same frames.
    dict(type='DecordInit', cache_mib=64),
    dict(type='SampleFrames', clip_len=8, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]

# DVD-GAN's learning rates, 4x larger for the short demo schedule.
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=4e-4)),
    discriminator=dict(optimizer=dict(lr=1e-3)))

# Batch 4: a 64x64 step costs twice the level-1 step on 2 CPU cores.
train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(pipeline=train_pipeline))

# Level 2 learns to follow its input quickly once its residuals are plain
# (docs/quality.md): most of the demo's time goes to level 1.
train_cfg = dict(max_iters=300)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=60, max_keep_ckpts=5),
    samples=dict(interval=150, num_samples=6, fps=6))
log_processor = dict(window_size=20)
randomness = dict(seed=0)
