"""Minibatch standard deviation: a discriminator feature that sees diversity."""
import math

import torch
import torch.nn as nn
from torch import Tensor


class MinibatchStd(nn.Module):
    """Append one channel: how much the videos of a small group differ.

    Karras et al. 2018 (ProGAN, section 3), kept in StyleGAN/StyleGAN2: a
    discriminator that scores each sample on its own cannot see that the
    generator makes the same sample for every noise vector (mode collapse);
    given the spread of its features across a group of samples, it can, and
    the generator is pushed to spread its samples as the real ones spread.

    The statistic is per video: every feature of a video (all its frames,
    channels and locations) has its standard deviation over the group taken,
    and their mean is the new channel, constant over the video's frames and
    locations. Groups are ``group_size`` videos ``B // group_size`` apart, as
    in StyleGAN; when ``group_size`` does not divide the batch the group is
    the largest common divisor of the two (a batch of one gets zeros).

    Not in the paper (DVD-GAN's discriminators score samples on their own);
    an option of the discriminators, off by default.

    Shapes: ``forward(x, batch_size)`` with ``x`` either frame-folded
    ``(B * T, C, H, W)`` (video-major) or a video ``(B, C, T, H, W)``;
    returns ``x`` with one more channel.
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        if group_size < 1:
            raise ValueError(f'group_size must be >= 1, got {group_size}')
        self.group_size = group_size
        self.eps = eps

    def forward(self, x: Tensor, batch_size: int) -> Tensor:
        B = batch_size
        if x.shape[0] % B:
            raise ValueError(f'{x.shape[0]} rows are not a whole number of '
                             f'{B} videos')
        group = math.gcd(self.group_size, B)
        features = x.float().reshape(group, B // group, -1)
        std = (features.var(dim=0, unbiased=False) + self.eps).sqrt().mean(dim=1)
        per_video = std.repeat(group).to(x.dtype)              # (B,), video i -> group i % (B // group)
        if x.ndim == 5:                                         # (B, C, T, H, W)
            shape = (B, 1, *x.shape[2:])
            channel = per_video.view(B, 1, 1, 1, 1).expand(shape)
        else:                                                   # (B * T, C, H, W)
            frames = x.shape[0] // B
            shape = (x.shape[0], 1, *x.shape[2:])
            channel = per_video.repeat_interleave(frames).view(-1, 1, 1, 1).expand(shape)
        return torch.cat([x, channel], dim=1)

    def extra_repr(self) -> str:
        return f'group_size={self.group_size}'
