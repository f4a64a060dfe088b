# Level 2 of the 2-level Kinetics-600 model (section 5.2): trained on 6/32x32
# windows -> 12/128x128; unrolled over level 1's 24 frames it gives 48/128x128.
_base_ = [
    '../_base_/models/upsampling_gan.py',
    '../_base_/datasets/kinetics600_l2_6f.py',
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
    generator=dict(num_frames=12, in_size=32, out_size=128))

train_cfg = dict(max_iters=600000)  # 300k generator iterations
