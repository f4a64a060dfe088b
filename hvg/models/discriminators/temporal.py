"""Temporal discriminator: full-length video at half the resolution."""
from typing import Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS
from ..layers import MinibatchStd
from .base import ProjectionHead, check_video, frame_scores, make_blocks


@MODELS.register_module()
class TemporalDiscriminator(nn.Module):
    """Spatial discriminator whose first blocks are 3D, on a downsampled video.

    Appendix B.1: "equal to the 2D discriminator except that its first two
    layers are 3D ResNet blocks"; the input is "spatially downsampled (by a
    factor of two)" (2x2 average pooling here). The 3D blocks pool only in
    space, so there is one output location per frame, which the later 2D
    blocks score independently.

    ``minibatch_std_group > 0``: as in :class:`SpatialDiscriminator`.

    Shapes: ``forward(video (B, C, T, H, W), labels)`` returns scores ``(B, T)``.
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 96,
                 channel_mults: Sequence[int] = (2, 4, 8, 16),
                 num_3d_blocks: int = 2, input_downsample: int = 2,
                 num_classes: int = 0, use_spectral_norm: bool = True,
                 minibatch_std_group: int = 0):
        super().__init__()
        if num_3d_blocks > len(channel_mults):
            raise ValueError('num_3d_blocks cannot exceed the number of blocks')
        self.in_channels = in_channels
        self.input_downsample = input_downsample
        self.blocks = make_blocks(in_channels, base_channels, channel_mults,
                                  num_3d_blocks, use_spectral_norm,
                                  minibatch_std=minibatch_std_group > 0)
        self.minibatch_std = (MinibatchStd(minibatch_std_group)
                              if minibatch_std_group > 0 else None)
        self.head = ProjectionHead(base_channels * channel_mults[-1], num_classes,
                                   use_spectral_norm)

    def forward(self, video: Tensor, labels: Optional[Tensor] = None,
                lowres: Optional[Tensor] = None) -> Tensor:
        """Scores of ``video``; ``lowres`` is ignored (the group's call signature)."""
        check_video(video, self.in_channels)
        if self.input_downsample > 1:
            k = self.input_downsample
            video = F.avg_pool3d(video, (1, k, k))
        return frame_scores(self.blocks, self.head, video, labels, self.minibatch_std)
