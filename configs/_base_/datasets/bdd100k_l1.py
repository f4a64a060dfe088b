# BDD100K clips for level 1: 12 frames, temporal subsampling 8, 64x64.
# Annotation list: one `relative/path.mov` per line (unconditional: no label).
dataset_type = 'VideoDataset'
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=8),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=64),
    dict(type='PackVideoInputs'),
]

# Paper: batch 512 over 128 GPUs for the 3-level model, i.e. 4 clips per GPU.
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/bdd100k_train_list.txt',
        pipeline=train_pipeline))
