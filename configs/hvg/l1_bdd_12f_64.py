# Level 1 of the 3-level BDD100K model (section 5.3): unconditional,
# 12 frames of 64x64 at temporal subsampling 8.
_base_ = [
    '../_base_/models/level1_gan.py',
    '../_base_/datasets/bdd100k.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_frames = 12

# 5 units for 4x4 -> 64x64; discriminators get one more downsampling block.
model = dict(
    generator=dict(
        num_frames=num_frames, out_size=64, channel_mults=(8, 8, 8, 4, 2)),
    discriminator=dict(
        spatial=dict(channel_mults=(2, 4, 8, 16, 16)),
        temporal=dict(channel_mults=(2, 4, 8, 16, 16))))

# The clip: 12 frames at source interval 8 (30-fps frames), 64x64.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=8,
         base_fps={{_base_.base_fps}}),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=64),
    dict(type='PackVideoInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=200000)  # 100k generator iterations
