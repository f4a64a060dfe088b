"""Real clips of a level for evaluation: deterministic, seeded, split across ranks.

Level ``l``'s real clips come from its own config's ``train_dataloader.dataset``
with an evaluation pipeline: the generated length at the level's frame
interval (its ``SampleFrames``), the short side resized (bilinear) and
centre-cropped to the generated resolution, no flip; with ``lowres`` also
the level's real input ``x_{l-1} = T(S(x_l))`` (``LowResView``, as training
pairs are made). Clip ``i`` starts at a seeded random offset, whatever the
rank or loader worker (``SeededClips``). ``save_arrays``
(``hvg.utils.atomic_files``) writes the cache of their statistics
(``evaluate.real_statistics`` reads it).
"""
from typing import Iterator, Optional, Sequence, Union

import numpy as np
from mmengine.config import Config
from mmengine.dist import get_dist_info
from torch.utils.data import DataLoader, Dataset

from hvg.utils.atomic_files import save_arrays  # noqa: F401  (the cache's writer)


LevelConfig = Union[str, Config]


def as_config(level_config: LevelConfig) -> Config:
    """A level's config from its file, or as it is (e.g. the one its checkpoint stores)."""
    return level_config if isinstance(level_config, Config) else Config.fromfile(level_config)


def frame_interval_of(level_config: LevelConfig) -> int:
    """A level's temporal subsampling (its ``SampleFrames``)."""
    cfg = as_config(level_config)
    for step in cfg.train_dataloader.dataset.get('pipeline', []):
        if step.get('type') == 'SampleFrames':
            return int(step.get('frame_interval', 1))
    return 1


def eval_dataset_cfg(level_config: LevelConfig, num_frames: int, size: int,
                     data_root: Optional[str] = None, ann_file: Optional[str] = None,
                     lowres: Optional[tuple] = None) -> dict:
    """The level's dataset with the evaluation pipeline (module docstring).

    Args:
        level_config: the level's training config (a file or a ``Config``).
        num_frames, size: the generated clips' length and square resolution.
        data_root, ann_file: override the config's.
        lowres: ``(temporal_stride, size)`` to add ``x_{l-1}``: items' inputs
            are then ``{'highres', 'lowres'}``.
    """
    cfg = as_config(level_config)
    dataset = cfg.train_dataloader.dataset.to_dict()
    if data_root:
        dataset['data_root'] = data_root
    if ann_file:
        dataset['ann_file'] = ann_file
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=num_frames,
             frame_interval=frame_interval_of(level_config), random_offset=True),
        dict(type='DecordDecode'),
        dict(type='Resize', short_side=size),
        dict(type='CenterCrop', size=size),
    ]
    if lowres is None:
        pipeline.append(dict(type='PackVideoInputs', meta_keys=('label', )))
    else:
        stride, low_size = lowres
        pipeline += [dict(type='LowResView', temporal_stride=int(stride), size=int(low_size)),
                     dict(type='PackVideoInputs', meta_keys=('label', ),
                          input_keys=dict(highres='imgs', lowres='lowres_imgs'))]
    dataset['pipeline'] = pipeline
    return dataset


def training_pairs_cfg(level_config: LevelConfig) -> dict:
    """An upsampling level's real ``(x_l, x_{l-1})`` pairs at its training window.

    ``eval_dataset_cfg`` at the generator's ``num_frames`` and ``out_size``,
    with the low-res view at its ``temporal_factor`` and ``in_size``: the
    pairs a level can be scored on by itself, independently of any level 1.
    """
    gen = as_config(level_config).model.generator
    return eval_dataset_cfg(level_config, gen.num_frames, gen.out_size,
                            lowres=(gen.get('temporal_factor', 2), gen.in_size))


class SeededClips(Dataset):
    """Item ``i`` of the real set: a fixed clip whatever the rank or worker.

    ``dict(index=i, video=inputs, label=c)``; ``inputs`` is a ``(3, T, H, W)``
    uint8 tensor, or ``{'highres', 'lowres'}`` for pairs.
    """

    def __init__(self, dataset, indices, seed: int, classes=None):
        self.dataset, self.indices, self.seed = dataset, list(indices), seed
        order = np.random.RandomState(seed).permutation(len(dataset))
        if classes:
            wanted = set(classes)
            order = [i for i in order if dataset.get_data_info(i)['label'] in wanted]
            if not order:
                raise ValueError(f'no real clip has a label in {sorted(wanted)}')
        self.order = order

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> dict:
        i = self.indices[k]
        np.random.seed((self.seed * 1000003 + i) % 2**32)  # the clip's start
        item = self.dataset[int(self.order[i % len(self.order)])]
        return dict(index=i, video=item['inputs'],
                    label=int(item['data_samples'].get('label', -1)))


def real_batches(dataset_cfg: dict, num_real: int, seed: int, batch_size: int,
                 workers: int = 0, classes: Optional[Sequence[int]] = None) -> Iterator[dict]:
    """This rank's share of clips ``0 .. num_real - 1``, in batches."""
    from hvg.registry import DATASETS
    rank, world = get_dist_info()
    clips = SeededClips(DATASETS.build(dataset_cfg), range(rank, num_real, world), seed,
                        classes)
    return iter(DataLoader(clips, batch_size=batch_size, num_workers=workers))
