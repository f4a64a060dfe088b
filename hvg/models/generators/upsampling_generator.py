"""The conditional generator of upsampling levels, p(x_l | x_{l-1}) (appendix B.2)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS
from ..layers import (FrameBatchNorm, GenResBlock2d, GenResBlock3dSeparable, conv2d,
                      per_frame, repeat_frames, resize_frames)
from ..layers.conditional_bn import use_frame_offset
from .latent_stem import LatentStem, check_out_size


class ConditionedBlock(nn.Module):
    """A generator block and, optionally, the low-res residual added to its output.

    Appendix B.2: "We add residual connections at the end of each 3D and 2D ResNet
    block to an appropriately resized version of x_{l-1}": nearest spatial
    downsampling to the block's output resolution, then a learned 1x1 conv to the
    block's channels. ``residual`` is that conv, or None for a block that gets no
    residual (its output is larger than the low-res input).

    Args:
        block: a ``GenResBlock3dSeparable`` or ``GenResBlock2d``.
        resolution: the block's output height and width.
        residual: the 1x1 conv from the low-res channels, or None.
        resize: how the low-res video is brought to ``resolution``:
            ``'nearest'`` (the paper) or ``'area'`` (the mean of the pixels
            each location covers; see ``UpsamplingGenerator``).
    """

    def __init__(self, block: nn.Module, resolution: int, residual: Optional[nn.Module],
                 resize: str = 'nearest'):
        super().__init__()
        self.block = block
        self.resolution = resolution
        self.residual = residual
        self.resize = resize

    def forward(self, x: Tensor, cond: Tensor, lowres: Tensor) -> Tensor:
        """x: (B, T, C, H, W); lowres: (B, T, C_in, h, w), already T frames long."""
        x = self.block(x, cond)
        if self.residual is not None:
            lowres = resize_frames(lowres, self.resolution, mode=self.resize)
            x = x + per_frame(self.residual, lowres)
        return x

    def extra_repr(self) -> str:
        return f'resolution={self.resolution}, resize={self.resize!r}'


@MODELS.register_module()
class UpsamplingGenerator(nn.Module):
    """Upsamples a low-res, low-frame-rate video in space and time, from noise.

    The trunk is level 1's (``LatentStem``: noise ++ class embedding -> C x 4 x 4,
    repeated over the output frames, and the condition of every BatchNorm), but each
    unit is [``GenResBlock3dSeparable`` -> ``GenResBlock2d`` (x2 nearest upsampling in
    all units but the last) -> ``GenResBlock2d``], so ``out_size`` must equal
    ``4 * 2 ** (len(channel_mults) - 1)``. A final norm-relu-conv-tanh maps to RGB.

    Conditioning (section 3, appendix B.2): ``lowres`` is repeated in time (nearest)
    to the output length; after every block whose output resolution is <= ``in_size``
    a nearest-downsampled copy of it, mapped to the block's channels by a 1x1 conv,
    is added. Blocks above ``in_size`` get no residual ("we do not upscale the low
    resolution video"); ``residual_resolutions`` lists the blocks that get one.

    Default widths: appendix B.2's numbers did not survive in our copy of the paper.
    The defaults are for 128x128 outputs (6 units, 4 -> 128) at half of level 1's
    width (base 48 instead of 96), tapering (8, 8, 8, 4, 2, 1): about 384 channels
    at 4x4 down to 48 at 128x128, small enough for CPU benchmarks. Configs set the
    widths explicitly.

    Args:
        num_frames: T_out of the training length, and of the per-frame BatchNorm
            statistics the generator keeps (never changed: the output length is
            the input's times ``temporal_factor``; see "Other lengths").
        out_size: output height and width.
        in_size: height and width of the low-res input (4 <= in_size <= out_size).
        temporal_factor: T_out / T_in; the training input has
            ``num_frames // temporal_factor`` frames.
        base_channels: ``ch``; unit i has ``ch * channel_mults[i]`` channels.
        channel_mults: one multiplier per unit.
        noise_dim: size of z.
        num_classes: 0 for unconditional, else the number of classes.
        class_embed_dim: size of the class embedding.
        in_channels: channels of the low-res video.
        out_channels: channels of the output video.
        use_spectral_norm: spectral norm on every layer (appendix A).
        embed_spectral_norm: on the class embedding; None follows
            ``use_spectral_norm`` (see ``LatentStem``).
        cbn_spectral_norm: on the gain and bias layers of the conditional
            BatchNorms; None follows ``use_spectral_norm`` (see
            ``FrameBatchNorm``: off, they are plain and start at zero).
        residual_spectral_norm: spectral norm on the 1x1 convs of the low-res
            residuals (the paper: on, as every layer). A 1x1 conv from 3 to
            ``C`` channels with a largest singular value of 1 gives each
            channel about ``1/sqrt(C)`` of the input's scale, next to trunk
            activations of unit scale: the low-res signal is a whisper. Off,
            the conv is plain and initialised with rows of norm 1 (an
            orthogonal init times ``sqrt(C / in_channels)``), so every channel
            hears the input at the scale of the trunk.
        residual_resize: how each residual's copy of the low-res video is
            downsampled: ``'nearest'`` (appendix B.2: "nearest neighbor
            spatial downsampling") or ``'area'`` (the mean of each location's
            pixels). PyTorch's nearest downsampling by ``k`` keeps pixel
            ``k * i`` of every ``k x k`` cell, the cell's top-left one, so
            every residual's first row and column are the input's first row
            and column and the top-left location of all of them is one input
            pixel, the corner's; ``'area'`` weighs every pixel alike.
        padding_mode: spatial padding of every 3x3 convolution: ``'zeros'``
            (the paper's 'same' convolutions), ``'reflect'`` or
            ``'replicate'``. With zeros every convolution sees its features
            framed by zeros no frame has, and the demo's level 2 erred twice
            as much in its first and last columns as inside the frame
            (docs/quality.md). Time is always zero-padded (the exact
            streaming unroll relies on it).

    Shapes: ``forward(noise (B, noise_dim), lowres (B, in_channels, T_in, in_size,
    in_size) in [-1, 1], labels (B,) or None)`` returns ``(B, out_channels,
    T_in * temporal_factor, out_size, out_size)`` in [-1, 1].

    Other lengths: ``T_in * temporal_factor`` must be the length of the
    BatchNorm statistics in use (``statistics_frames``): ``num_frames``, or
    the length ``LengthStatistics.at_length`` supplies statistics for while
    sampling a longer input (appendix A). The generator itself is not resized.

    Windows: ``forward(..., frame_offset=s)`` takes ``lowres`` to be the
    window of the input video that makes output frames ``[s, s + T_in *
    temporal_factor)`` of the ``statistics_frames``-frame video, and normalises
    them with those frames' BatchNorm statistics. Away from its temporal edges a
    window's output equals the whole video's (the generator is convolutional in time);
    ``stream_upsample`` stitches windows into a long video in constant memory
    (in training mode, a window updates the BatchNorm statistics of its own
    frames: ``accumulate_statistics_windowed``).
    """

    def __init__(self, num_frames: int, out_size: int, in_size: int,
                 temporal_factor: int = 2, base_channels: int = 48,
                 channel_mults: Sequence[int] = (8, 8, 8, 4, 2, 1),
                 noise_dim: int = 128, num_classes: int = 0,
                 class_embed_dim: int = 128, in_channels: int = 3,
                 out_channels: int = 3, use_spectral_norm: bool = True,
                 embed_spectral_norm: Optional[bool] = None,
                 cbn_spectral_norm: Optional[bool] = None,
                 residual_spectral_norm: bool = True,
                 residual_resize: str = 'nearest', padding_mode: str = 'zeros'):
        super().__init__()
        check_out_size(out_size, channel_mults)
        if residual_resize not in ('nearest', 'area'):
            raise ValueError(f"residual_resize must be 'nearest' or 'area', "
                             f'got {residual_resize!r}')
        if not 4 <= in_size <= out_size:
            raise ValueError(
                f'in_size={in_size} must be between 4 (the first block resolution; '
                f'below it no block is conditioned) and out_size={out_size}')
        if temporal_factor < 1 or num_frames % temporal_factor != 0:
            raise ValueError(
                f'num_frames={num_frames} must be a multiple of '
                f'temporal_factor={temporal_factor} (T_out = T_in * temporal_factor)')
        self.num_frames = num_frames
        self.out_size = out_size
        self.in_size = in_size
        self.temporal_factor = temporal_factor
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        self.in_channels = in_channels
        channels = [base_channels * m for m in channel_mults]
        self.stem = LatentStem(noise_dim, num_classes, class_embed_dim, channels[0],
                               use_spectral_norm, embed_spectral_norm)
        cond_dim = self.stem.cond_dim

        def slot(block: nn.Module, ch: int, resolution: int) -> ConditionedBlock:
            # appendix B.2: no residual above the input resolution
            if resolution > in_size:
                return ConditionedBlock(block, resolution, None)
            residual = conv2d(in_channels, ch, 1, use_spectral_norm and residual_spectral_norm)
            if not residual_spectral_norm:
                # rows of norm 1: every channel gets the input at unit scale
                with torch.no_grad():
                    residual.weight.mul_(max(1.0, ch / in_channels)**0.5)
            return ConditionedBlock(block, resolution, residual, residual_resize)

        self.units = nn.ModuleList()
        in_ch, size = channels[0], 4
        for i, ch in enumerate(channels):
            upsample = i < len(channels) - 1
            up_size = 2 * size if upsample else size
            self.units.append(nn.ModuleList([
                slot(GenResBlock3dSeparable(in_ch, ch, num_frames, cond_dim,
                                            use_spectral_norm, cbn_spectral_norm,
                                            padding_mode),
                     ch, size),
                slot(GenResBlock2d(ch, ch, num_frames, cond_dim, upsample=upsample,
                                   use_spectral_norm=use_spectral_norm,
                                   cbn_spectral_norm=cbn_spectral_norm,
                                   padding_mode=padding_mode), ch, up_size),
                slot(GenResBlock2d(ch, ch, num_frames, cond_dim,
                                   use_spectral_norm=use_spectral_norm,
                                   cbn_spectral_norm=cbn_spectral_norm,
                                   padding_mode=padding_mode), ch, up_size),
            ]))
            in_ch, size = ch, up_size
        self.out_norm = FrameBatchNorm(in_ch, num_frames)
        self.out_conv = conv2d(in_ch, out_channels, use_spectral_norm=use_spectral_norm,
                               padding_mode=padding_mode)

    @property
    def input_frames(self) -> int:
        """T_in of the training length: ``num_frames // temporal_factor``."""
        return self.num_frames // self.temporal_factor

    @property
    def statistics_frames(self) -> int:
        """Output frames the BatchNorm statistics in use are for.

        ``num_frames`` (the training length), except inside
        ``LengthStatistics.at_length``, which supplies every FrameBatchNorm of
        the generator with statistics of one other length at once (so the
        last norm speaks for all).
        """
        return self.out_norm.num_frames

    @property
    def slots(self) -> List[ConditionedBlock]:
        """Every block, in order: three per unit (3D, 2D, 2D)."""
        return [slot for unit in self.units for slot in unit]

    @property
    def residual_resolutions(self) -> List[int]:
        """Output resolution of every block that gets a low-res residual, in order."""
        return [slot.resolution for slot in self.slots if slot.residual is not None]

    def check_lowres(self, lowres: Tensor, batch_size: int,
                     frame_offset: Optional[int] = None) -> None:
        if frame_offset is None:
            frames = self.statistics_frames
            expected = (batch_size, self.in_channels, frames // self.temporal_factor,
                        self.in_size, self.in_size)
            if tuple(lowres.shape) != expected:
                raise ValueError(
                    f'lowres must be (B, C, T_in, h, w) = {expected} (T_in = '
                    f'{frames} frames of BatchNorm statistics / temporal_factor '
                    f'{self.temporal_factor}; the training length is {self.num_frames}, '
                    'other lengths: LengthStatistics.at_length), got '
                    f'{tuple(lowres.shape)}')
            return
        expected = (batch_size, self.in_channels, self.in_size, self.in_size)
        shape = tuple(lowres.shape)
        if lowres.ndim != 5 or shape[:2] + shape[3:] != expected:
            raise ValueError(f'a lowres window must be (B, C, t, h, w) with (B, C, h, '
                             f'w) = {expected}, got {shape}')
        stop = frame_offset + shape[2] * self.temporal_factor
        if frame_offset % self.temporal_factor or frame_offset < 0 or \
                stop > self.statistics_frames:
            raise ValueError(
                f'a window of {shape[2]} input frames at frame_offset={frame_offset} '
                f'makes output frames [{frame_offset}, {stop}): the offset must be a '
                f'multiple of temporal_factor={self.temporal_factor} and the window '
                f'must end within the {self.statistics_frames} frames the BatchNorm '
                'statistics in use are for')

    def forward(self, noise: Tensor, lowres: Tensor, labels: Optional[Tensor] = None,
                frame_offset: Optional[int] = None) -> Tensor:
        """See the class docstring; ``frame_offset`` (output frames) selects a window."""
        self.check_lowres(lowres, noise.shape[0], frame_offset)
        num_frames = lowres.shape[2] * self.temporal_factor
        cond, x = self.stem(noise, labels, num_frames)
        # section 3: repeat the low-res frames to the output length; frames-major
        lowres = repeat_frames(lowres, num_frames).transpose(1, 2)
        with use_frame_offset(self, frame_offset):
            for slot in self.slots:
                x = slot(x, cond, lowres)
            x = per_frame(self.out_conv, F.relu(self.out_norm(x)))
        return torch.tanh(x).transpose(1, 2).contiguous()
