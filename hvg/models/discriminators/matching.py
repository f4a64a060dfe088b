"""Matching discriminator: is the high-res video a valid upsampling of the low-res one?"""
from typing import Optional, Sequence

import torch
from torch import Tensor

from hvg.registry import MODELS
from ..layers import repeat_frames, resize_frames
from .base import check_video
from .temporal import TemporalDiscriminator


@MODELS.register_module()
class MatchingDiscriminator(TemporalDiscriminator):
    """Temporal-discriminator architecture on (low-res, downsampled high-res) pairs.

    Section 3: it "discriminates real or generated input-output pairs. The output is
    downsampled to the same size as the input, and both tensors are concatenated on
    the channel dimension"; appendix B.2: it "utilizes the same architecture as the
    3D discriminator". Without it the upsampling generator may ignore its input.

    The pair (``make_pair``): the low-res video repeated in time (nearest) to the
    high-res length, then the high-res video resized to the low-res frame size with
    the paper's ``S`` operator (bilinear, antialiased, as the data pipeline's
    ``Resize``), concatenated on channels in that order. The input is already at the
    low resolution, hence ``input_downsample=1`` by default.

    Args: as ``TemporalDiscriminator``; ``in_channels`` counts both videos (6 for
    two RGB videos).

    Shapes: ``forward(video (B, C, T, H, W), labels, lowres (B, C, T_in, h, w))``
    with ``T`` a multiple of ``T_in`` returns scores ``(B, T)`` (the group's
    call signature; ``lowres`` is required).
    """

    def __init__(self, in_channels: int = 6, base_channels: int = 96,
                 channel_mults: Sequence[int] = (2, 4, 8, 16),
                 num_3d_blocks: int = 2, input_downsample: int = 1,
                 num_classes: int = 0, use_spectral_norm: bool = True):
        if in_channels % 2 != 0:
            raise ValueError(f'in_channels={in_channels} must be even: it counts the '
                             'channels of the low-res and of the high-res video')
        super().__init__(in_channels, base_channels, channel_mults, num_3d_blocks,
                         input_downsample, num_classes, use_spectral_norm)

    def make_pair(self, video: Tensor, lowres: Tensor) -> Tensor:
        """``concat_channels(repeat_frames(lowres, T), S(video))``: (B, 2C, T, h, w)."""
        channels = self.in_channels // 2
        check_video(video, channels)
        check_video(lowres, channels)
        if lowres.shape[0] != video.shape[0]:
            raise ValueError(f'video and lowres batch sizes differ: '
                             f'{video.shape[0]} vs {lowres.shape[0]}')
        T, T_in = video.shape[2], lowres.shape[2]
        if T % T_in != 0:
            raise ValueError(f'the video has {T} frames, not a multiple of the '
                             f'{T_in} low-res frames it should upsample')
        downsampled = resize_frames(video, lowres.shape[-2:], mode='bilinear',
                                    antialias=True)
        return torch.cat([repeat_frames(lowres, T), downsampled], dim=1)

    def forward(self, video: Tensor, labels: Optional[Tensor] = None,
                lowres: Optional[Tensor] = None) -> Tensor:
        if lowres is None:
            raise ValueError('the matching discriminator judges (video, low-res input) '
                             'pairs: pass the low-res input as `lowres`')
        return super().forward(self.make_pair(video, lowres), labels)
