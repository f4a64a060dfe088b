"""Changing a video's frame count and frame size, shared by upsampling G and matching D.

Both sides of an upsampling level must see the low-resolution video the same way:
the generator's residual conditioning and the matching discriminator repeat its
frames in time (nearest), and resize frames in space. Keeping the two operations
here means they cannot drift apart.
"""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

Size = Union[int, Tuple[int, int]]


def repeat_frames(video: Tensor, num_frames: int) -> Tensor:
    """Nearest temporal interpolation of ``video (B, C, T_in, H, W)`` to ``num_frames``.

    Output frame ``j`` is input frame ``floor(j * T_in / num_frames)``; for
    ``num_frames = k * T_in`` every input frame is repeated ``k`` times in place
    (frame ``j`` is frame ``j // k``), the paper's "repeating its frames".
    """
    if video.ndim != 5:
        raise ValueError(
            f'expected a video (B, C, T, H, W), got shape {tuple(video.shape)}')
    T_in = video.shape[2]
    if num_frames == T_in:
        return video
    index = torch.arange(num_frames, device=video.device) * T_in // num_frames
    return video.index_select(2, index)


def resize_frames(video: Tensor, size: Size, mode: str = 'nearest',
                  antialias: bool = False) -> Tensor:
    """Resize every frame of ``video (..., H, W)`` to ``size`` (int or (h, w)).

    Only the last two (spatial) axes change, so this works for the channels-major
    ``(B, C, T, H, W)`` and the frames-major ``(B, T, C, H, W)`` layout alike:
    every channel of every frame is resized on its own. ``antialias`` applies to
    the bilinear and bicubic modes (the paper's ``S`` operator is bilinear with
    antialiasing, as in the data pipeline's ``Resize``); nearest ignores it.
    A video already at ``size`` is returned unchanged.
    """
    if isinstance(size, int):
        size = (size, size)
    size = tuple(size)
    H, W = video.shape[-2:]
    if (H, W) == size:
        return video
    kwargs = {}
    frames = video.reshape(-1, 1, H, W)
    if mode in ('bilinear', 'bicubic'):
        kwargs = dict(align_corners=False, antialias=antialias)
        # in fp32 under mixed precision, as the data pipeline's S: the CPU has no
        # bf16 antialiased kernel, and a 16-bit filter rounds the low-res view
        # the matching discriminator compares with x_{l-1}
        frames = frames.float()
    frames = F.interpolate(frames, size=size, mode=mode, **kwargs).to(video.dtype)
    return frames.view(*video.shape[:-2], *size)
