# Small-setting ablation (issue #12, docs/reproduction.md): the demo level 2
# (demo_l2_clips.py) trained on 3/32x32 windows of the demo level 1 -> 6/64x64,
# with the matching discriminator. The only change from the demo level 2 is the
# window (generator.num_frames and the clip the pipeline samples), as
# l2_kinetics_3f.py's is from the paper's 6-frame level 2 (Table 3).
# Unrolled over the level-1 output (12 frames) it gives 24 frames of 64x64.
_base_ = ['../demo_l2_clips.py']

model = dict(generator=dict(num_frames=6))

# demo_l2_clips.py's pipeline, SampleFrames' clip_len = 6 (was 8).
train_pipeline = [
    dict(type='DecordInit', cache_mib=64),
    dict(type='SampleFrames', clip_len=6, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_{l-1} = T(S(x_l))
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
