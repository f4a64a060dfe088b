"""ResNet blocks of the generators and discriminators (appendix B.1)."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .conditional_bn import FrameBatchNorm
from .spectral import conv2d, conv3d


def per_frame(module: nn.Module, x: Tensor) -> Tensor:
    """Apply a 2D module to every frame of a frames-major (B, T, C, H, W) tensor."""
    B, T = x.shape[:2]
    y = module(x.reshape(B * T, *x.shape[2:]))
    return y.view(B, T, *y.shape[1:])


def upsample_frames(x: Tensor) -> Tensor:
    """Nearest x2 spatial upsampling of a (B, T, C, H, W) tensor."""
    B, T = x.shape[:2]
    y = F.interpolate(x.reshape(B * T, *x.shape[2:]), scale_factor=2, mode='nearest')
    return y.view(B, T, *y.shape[1:])


class GenResBlock2d(nn.Module):
    """Generator block: norm-act-[up]-conv-norm-act-conv, plus a shortcut.

    Appendix B.1: conditional BatchNorm, ReLU, 3x3 convolutions; an optional
    nearest-neighbour upsampling "before the first convolution operation and
    after the first normalization and activation". Frames are processed
    independently. Layout: frames-major ``(B, T, C, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_frames: int,
                 cond_dim: int, upsample: bool = False,
                 use_spectral_norm: bool = True,
                 cbn_spectral_norm: Optional[bool] = None,
                 padding_mode: str = 'zeros'):
        super().__init__()
        self.upsample = upsample
        self.norm1 = FrameBatchNorm(in_channels, num_frames, cond_dim,
                                    use_spectral_norm=use_spectral_norm,
                                    cond_spectral_norm=cbn_spectral_norm)
        self.conv1 = conv2d(in_channels, out_channels, use_spectral_norm=use_spectral_norm,
                            padding_mode=padding_mode)
        self.norm2 = FrameBatchNorm(out_channels, num_frames, cond_dim,
                                    use_spectral_norm=use_spectral_norm,
                                    cond_spectral_norm=cbn_spectral_norm)
        self.conv2 = conv2d(out_channels, out_channels, use_spectral_norm=use_spectral_norm,
                            padding_mode=padding_mode)
        self.shortcut = (
            conv2d(in_channels, out_channels, 1, use_spectral_norm)
            if in_channels != out_channels else None)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = F.relu(self.norm1(x, cond))
        if self.upsample:
            h, x = upsample_frames(h), upsample_frames(x)
        h = per_frame(self.conv1, h)
        h = per_frame(self.conv2, F.relu(self.norm2(h, cond)))
        if self.shortcut is not None:
            x = per_frame(self.shortcut, x)
        return h + x


