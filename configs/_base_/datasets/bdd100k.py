# BDD100K, for every level: the dataset and the loader. The clip shape
# (frames, frame interval, sizes, the low-res view of an upsampling level) is
# the level's own and is set by its config, next to the generator's sizes, as
# `train_pipeline` (tools/train.py checks that the two agree).
# Data: the official zip unpacked, data_root/videos/train/*.mov (the 70K
# training videos); set train_dataloader.dataset.ann_file to a list from
# tools/data/bdd100k/build_file_lists.py to train on a cleaned subset.
dataset_type = 'BDD100KDataset'
# Temporal subsampling counts frames of a 30-fps video (BDD100K's rate).
base_fps = 30
data_root = None  # set by user: --cfg-options train_dataloader.dataset.data_root=...

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
        pipeline=None))  # the level config's train_pipeline
