"""Keeps checkpoints loadable with ``torch.load(weights_only=True)``."""
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging.history_buffer import HistoryBuffer

from hvg.registry import HOOKS

_TAG = '__history_buffer__'


def history_to_plain(buffer: HistoryBuffer) -> dict:
    """A HistoryBuffer as tensors and ints, which weights-only loading accepts."""
    log_history, count_history = buffer.data
    return {_TAG: True,
            'log_history': torch.as_tensor(log_history, dtype=torch.float64),
            'count_history': torch.as_tensor(count_history, dtype=torch.float64),
            'max_length': int(buffer.max_length)}


def numpy_to_plain(obj: Any) -> Any:
    """numpy scalars -> Python numbers, arrays -> tensors, through containers."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj)
    if isinstance(obj, dict):
        return {k: numpy_to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(numpy_to_plain(v) for v in obj)
    return obj


def plain_to_history(plain: dict) -> HistoryBuffer:
    return HistoryBuffer(plain['log_history'].tolist(),
                         plain['count_history'].tolist(), plain['max_length'])


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Stores the MessageHub's logged scalars as tensors, not pickled objects.

    PyTorch >= 2.6 loads checkpoints with ``weights_only=True``, which refuses
    arbitrary pickled classes (that is the point: a checkpoint cannot run
    code). mmengine saves its ``HistoryBuffer`` objects (smoothed log values)
    and numpy scalars (the ETA) in every checkpoint; the buffers' pickle
    needs ``builtins.getattr``, which must never be allow-listed. This hook
    converts them to tensors and numbers on save and back on load, so
    resuming needs no unsafe loading at all.
    """

    priority = 'VERY_HIGH'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub', {})
        scalars = hub.get('log_scalars', {})
        for key, value in list(scalars.items()):
            if isinstance(value, HistoryBuffer):
                scalars[key] = history_to_plain(value)
        for key in ('runtime_info', 'resumed_keys'):
            if key in hub:
                hub[key] = numpy_to_plain(hub[key])
        checkpoint['meta'] = numpy_to_plain(checkpoint.get('meta', {}))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, value in list(scalars.items()):
            if isinstance(value, dict) and value.get(_TAG):
                scalars[key] = plain_to_history(value)
