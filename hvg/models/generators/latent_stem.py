"""The part every HVG generator shares: noise (++ class embedding) to a 4x4 map."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from ..layers import embedding, linear


def check_out_size(out_size: int, channel_mults: Sequence[int]) -> None:
    """Every unit but the last doubles the 4x4 stem: the sizes must agree."""
    expected = 4 * 2**(len(channel_mults) - 1)
    if out_size != expected:
        raise ValueError(
            f'{len(channel_mults)} units upsample 4x4 to {expected}x{expected}, '
            f'but out_size={out_size}: use {int(math.log2(out_size / 4)) + 1} '
            'channel multipliers')


class LatentStem(nn.Module):
    """Maps noise and an optional class label to the condition and the first map.

    Appendix B.1: the class label is embedded in 128 dimensions and concatenated
    with a 128-d noise vector; a linear layer maps the concatenation to a
    ``C x 4 x 4`` tensor that is replicated over the T timesteps. The same
    concatenation is the condition of every conditional BatchNorm.

    Args:
        noise_dim: size of the noise vector z.
        num_classes: number of classes; 0 for an unconditional model.
        class_embed_dim: size of the class embedding.
        out_channels: channels of the 4x4 map.
        use_spectral_norm: spectral norm on the layers (appendix A).
        embed_spectral_norm: spectral norm on the class embedding; None follows
            ``use_spectral_norm``. BigGAN leaves its class embedding plain:
            normalised, the embedding of every class has a norm <= 1, next to
            a noise vector of norm ~sqrt(noise_dim), which weakens the class
            conditioning. Off, the embedding is a plain ``nn.Embedding`` with
            its N(0, 1) initialisation, so class and noise enter at the same
            scale. The paper does not say; the paper configs keep it on.
    """

    def __init__(self, noise_dim: int, num_classes: int, class_embed_dim: int,
                 out_channels: int, use_spectral_norm: bool = True,
                 embed_spectral_norm: Optional[bool] = None):
        super().__init__()
        if embed_spectral_norm is None:
            embed_spectral_norm = use_spectral_norm
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        self.out_channels = out_channels
        if num_classes <= 0:
            self.embed = None
        elif embed_spectral_norm:
            self.embed = embedding(num_classes, class_embed_dim, True)
        else:
            # nn.Embedding's own N(0, 1) init: a norm of ~sqrt(class_embed_dim),
            # of the order of the noise's ~sqrt(noise_dim)
            self.embed = nn.Embedding(num_classes, class_embed_dim)
        self.cond_dim = noise_dim + (class_embed_dim if num_classes > 0 else 0)
        self.project = linear(self.cond_dim, out_channels * 16,
                              use_spectral_norm=use_spectral_norm)

    def forward(self, noise: Tensor, labels: Optional[Tensor],
                num_frames: int) -> Tuple[Tensor, Tensor]:
        """Returns ``(cond (B, cond_dim), x (B, T, C, 4, 4))``."""
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim:
            raise ValueError(f'noise must be (B, {self.noise_dim}), got {tuple(noise.shape)}')
        if self.embed is None:
            if labels is not None:
                raise ValueError('this generator is unconditional (num_classes=0) '
                                 'but labels were given')
            cond = noise
        else:
            if labels is None:
                raise ValueError(f'this generator is class-conditional '
                                 f'({self.num_classes} classes): pass labels')
            cond = torch.cat([noise, self.embed(labels)], dim=1)
        x = self.project(cond).view(-1, 1, self.out_channels, 4, 4)
        return cond, x.expand(-1, num_frames, -1, -1, -1)
