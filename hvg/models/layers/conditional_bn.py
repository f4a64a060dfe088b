"""Batch normalisation with per-frame statistics and conditional gain/bias."""
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

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

    Windows of a longer video (eval mode): with ``frame_offset = s`` (an int
    instead of the default None), an input of T frames is taken to be frames
    ``[s, s + T)`` of the video the statistics are kept for, and is normalised
    with the statistics of those frames. The generators are convolutional in
    time, so a long video can be generated window by window
    (``hvg.models.generators.stream_upsample``) while every frame still uses the
    statistics of its absolute index. Set it for a whole network with
    ``use_frame_offset``. Training always needs the whole video: the running
    statistics of every frame are updated together.

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
        # None: inputs are the whole video; an int: see "Windows" above.
        self.frame_offset: Optional[int] = None
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

    def statistics_for(self, num_frames: int) -> Tuple[Tensor, Tensor]:
        """Running ``(mean, var)``, each ``(num_frames, C)``, of the input's frames.

        Views of the buffers, so that training-mode updates land in them.
        """
        if self.frame_offset is None:
            if num_frames != self.num_frames:
                raise ValueError(
                    f'FrameBatchNorm keeps statistics for {self.num_frames} frames '
                    f'but got a video of {num_frames} frames. Per-frame statistics '
                    'are tied to the length: train at the configured length, or '
                    'recompute the statistics for the new length before sampling.')
            return self.running_mean, self.running_var
        if self.training:
            raise RuntimeError(
                f'frame_offset={self.frame_offset} is set but this FrameBatchNorm is '
                'in training mode: windows of a video are for eval mode (training '
                'updates the statistics of every frame of the whole video)')
        start, stop = self.frame_offset, self.frame_offset + num_frames
        if start < 0 or stop > self.num_frames:
            raise ValueError(
                f'a window of {num_frames} frames at frame_offset={start} covers '
                f'frames [{start}, {stop}), outside the {self.num_frames} frames this '
                'FrameBatchNorm keeps statistics for: recompute the statistics for '
                'the whole video length first (unroll_generator)')
        return self.running_mean[start:stop], self.running_var[start:stop]

    def forward(self, x: Tensor, cond: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, C, H, W); cond: (B, cond_dim) when conditional."""
        B, T, C, H, W = x.shape
        mean, var = self.statistics_for(T)
        normed = F.batch_norm(
            x.reshape(B, T * C, H, W), mean.view(-1), var.view(-1),
            training=self.training, momentum=self.momentum,
            eps=self.eps).view(B, T, C, H, W)
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


@contextmanager
def use_frame_offset(module: nn.Module, frame_offset: Optional[int]) -> Iterator[None]:
    """Set ``frame_offset`` on every FrameBatchNorm in ``module`` for a ``with`` block.

    Inside, an input of T frames is frames ``[frame_offset, frame_offset + T)``
    of the video the statistics are kept for (eval mode only); None means the
    whole video, the default. The previous values are restored on exit, errors
    included, so a failed window cannot leave a network offset.
    """
    norms = [m for m in module.modules() if isinstance(m, FrameBatchNorm)]
    saved = [norm.frame_offset for norm in norms]
    for norm in norms:
        norm.frame_offset = frame_offset
    try:
        yield
    finally:
        for norm, offset in zip(norms, saved):
            norm.frame_offset = offset
