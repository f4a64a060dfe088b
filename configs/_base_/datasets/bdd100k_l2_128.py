# BDD100K pairs for upsampling level 2: 6 frames 64x64 -> 12 frames 128x128.
# Partial views: one 12-frame window at source interval 4 (128x128) and, from
# the same decoded frames, its low-res view x_1 = T(S(x_2)): every 2nd frame
# (source interval 8, level 1's rate), bilinearly downsampled to 64x64.
# Data: the official zip unpacked, data_root/videos/train/*.mov (the 70K
# training videos); set train_dataloader.dataset.ann_file to a list from
# tools/data/bdd100k/build_file_lists.py to train on a cleaned subset.
dataset_type = 'BDD100KDataset'
# Temporal subsampling counts frames of a 30-fps video (BDD100K's rate).
base_fps = 30
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames', clip_len=12, frame_interval=4,
        base_fps=base_fps),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=128),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=128),
    dict(type='LowResView', temporal_stride=2, size=64),  # x_1 = T(S(x_2))
    dict(
        type='PackVideoInputs',
        input_keys=dict(highres='imgs', lowres='lowres_imgs')),
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
        split='train',
        pipeline=train_pipeline))
