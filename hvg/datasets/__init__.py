"""Video datasets and their transforms.

Importing this package registers everything in ``DATASETS`` and
``TRANSFORMS``; the registries name it in ``locations``, so configs with
``default_scope='hvg'`` need no manual import.
"""
from .bdd100k import BDD100KDataset
from .kinetics import (KineticsDataset, kinetics_clip_name, read_class_names,
                       read_kinetics_csv)
from .read_failures import VideoReadError
from .sample_clips import SampleClipsDataset, find_sample_clips
from .synthetic import SyntheticClipsDataset
from .transforms import (CenterCrop, DecordDecode, DecordInit, Flip,
                         LowResView, PackVideoInputs, RandomCrop, Resize,
                         SampleFrames)
from .video_dataset import VideoDataset

__all__ = [
    'VideoDataset', 'KineticsDataset', 'BDD100KDataset', 'VideoReadError',
    'kinetics_clip_name', 'read_class_names', 'read_kinetics_csv',
    'SampleClipsDataset', 'find_sample_clips', 'SyntheticClipsDataset', 'DecordInit',
    'SampleFrames', 'DecordDecode', 'Resize', 'RandomCrop', 'CenterCrop',
    'Flip', 'LowResView', 'PackVideoInputs'
]
