"""Batch normalisation with per-frame statistics and conditional gain/bias."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .spectral import linear


class FrameBatchNorm(nn.Module):
    """BatchNorm over a ``(B, T, C, H, W)`` tensor with statistics per frame.

    Appendix A: "Features are normalized with a per-frame mean and standard
    deviation". Each timestep ``t`` and channel ``c`` is normalised by the mean
    and variance over the batch and the frame's pixels, so the running
    statistics have shape ``(T, C)``. Generators work in the frames-major
    layout ``(B, T, C, H, W)`` so that folding T into the channel axis, for one
    ``F.batch_norm`` call, and folding it into the batch axis, for per-frame 2D
    convolutions, are both free views.

    When ``cond_dim`` is given, gain and bias are predicted from the condition
    vector (noise, concatenated with the class embedding), BigGAN style:
    ``gain = 1 + W_g c``, ``bias = W_b c``. Otherwise a learned affine per
    channel is used.

    Args:
        num_features: channels C.
        num_frames: timesteps T the running statistics are kept for.
        cond_dim: length of the condition vector, or None for a plain affine.
    """

    def __init__(self, num_features: int, num_frames: int,
                 cond_dim: Optional[int] = None, eps: float = 1e-4,
                 momentum: float = 0.1, use_spectral_norm: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.cond_dim = cond_dim
        self.register_buffer('running_mean', torch.zeros(num_frames, num_features))
        self.register_buffer('running_var', torch.ones(num_frames, num_features))
        if cond_dim is None:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.gain = linear(cond_dim, num_features, bias=False,
                               use_spectral_norm=use_spectral_norm)
            self.offset = linear(cond_dim, num_features, bias=False,
                                 use_spectral_norm=use_spectral_norm)

    @property
    def num_frames(self) -> int:
        return self.running_mean.shape[0]

    def reset_num_frames(self, num_frames: int) -> None:
        """Resize the running statistics to ``num_frames`` and reset them."""
        device = self.running_mean.device
        self.running_mean = torch.zeros(num_frames, self.num_features, device=device)
        self.running_var = torch.ones(num_frames, self.num_features, device=device)

    def forward(self, x: Tensor, cond: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, C, H, W); cond: (B, cond_dim) when conditional."""
        B, T, C, H, W = x.shape
        if T != self.num_frames:
            raise ValueError(
                f'FrameBatchNorm keeps statistics for {self.num_frames} frames '
                f'but got a video of {T} frames. Per-frame statistics are tied to '
                'the length: train at the configured length, or recompute the '
                'statistics for the new length before sampling.')
        normed = F.batch_norm(
            x.reshape(B, T * C, H, W), self.running_mean.view(-1),
            self.running_var.view(-1), training=self.training,
            momentum=self.momentum, eps=self.eps).view(B, T, C, H, W)
        if self.cond_dim is None:
            gain, bias = self.weight.view(1, C), self.bias.view(1, C)
        else:
            if cond is None:
                raise ValueError('this FrameBatchNorm is conditional: pass `cond`')
            gain, bias = 1 + self.gain(cond), self.offset(cond)
        return normed * gain.view(-1, 1, C, 1, 1) + bias.view(-1, 1, C, 1, 1)

    def extra_repr(self) -> str:
        return (f'{self.num_features}, num_frames={self.num_frames}, '
                f'cond_dim={self.cond_dim}')
