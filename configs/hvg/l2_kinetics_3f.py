# Temporal-window ablation (section 5.4): level 2 trained on 3/32x32 windows
# -> 6/128x128 instead of 6 -> 12. The paper: ~2x less memory, worse samples.
_base_ = [
    '../_base_/models/upsampling_gan.py',
    '../_base_/datasets/kinetics600.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

num_classes = 600

model = dict(
    num_classes=num_classes,
    # Level 1, frozen: set its checkpoint, e.g. --cfg-options
    # model.lowres_source.levels.0.checkpoint=work_dirs/l1_kinetics_24f_32/iter_600000.pth
    lowres_source=dict(
        type='FrozenLevels',
        levels=[dict(config='{{ fileDirname }}/l1_kinetics_24f_32.py', checkpoint=None)]),
    generator=dict(num_frames=6, in_size=32, out_size=128))

# The pairs, 3f setting: one 6-frame window at source interval 4 (128x128)
# and its low-res view x_1 = T(S(x_2)): every 2nd frame (source interval 8,
# level 1's rate), bilinearly downsampled to 32x32.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=6, frame_interval=4,
         base_fps={{_base_.base_fps}}),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=128),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=128),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=600000)  # 300k generator iterations
