# Level 1 of the 2-level Kinetics-600 model (section 5.2): class-conditional,
# 24 frames of 32x32 at temporal subsampling 8.
_base_ = [
    '../_base_/models/level1_gan.py',
    '../_base_/datasets/kinetics600.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_classes = 600
num_frames = 24

model = dict(num_classes=num_classes,
             generator=dict(num_frames=num_frames, out_size=32))

# The clip: 24 frames at source interval 8 (25-fps frames), 32x32.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=8,
         base_fps={{_base_.base_fps}}),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=32),
    dict(type='PackVideoInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=600000)  # 300k generator iterations
