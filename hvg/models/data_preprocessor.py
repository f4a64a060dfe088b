"""Turns collated uint8 clips into float videos, once, on the model's device."""
from typing import Any, Dict, Union

import torch
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from hvg.registry import MODELS


def uint8_to_float(video: Tensor) -> Tensor:
    """uint8 (B, C, T, H, W) -> float32 in [-1, 1]. The layout is fixed, never guessed."""
    if video.dtype != torch.uint8:
        raise TypeError(f'expected a uint8 video batch, got {video.dtype}')
    if video.ndim != 5 or video.shape[1] not in (1, 3):
        raise ValueError('expected a video batch (B, C, T, H, W) with C in (1, 3), '
                         f'got shape {tuple(video.shape)}')
    return video.float().div_(127.5).sub_(1.0)


@MODELS.register_module()
class VideoDataPreprocessor(BaseDataPreprocessor):
    """Moves a batch to the device and converts its clips to float ``[-1, 1]``.

    ``inputs`` is a uint8 tensor ``(B, C, T, H, W)``, or a dict of such tensors
    (one per view, e.g. the low- and high-resolution clips of an upsampling
    level). ``data_samples`` is passed through (moved to the device).
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        inputs: Union[Tensor, Dict[str, Tensor]] = data['inputs']
        if isinstance(inputs, dict):
            inputs = {k: uint8_to_float(v) for k, v in inputs.items()}
        else:
            inputs = uint8_to_float(inputs)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
