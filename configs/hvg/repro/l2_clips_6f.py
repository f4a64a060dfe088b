# Small-setting ablation (issue #12, docs/reproduction.md): the demo level 2
# (demo_l2_clips.py) trained on 6/32x32 windows of the demo level 1 -> 12/64x64,
# with the matching discriminator. The only change from the demo level 2 is the
# window (generator.num_frames and the clip the pipeline samples): the
# 6-frame setting of the paper's level 2 (l2_kinetics_6f.py), at demo scale.
# Unrolled over the level-1 output (12 frames) it gives 24 frames of 64x64.
_base_ = ['../demo_l2_clips.py']

model = dict(generator=dict(num_frames=12))

# demo_l2_clips.py's pipeline, SampleFrames' clip_len = 12 (was 8).
train_pipeline = [
    dict(type='DecordInit', cache_mib=64),
    dict(type='SampleFrames', clip_len=12, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
