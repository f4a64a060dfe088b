# Kinetics-600, for every level: the dataset and the loader. The clip shape
# (frames, frame interval, sizes, the low-res view of an upsampling level) is
# the level's own and is set by its config, next to the generator's sizes, as
# `train_pipeline` (tools/train.py checks that the two agree).
# Data: the official CSVs and the downloaded clips, laid out as in docs/data.md
# (data_root/annotations/{train,validate}.csv, data_root/videos/train/**/
# {youtube_id}_{start:06d}_{end:06d}.mp4, and the class index written by
# tools/data/kinetics/build_file_lists.py).
dataset_type = 'KineticsDataset'
# Temporal subsampling counts frames of a 25-fps video (docs/data.md): a
# 30-fps source steps 9.6 source frames per level-1 frame, a 25-fps one 8.
base_fps = 25
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

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
        # Rows annotated shorter than the clip's span (that of the level's
        # SampleFrames) are left out at start-up; clips that turn out shorter
        # on disk are skipped at read.
        min_duration='auto',
        pipeline=None))  # the level config's train_pipeline
