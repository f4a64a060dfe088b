"""The first-level generator p(x_1): ConvGRU + 2D ResNet units (appendix B.1)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS
from ..layers import ConvGRU, FrameBatchNorm, GenResBlock2d, conv2d, per_frame
from .latent_stem import LatentStem, check_out_size


@MODELS.register_module()
class Level1Generator(nn.Module):
    """Generates a whole low-resolution, low-frame-rate video from noise.

    Each unit is a ConvGRU (time) followed by two 2D ResNet blocks (space); all
    units but the last double the resolution, so ``out_size`` must equal
    ``4 * 2 ** (len(channel_mults) - 1)``. A final norm-relu-conv-tanh maps to
    RGB in [-1, 1].

    Args:
        num_frames: T, the number of frames generated (and of BN statistics).
        out_size: output height and width.
        base_channels: ``ch``; unit i has ``ch * channel_mults[i]`` channels.
        channel_mults: one multiplier per unit.
        noise_dim: size of z (paper: 128).
        num_classes: 0 for unconditional (BDD100K), 600 for Kinetics-600.
        class_embed_dim: size of the class embedding (paper: 128).
        use_spectral_norm: spectral norm on every layer (appendix A).
        embed_spectral_norm: on the class embedding; None follows
            ``use_spectral_norm`` (see ``LatentStem``).
        cbn_spectral_norm: on the gain and bias layers of the conditional
            BatchNorms; None follows ``use_spectral_norm`` (see
            ``FrameBatchNorm``: off, they are plain and start at zero).

    Shapes: ``forward(noise (B, noise_dim), labels (B,) or None)`` returns
    ``(B, 3, T, out_size, out_size)`` in [-1, 1].
    """

    def __init__(self, num_frames: int, out_size: int = 32, base_channels: int = 96,
                 channel_mults: Sequence[int] = (8, 8, 4, 2), noise_dim: int = 128,
                 num_classes: int = 0, class_embed_dim: int = 128,
                 out_channels: int = 3, use_spectral_norm: bool = True,
                 embed_spectral_norm: Optional[bool] = None,
                 cbn_spectral_norm: Optional[bool] = None):
        super().__init__()
        check_out_size(out_size, channel_mults)
        self.num_frames = num_frames
        self.out_size = out_size
        self.base_channels = base_channels
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        channels = [base_channels * m for m in channel_mults]
        self.stem = LatentStem(noise_dim, num_classes, class_embed_dim, channels[0],
                               use_spectral_norm, embed_spectral_norm)
        cond_dim = self.stem.cond_dim
        self.grus = nn.ModuleList()
        self.blocks = nn.ModuleList()
        in_ch = channels[0]
        for i, ch in enumerate(channels):
            self.grus.append(ConvGRU(in_ch, ch, use_spectral_norm))
            self.blocks.append(nn.ModuleList([
                GenResBlock2d(ch, ch, num_frames, cond_dim,
                              upsample=i < len(channels) - 1,
                              use_spectral_norm=use_spectral_norm,
                              cbn_spectral_norm=cbn_spectral_norm),
                GenResBlock2d(ch, ch, num_frames, cond_dim,
                              use_spectral_norm=use_spectral_norm,
                              cbn_spectral_norm=cbn_spectral_norm),
            ]))
            in_ch = ch
        self.out_norm = FrameBatchNorm(in_ch, num_frames)
        self.out_conv = conv2d(in_ch, out_channels, use_spectral_norm=use_spectral_norm)

    def forward(self, noise: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        cond, x = self.stem(noise, labels, self.num_frames)
        for gru, blocks in zip(self.grus, self.blocks):
            x = gru(x)
            for block in blocks:
                x = block(x, cond)
        x = per_frame(self.out_conv, F.relu(self.out_norm(x)))
        return torch.tanh(x).transpose(1, 2).contiguous()
