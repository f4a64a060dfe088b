# Kinetics-600 pairs for upsampling level 2, 3f setting: 3 frames 32x32
# -> 6 frames 128x128. Partial views: one 6-frame window at source
# interval 4 (128x128) and, from the same decoded frames, its low-res view
# x_1 = T(S(x_2)): every 2nd frame (source interval 8, level 1's rate),
# bilinearly downsampled to 32x32.
# Data: the official CSVs and the downloaded clips, laid out as in docs/data.md
# (data_root/annotations/{train,validate}.csv, data_root/videos/train/**/
# {youtube_id}_{start:06d}_{end:06d}.mp4, and the class index written by
# tools/data/kinetics/build_file_lists.py).
dataset_type = 'KineticsDataset'
# Temporal subsampling counts frames of a 25-fps video (docs/data.md): a
# 30-fps source steps 9.6 source frames per level-1 frame, a 25-fps one 8.
base_fps = 25
clip_seconds = (6 - 1) * 4 / base_fps  # 0.8 s between first and last frame
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames', clip_len=6, frame_interval=4,
        base_fps=base_fps),
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
        ann_file='annotations/train.csv',
        video_dir='videos/train',
        # None: the sorted label names of train.csv, the index that
        # tools/data/kinetics/build_file_lists.py writes to
        # annotations/kinetics600_classes.txt (point val/test sets there).
        classes=None,
        num_classes=600,
        # Rows annotated shorter than the clip's span are left out at
        # start-up; clips that turn out shorter on disk are skipped at read.
        min_duration=clip_seconds,
        pipeline=train_pipeline))
