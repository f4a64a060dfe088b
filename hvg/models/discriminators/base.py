"""What the spatial and temporal discriminators share: blocks and the head."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..layers import DiscResBlock, MinibatchStd, embedding, linear


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
                num_3d_blocks: int = 0, use_spectral_norm: bool = True,
                minibatch_std: bool = False) -> nn.ModuleList:
    """relu-conv-relu-conv blocks that downsample in all but the last block.

    ``minibatch_std`` gives the last block one more input channel, for the
    :class:`MinibatchStd` feature that :func:`frame_scores` appends.
    """
    blocks = nn.ModuleList()
    ch_in = in_channels
    for i, mult in enumerate(channel_mults):
        ch_out = base_channels * mult
        if minibatch_std and i == len(channel_mults) - 1:
            ch_in += 1
        blocks.append(DiscResBlock(
            ch_in, ch_out, downsample=i < len(channel_mults) - 1,
            preactivation=i > 0, dims=3 if i < num_3d_blocks else 2,
            use_spectral_norm=use_spectral_norm))
        ch_in = ch_out
    return blocks


def frame_scores(blocks: nn.ModuleList, head: ProjectionHead, x: Tensor,
                 labels: Optional[Tensor],
                 minibatch_std: Optional[MinibatchStd] = None) -> Tensor:
    """Run 3D blocks on (B, C, T, H, W), then 2D blocks per frame: scores (B, T).

    ``minibatch_std``, if given, appends its channel before the last block
    (StyleGAN's place: at the lowest resolution, before the head).
    """
    B, _, T = x.shape[:3]
    folded = False
    for i, block in enumerate(blocks):
        if block.dims == 2 and not folded:
            x = x.transpose(1, 2).reshape(B * T, x.shape[1], *x.shape[3:])
            folded = True
        if minibatch_std is not None and i == len(blocks) - 1:
            x = minibatch_std(x, B)
        x = block(x)
    if not folded:
        x = x.transpose(1, 2).reshape(B * T, x.shape[1], *x.shape[3:])
    frame_labels = None if labels is None else labels.repeat_interleave(T)
    return head(x, frame_labels).view(B, T)
