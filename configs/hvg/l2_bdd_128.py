# Level 2 of the BDD100K models (sections 5.3, B.2): unconditional, trained on
# 6/64x64 windows -> 12/128x128. With l1_bdd_12f_64 it is the 2-level BDD100K
# 128x128 model (unrolls to 24/128x128); with l3_bdd_256 on top, the 3-level
# 48/256x256 model. The paper gives one BDD 128x128 architecture for both.
_base_ = [
    '../_base_/models/upsampling_gan.py',
    '../_base_/datasets/bdd100k.py',
    '../_base_/schedules/gan_adam.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # Level 1, frozen: set its checkpoint, e.g. --cfg-options
    # model.lowres_source.levels.0.checkpoint=work_dirs/l1_bdd_12f_64/iter_200000.pth
    lowres_source=dict(
        type='FrozenLevels',
        levels=[dict(config='{{ fileDirname }}/l1_bdd_12f_64.py', checkpoint=None)]),
    generator=dict(num_frames=12, in_size=64, out_size=128),
    discriminator=dict(
        # the matching D sees 64x64 pairs: one more downsampling block
        matching=dict(channel_mults=(1, 2, 4, 8, 16))))

# The pairs: one 12-frame window at source interval 4 (128x128) and, from the
# same decoded frames, its low-res view x_1 = T(S(x_2)): every 2nd frame
# (source interval 8, level 1's rate), bilinearly downsampled to 64x64.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=4,
         base_fps={{_base_.base_fps}}),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=128),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=128),
    dict(type='LowResView', temporal_stride=2, size=64),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=200000)  # 100k generator iterations
