# Level 3 of the 3-level BDD100K model (section 5.3): unconditional, trained
# on 6/128x128 windows -> 12/256x256; the hierarchy unrolls to 48/256x256.
_base_ = [
    '../_base_/models/upsampling_gan.py',
    '../_base_/datasets/bdd100k.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # Levels 1 and 2, frozen: set both checkpoints, e.g. --cfg-options
    # model.lowres_source.levels.0.checkpoint=... model.lowres_source.levels.1.checkpoint=...
    lowres_source=dict(
        type='FrozenLevels',
        levels=[
            dict(config='{{ fileDirname }}/l1_bdd_12f_64.py', checkpoint=None),
            dict(config='{{ fileDirname }}/l2_bdd_128.py', checkpoint=None),
        ]),
    # 7 units for 4x4 -> 256x256; width as the 128x128 level, one more unit.
    generator=dict(
        num_frames=12, in_size=128, out_size=256,
        channel_mults=(8, 8, 8, 4, 2, 1, 1)),
    discriminator=dict(
        spatial=dict(channel_mults=(1, 2, 4, 8, 16, 16, 16)),
        temporal=dict(channel_mults=(1, 2, 4, 8, 16, 16)),
        matching=dict(channel_mults=(1, 2, 4, 8, 16, 16))))

# The pairs: one 12-frame window at source interval 2 (256x256) and, from the
# same decoded frames, its low-res view x_2 = T(S(x_3)): every 2nd frame
# (source interval 4, level 2's rate), bilinearly downsampled to 128x128.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=2,
         base_fps={{_base_.base_fps}}),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=256),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=256),
    dict(type='LowResView', temporal_stride=2, size=128),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=200000)  # 100k generator iterations
