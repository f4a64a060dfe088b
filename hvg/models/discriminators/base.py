"""What the spatial and temporal discriminators share: blocks and the head."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..layers import DiscResBlock, embedding, linear


def check_video(video: Tensor, channels: int) -> None:
    """Assert the (B, C, T, H, W) convention at a discriminator's boundary."""
    if video.ndim != 5 or video.shape[1] != channels:
        raise ValueError(f'expected a video (B, {channels}, T, H, W), '
                         f'got shape {tuple(video.shape)}')


class ProjectionHead(nn.Module):
    """ReLU, sum over space, linear score, plus a class projection term.

    For class-conditional models the score gets ``<embed(y), h>`` (projection
    discriminator, as in BigGAN and DVD-GAN); with ``num_classes=0`` it is a
    plain linear score.
    """

    def __init__(self, in_channels: int, num_classes: int = 0,
                 use_spectral_norm: bool = True):
        super().__init__()
        self.linear = linear(in_channels, 1, use_spectral_norm=use_spectral_norm)
        self.embed = (embedding(num_classes, in_channels, use_spectral_norm)
                      if num_classes > 0 else None)

    def forward(self, h: Tensor, labels: Optional[Tensor]) -> Tensor:
        """h: (N, C, H, W); labels: (N,) or None -> scores (N,)."""
        h = F.relu(h).sum(dim=(2, 3))
        score = self.linear(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError('this discriminator is class-conditional: pass labels')
            score = score + (self.embed(labels) * h).sum(dim=1)
        return score


def make_blocks(in_channels: int, base_channels: int, channel_mults: Sequence[int],
                num_3d_blocks: int = 0, use_spectral_norm: bool = True) -> nn.ModuleList:
    """relu-conv-relu-conv blocks that downsample in all but the last block."""
    blocks = nn.ModuleList()
    ch_in = in_channels
    for i, mult in enumerate(channel_mults):
        ch_out = base_channels * mult
        blocks.append(DiscResBlock(
            ch_in, ch_out, downsample=i < len(channel_mults) - 1,
            preactivation=i > 0, dims=3 if i < num_3d_blocks else 2,
            use_spectral_norm=use_spectral_norm))
        ch_in = ch_out
    return blocks


def frame_scores(blocks: nn.ModuleList, head: ProjectionHead, x: Tensor,
                 labels: Optional[Tensor]) -> Tensor:
    """Run 3D blocks on (B, C, T, H, W), then 2D blocks per frame: scores (B, T)."""
    B, _, T = x.shape[:3]
    folded = False
    for block in blocks:
        if block.dims == 2 and not folded:
            x = x.transpose(1, 2).reshape(B * T, x.shape[1], *x.shape[3:])
            folded = True
        x = block(x)
    if not folded:
        x = x.transpose(1, 2).reshape(B * T, x.shape[1], *x.shape[3:])
    frame_labels = None if labels is None else labels.repeat_interleave(T)
    return head(x, frame_labels).view(B, T)
