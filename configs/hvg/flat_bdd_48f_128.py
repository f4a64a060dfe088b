# A flat, one-level (non-hierarchical) baseline: 48/128x128 generated directly,
# the "non-hierarchical model" of section 5.3 / Figure 5 (DVD-GAN-like).
# It is level 1 of the BDD100K hierarchy (l1_bdd_12f_64: ConvGRU generator,
# spatial + temporal discriminators, ch=96) with one more unit at 128x128, at
# BigGAN/DVD-GAN's 128x128 multipliers: G 8,8,8,4,2,1 (6 units, 4x4 -> 128x128),
# D 1,2,4,8,16,16 (the same discriminators as l2_bdd_128's, no matching D).
# Frame rate: source interval 4, that of the 2-level BDD model's output
# (l2_bdd_128). tools/analysis/memory_scaling.py sweeps num_frames.
_base_ = [
    '../_base_/models/level1_gan.py',
    '../_base_/datasets/bdd100k.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_frames = 48

model = dict(
    generator=dict(
        num_frames=num_frames, out_size=128, channel_mults=(8, 8, 8, 4, 2, 1)),
    discriminator=dict(
        spatial=dict(channel_mults=(1, 2, 4, 8, 16, 16)),
        temporal=dict(channel_mults=(1, 2, 4, 8, 16, 16))))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=128),
    dict(type='RandomCrop', size=128),
    dict(type='PackVideoInputs'),
]
# 48 frames of 128x128 per clip: one clip per GPU (section 5.3's
# "a batch with a single example" for the end-to-end model).
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=200000)  # 100k generator iterations
