"""Load checkpoints safely: ``torch.load(weights_only=True)``, always."""
from typing import Any

import torch


def load_checkpoint_file(path: str, map_location: Any = 'cpu') -> dict:
    """Load an HVG/mmengine checkpoint without unpickling arbitrary objects.

    Checkpoints written with ``WeightsOnlyCheckpointHook`` (in every HVG
    runtime config) hold only tensors and plain containers.
    """
    import os.path as osp
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint not found: {path}. Train the level first '
            '(python tools/train.py CONFIG) or pass the right path.')
    return torch.load(path, map_location=map_location, weights_only=True)
