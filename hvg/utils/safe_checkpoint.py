"""Load checkpoints safely: ``torch.load(weights_only=True)``, always.

Every load passes ``weights_only=True`` itself: PyTorch's
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` only changes loads that leave the
argument unset, so no environment variable can make a checkpoint run code.

Importing this module (``import hvg`` does) also replaces the loaders of
mmengine's ``CheckpointLoader``, which the Runner uses for ``load_from`` and
``resume``: local files, ``http(s)://`` and ``s3://`` load weights-only; the
schemes HVG has no use for (``pavi://``, ``torchvision://``,
``open-mmlab://``, ``mmcls://``) are refused with a message, since mmengine's
versions of them unpickle arbitrary objects.
"""
import io
import os.path as osp
import pickle
from typing import Any

import torch
from mmengine.dist import get_dist_info
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects that weights-only loading refuses."""


def safe_torch_load(source: Any, map_location: Any = 'cpu', name: str = '',
                    mmap: bool = False) -> Any:
    """``torch.load(source, weights_only=True)``, naming the file on refusal.

    ``name`` names ``source`` in messages where it is a buffer (a URL, say).
    """
    name = name or str(source)
    try:
        return torch.load(source, map_location=map_location, weights_only=True,
                          mmap=mmap)
    except pickle.UnpicklingError as error:
        raise UnsafeCheckpointError(
            f'refused to load {name}: it holds pickled objects other than '
            'tensors and plain containers, which could run code when loaded '
            f'(loading is always weights_only=True). {error}') from None


def load_checkpoint_file(path: str, map_location: Any = 'cpu') -> dict:
    """Load an HVG/mmengine checkpoint without unpickling arbitrary objects.

    Checkpoints written with ``WeightsOnlyCheckpointHook`` (in every HVG
    runtime config) hold only tensors and plain containers.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint not found: {path}. Train the level first '
            '(python tools/train.py CONFIG) or pass the right path.')
    return safe_torch_load(path, map_location=map_location)


# --- mmengine's CheckpointLoader schemes, weights-only --------------------------
# Named load_from_*: mmengine logs the loader's name after that prefix.

def load_from_local(filename: str, map_location: Any = None) -> dict:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def load_from_http(filename: str, map_location: Any = None) -> dict:
    """As mmengine's: rank 0 downloads first, then the others read the cache."""
    def load() -> dict:
        try:
            return torch.hub.load_state_dict_from_url(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            raise UnsafeCheckpointError(
                f'refused to load {filename}: it holds pickled objects other '
                f'than tensors and plain containers. {error}') from None

    rank, world_size = get_dist_info()
    checkpoint = load() if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


def load_from_s3(filename: str, map_location: Any = None) -> dict:
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(filename, backend_args={'backend': 'petrel'})
    with io.BytesIO(backend.get(filename)) as buffer:
        return safe_torch_load(buffer, map_location=map_location, name=filename)


def load_from_unsupported(filename: str, map_location: Any = None) -> dict:
    raise ValueError(
        f'cannot load {filename}: HVG loads checkpoints weights-only from local '
        'paths, http(s):// and s3:// only. Download the file and pass its path.')


CheckpointLoader.register_scheme('', load_from_local, force=True)
CheckpointLoader.register_scheme(('http://', 'https://'), load_from_http, force=True)
CheckpointLoader.register_scheme([r'(\S+\:)?s3://', r'(\S+\:)?petrel://'], load_from_s3,
                                 force=True)
CheckpointLoader.register_scheme(
    ('pavi://', 'modelzoo://', 'torchvision://', 'open-mmlab://', 'openmmlab://',
     'mmcls://'), load_from_unsupported, force=True)
