"""Spatial discriminator: judges k randomly chosen full-resolution frames."""
from typing import Optional, Sequence

import torch.nn as nn
from torch import Tensor

from hvg.registry import MODELS
from ..batch_random import batch_rand
from ..layers import MinibatchStd
from .base import ProjectionHead, check_video, frame_scores, make_blocks


@MODELS.register_module()
class SpatialDiscriminator(nn.Module):
    """2D ResNet discriminator on ``num_sampled_frames`` random frames per video.

    Appendix B.1: "receives as input 8 randomly sampled frames"; each frame is
    scored on its own. Frames are drawn without replacement, independently per
    video; a video shorter than k frames contributes all of its frames.

    Shapes: ``forward(video (B, C, T, H, W), labels (B,) or None)`` returns
    scores ``(B, min(k, T))``.

    ``minibatch_std_group > 0`` appends a :class:`MinibatchStd` channel over
    groups of that many videos before the last block (not in the paper: an
    option against mode collapse, off by default).
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 96,
                 channel_mults: Sequence[int] = (2, 4, 8, 16),
                 num_sampled_frames: int = 8, num_classes: int = 0,
                 use_spectral_norm: bool = True,
                 minibatch_std_group: int = 0):
        super().__init__()
        self.in_channels = in_channels
        self.num_sampled_frames = num_sampled_frames
        self.blocks = make_blocks(in_channels, base_channels, channel_mults,
                                  use_spectral_norm=use_spectral_norm,
                                  minibatch_std=minibatch_std_group > 0)
        self.minibatch_std = (MinibatchStd(minibatch_std_group)
                              if minibatch_std_group > 0 else None)
        self.head = ProjectionHead(base_channels * channel_mults[-1], num_classes,
                                   use_spectral_norm)

    def sample_frames(self, video: Tensor) -> Tensor:
        """(B, C, T, H, W) -> (B, C, k, H, W) with k random frames per video."""
        B, _, T = video.shape[:3]
        k = min(self.num_sampled_frames, T)
        index = batch_rand(B, T, device=video.device).argsort(dim=1)[:, :k]
        index = index.view(B, 1, k, 1, 1).expand(-1, video.shape[1], -1,
                                                 *video.shape[3:])
        return video.gather(2, index)

    def forward(self, video: Tensor, labels: Optional[Tensor] = None,
                lowres: Optional[Tensor] = None) -> Tensor:
        """Scores of ``video``; ``lowres`` is ignored (the group's call signature)."""
        check_video(video, self.in_channels)
        return frame_scores(self.blocks, self.head, self.sample_frames(video), labels,
                            self.minibatch_std)
