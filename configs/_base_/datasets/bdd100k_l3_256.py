# BDD100K pairs for upsampling level 3: 6 frames 128x128 -> 12 frames 256x256.
# Partial views: one 12-frame window at source interval 2 (256x256) and, from
# the same decoded frames, its low-res view x_2 = T(S(x_3)): every 2nd frame
# (source interval 4, level 2's rate), bilinearly downsampled to 128x128.
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
        type='SampleFrames', clip_len=12, frame_interval=2,
        base_fps=base_fps),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=256),  # S: bilinear spatial downsampling
    dict(type='RandomCrop', size=256),
    dict(type='LowResView', temporal_stride=2, size=128),  # x_2 = T(S(x_3))
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
