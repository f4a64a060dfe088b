"""Random clips of a level's shape, for benchmarks on machines without the data.

``tools/analysis/gpu_benchmark.sh`` trains through the real ``tools/train.py``
(the Runner, the loader, DDP, NCCL) on a GPU machine that holds no Kinetics
or BDD100K: it swaps this class into a config with ``--cfg-options
train_dataloader.dataset.type=SyntheticClipsDataset ...``
(``tools/analysis/gpu_benchmark.py synthetic-options CONFIG`` prints them).
Throughput and memory depend on the shapes only, never on the pixels.
"""
from typing import Optional

import torch
from torch.utils.data import Dataset

from hvg.registry import DATASETS


@DATASETS.register_module()
class SyntheticClipsDataset(Dataset):
    """Uniform random uint8 clips, laid out as ``PackVideoInputs`` makes them.

    Item ``i`` is the same every time (seeded by ``i``), so runs repeat.

    Args:
        num_frames, size: the clip ``(3, num_frames, size, size)``.
        lowres_frames, lowres_size: an upsampling level's pair: ``inputs`` is
            then ``{'highres': clip, 'lowres': (3, lowres_frames, lowres_size,
            lowres_size)}``, as ``LowResView`` + ``PackVideoInputs`` make.
        num_classes: labels drawn from ``0 .. num_classes - 1``; 0: every
            label is -1 (unconditional).
        num_clips: the dataset's length.
        **ignored: the real dataset's arguments (``data_root``, ``ann_file``,
            ``pipeline``...), accepted so that ``--cfg-options
            train_dataloader.dataset.type=SyntheticClipsDataset`` swaps this
            class into any level config without deleting them.
    """

    def __init__(self, num_frames: int, size: int, lowres_frames: Optional[int] = None,
                 lowres_size: Optional[int] = None, num_classes: int = 0,
                 num_clips: int = 10000, **ignored) -> None:
        del ignored
        if (lowres_frames is None) != (lowres_size is None):
            raise ValueError('give both lowres_frames and lowres_size, or neither')
        if min(num_frames, size, num_clips) < 1:
            raise ValueError('num_frames, size and num_clips must be >= 1')
        self.num_frames, self.size = num_frames, size
        self.lowres_frames, self.lowres_size = lowres_frames, lowres_size
        self.num_classes = num_classes
        self.num_clips = num_clips
        self.metainfo = dict(classes=tuple(str(c) for c in range(num_classes)))

    def __len__(self) -> int:
        return self.num_clips

    def _clip(self, rng: torch.Generator, frames: int, size: int) -> torch.Tensor:
        return torch.randint(0, 256, (3, frames, size, size), dtype=torch.uint8,
                             generator=rng)

    def __getitem__(self, index: int) -> dict:
        rng = torch.Generator().manual_seed(index)
        inputs = self._clip(rng, self.num_frames, self.size)
        if self.lowres_frames is not None:
            inputs = dict(highres=inputs,
                          lowres=self._clip(rng, self.lowres_frames, self.lowres_size))
        label = (int(torch.randint(self.num_classes, (), generator=rng))
                 if self.num_classes else -1)
        return dict(inputs=inputs, data_samples=dict(
            label=torch.tensor(label), filename=f'synthetic_{index:06d}',
            frame_inds=torch.arange(self.num_frames)))