class SeparableConv3d(nn.Module):
    """A temporal convolution, then a spatial one, on frames-major video.

    Appendix B.2: "We first convolve over the temporal dimension with a 1D
    temporal kernel of size 3 and then convolve over the spatial dimension with
    2D 3x3 kernel". The temporal conv (kernel (3, 1, 1), zero 'same' padding in
    time, so T is kept) maps ``in_channels`` to ``out_channels``; the spatial 3x3
    conv then runs on every frame. Each conv is orthogonally initialised and
    spectrally normalised on its own.

    Shapes: ``(B, T, C_in, H, W)`` -> ``(B, T, C_out, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, temporal_kernel: int = 3,
                 use_spectral_norm: bool = True, padding_mode: str = 'zeros'):
        super().__init__()
        # time keeps zero padding whatever padding_mode: streaming relies on it
        self.temporal = conv3d(in_channels, out_channels, (temporal_kernel, 1, 1),
                               use_spectral_norm=use_spectral_norm)
        self.spatial = conv2d(out_channels, out_channels,
                              use_spectral_norm=use_spectral_norm,
                              padding_mode=padding_mode)

    def forward(self, x: Tensor) -> Tensor:
        # conv3d wants (B, C, T, H, W): swap to it and back around the temporal conv
        x = self.temporal(x.transpose(1, 2)).transpose(1, 2)
        return per_frame(self.spatial, x)


class GenResBlock3dSeparable(nn.Module):
    """Generator block of the upsampling levels: GenResBlock2d with separable 3D convs.

    Appendix B.2: the upsampling generators replace the ConvGRU of level 1 by a
    separable 3D convolution, which runs in parallel over time. The structure is
    that of ``GenResBlock2d``: norm-act-conv-norm-act-conv (conditional per-frame
    BatchNorm, ReLU), each conv a ``SeparableConv3d``; a 1x1 shortcut when the
    channels change; no upsampling. Through the two temporal kernels of size 3 an
    output frame sees two input frames on either side. Layout: frames-major
    ``(B, T, C, H, W)`` in and out.
    """

    def __init__(self, in_channels: int, out_channels: int, num_frames: int,
                 cond_dim: int, use_spectral_norm: bool = True,
                 cbn_spectral_norm: Optional[bool] = None,
                 padding_mode: str = 'zeros'):
        super().__init__()
        self.norm1 = FrameBatchNorm(in_channels, num_frames, cond_dim,
                                    use_spectral_norm=use_spectral_norm,
                                    cond_spectral_norm=cbn_spectral_norm)
        self.conv1 = SeparableConv3d(in_channels, out_channels,
                                     use_spectral_norm=use_spectral_norm,
                                     padding_mode=padding_mode)
        self.norm2 = FrameBatchNorm(out_channels, num_frames, cond_dim,
                                    use_spectral_norm=use_spectral_norm,
                                    cond_spectral_norm=cbn_spectral_norm)
        self.conv2 = SeparableConv3d(out_channels, out_channels,
                                     use_spectral_norm=use_spectral_norm,
                                     padding_mode=padding_mode)
        self.shortcut = (
            conv2d(in_channels, out_channels, 1, use_spectral_norm)
            if in_channels != out_channels else None)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = self.conv1(F.relu(self.norm1(x, cond)))
        h = self.conv2(F.relu(self.norm2(h, cond)))
        if self.shortcut is not None:
            x = per_frame(self.shortcut, x)
        return h + x


class DiscResBlock(nn.Module):
    """Discriminator block: relu-conv-relu-conv, then optional average pooling.

    Appendix B.1: "no normalization layers in the discriminator"; downsampling
    by average pooling after the last conv. ``dims=3`` replaces the 2D
    convolutions by 3D ones (the first blocks of the temporal discriminator);
    its pooling is spatial only, so every input frame keeps an output location.
    The first block of a network skips the leading ReLU (its input is an image),
    as in BigGAN. Layout: (N, C, H, W) for 2D, (B, C, T, H, W) for 3D.
    """

    def __init__(self, in_channels: int, out_channels: int, downsample: bool = True,
                 preactivation: bool = True, dims: int = 2,
                 use_spectral_norm: bool = True):
        super().__init__()
        if dims not in (2, 3):
            raise ValueError(f'dims must be 2 or 3, got {dims}')
        conv = conv2d if dims == 2 else conv3d
        self.dims = dims
        self.downsample = downsample
        self.preactivation = preactivation
        self.conv1 = conv(in_channels, out_channels, use_spectral_norm=use_spectral_norm)
        self.conv2 = conv(out_channels, out_channels, use_spectral_norm=use_spectral_norm)
        self.shortcut = (
            conv(in_channels, out_channels, 1, use_spectral_norm=use_spectral_norm)
            if in_channels != out_channels or downsample else None)

    def _pool(self, x: Tensor) -> Tensor:
        if not self.downsample:
            return x
        if self.dims == 2:
            return F.avg_pool2d(x, 2)
        return F.avg_pool3d(x, (1, 2, 2))

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        h = self._pool(h)
        if self.shortcut is None:
            return h + x
        # BigGAN order: conv before pooling for pre-activated blocks, after otherwise.
        if self.preactivation:
            return h + self._pool(self.shortcut(x))
        return h + self.shortcut(self._pool(x))
