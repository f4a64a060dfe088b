# Kinetics-600 clips for level 1: 24 frames, temporal subsampling 8, 32x32.
# Annotation list: one `relative/path.mp4 label` per line (0..599).
dataset_type = 'VideoDataset'
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=24, frame_interval=8),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=32),
    dict(type='PackVideoInputs'),
]

# Paper: batch 512 over 64 GPUs, i.e. 8 clips per GPU.
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/kinetics600_train_list.txt',
        pipeline=train_pipeline))
