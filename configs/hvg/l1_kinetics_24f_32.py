# Level 1 of the 2-level Kinetics-600 model (section 5.2): class-conditional,
# 24 frames of 32x32 at temporal subsampling 8.
_base_ = [
    '../_base_/models/level1_gan.py',
    '../_base_/datasets/kinetics600_l1.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_classes = 600
num_frames = 24

model = dict(num_classes=num_classes,
             generator=dict(num_frames=num_frames, out_size=32))

train_cfg = dict(max_iters=600000)  # 300k generator iterations
