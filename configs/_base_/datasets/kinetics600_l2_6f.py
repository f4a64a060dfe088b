# Kinetics-600 pairs for upsampling level 2, 6f setting: 6 frames 32x32
# -> 12 frames 128x128. Partial views: one 12-frame window at source
# interval 4 (128x128) and, from the same decoded frames, its low-res view
# x_1 = T(S(x_2)): every 2nd frame (source interval 8, level 1's rate),
# bilinearly downsampled to 32x32.
# Annotation list: one `relative/path.mp4 label` per line (0..599).
dataset_type = 'VideoDataset'
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=4),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=128),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=128),
    dict(type='LowResView', temporal_stride=2, size=32),  # x_1 = T(S(x_2))
    dict(
        type='PackVideoInputs',
        input_keys=dict(highres='imgs', lowres='lowres_imgs')),
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
