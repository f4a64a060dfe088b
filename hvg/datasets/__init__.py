"""Video datasets and their transforms.

Importing this package registers everything in ``DATASETS`` and
``TRANSFORMS``; the registries name it in ``locations``, so configs with
``default_scope='hvg'`` need no manual import.
"""
from .sample_clips import SampleClipsDataset, find_sample_clips
from .transforms import (CenterCrop, DecordDecode, DecordInit, Flip,
                         LowResView, PackVideoInputs, RandomCrop, Resize,
                         SampleFrames)
from .video_dataset import VideoDataset

__all__ = [
    'VideoDataset', 'SampleClipsDataset', 'find_sample_clips', 'DecordInit',
    'SampleFrames', 'DecordDecode', 'Resize', 'RandomCrop', 'CenterCrop',
    'Flip', 'LowResView', 'PackVideoInputs'
]
