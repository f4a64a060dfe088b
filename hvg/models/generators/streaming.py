"""Upsample a long video window by window, in memory that does not grow with it.

Section 2, "Inference": an upsampling level "is applied in a sliding window
manner" over the whole previous-level output. Run on all of it at once, its
activations grow with the length (48 frames of 128x128 at 48+ channels per
layer). But an output frame depends only on the input frames within the
generator's temporal receptive field, so the video can be made in chunks of
``chunk_frames`` output frames, each computed from its input frames plus a halo
on either side, and the chunks' centres stitched: the result is the whole-video
forward pass, to float rounding, with the memory of one chunk plus its halos.

Every frame keeps the BatchNorm statistics of its absolute index (the
generator's ``frame_offset`` windows), so the statistics must be those of the
whole length first: ``unroll_generator(generator, T_out, ...)``.
"""
import math
from typing import Iterator, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from ..layers import ConvGRU
from .unroll import trained_num_frames


def temporal_radius(generator: nn.Module) -> int:
    """How many output frames on either side one output frame depends on.

    In an ``UpsamplingGenerator`` only the temporal convolutions mix frames:
    each ``GenResBlock3dSeparable`` has two of kernel 3 ('same' zero padding),
    a radius of 1 each, so 2 per unit; 2D blocks, BatchNorms in eval mode (per
    frame), the low-res residuals (frame ``j`` is input frame ``j // factor``)
    and the stem (the same map for every frame) do not. Radii of convolutions
    in sequence add up, so the sum over every ``nn.Conv3d`` is the radius (an
    upper bound if some were in parallel). Recurrent generators (level 1's
    ConvGRU) depend on every earlier frame and are refused.
    """
    if any(isinstance(m, ConvGRU) for m in generator.modules()):
        raise ValueError('this generator is recurrent in time (ConvGRU): every frame '
                         'depends on all earlier ones, it cannot be run in windows')
    radius = 0
    for module in generator.modules():
        if isinstance(module, nn.Conv3d):
            if module.stride[0] != 1:
                raise ValueError(f'a temporal stride of {module.stride[0]} is not '
                                 'supported: windows assume frame-for-frame convs')
            radius += module.dilation[0] * (module.kernel_size[0] - 1) // 2
    return radius


def temporal_halo(generator: nn.Module) -> int:
    """Output frames each window needs on either side of its exact centre.

    A window is cut from the low-res input, which the generator repeats
    ``temporal_factor`` (k) times in time: input frames ``[a, b)`` make output
    frames ``[a k, b k)``, so window edges fall on multiples of k. A centre
    frame is exact when every frame within ``temporal_radius`` (R) of it is in
    the window (or beyond the video's true edge, where the whole-video pass
    pads with the same zeros). The halo is therefore R rounded up to a
    multiple of k: ``k * ceil(R / k)`` output frames, ``ceil(R / k)`` input
    frames. E.g. 6 units, k = 2: R = 12, halo 12 (6 input frames); 5 units:
    R = 10, halo 10. One input frame less and the frames at a chunk's edge
    change (tests/test_models/test_streaming.py checks both).
    """
    factor = generator.temporal_factor
    return factor * math.ceil(temporal_radius(generator) / factor)


def default_chunk_frames(generator: nn.Module) -> int:
    """``max(training length, 2 * halo)``, a multiple of ``temporal_factor``.

    A chunk of c output frames costs a pass over c + 2 * halo frames; at
    c >= 2 * halo the halos at most double the work of an interior chunk,
    while the memory (that of c + 2 * halo frames) still does not depend on the
    video's length. Never below the training length: a pass that long is
    known to fit, and longer chunks waste less on halos.
    """
    factor = generator.temporal_factor
    frames = max(trained_num_frames(generator), 2 * temporal_halo(generator))
    return factor * math.ceil(frames / factor)


@torch.no_grad()
def upsample_chunks(generator: nn.Module, noise: Tensor, lowres: Tensor,
                    labels: Optional[Tensor] = None, chunk_frames: Optional[int] = None,
                    halo: Optional[int] = None) -> Iterator[Tuple[int, Tensor]]:
    """Yield ``(start, frames)``: the output video ``chunk_frames`` frames at a time.

    ``frames`` is output frames ``[start, start + chunk)`` of
    ``generator(noise, lowres, labels)``, ``(B, C_out, chunk, H, W)`` (the last
    chunk may be shorter), computed from input frames ``[start - halo, stop +
    halo) / temporal_factor``, clipped to the video, so the zero padding in time
    happens only at its true edges. Consume them one by one (e.g. write them
    out) and memory does not grow with the length at all.

    Args:
        generator: an ``UpsamplingGenerator`` in eval mode, set to the whole
            video's length (``unroll_generator``), so that every frame uses
            the BatchNorm statistics of its absolute index.
        noise, lowres, labels: as for ``generator.forward``; ``lowres`` is the
            whole input video, ``(B, C, num_frames // temporal_factor, h, w)``.
        chunk_frames: output frames per chunk, a multiple of
            ``temporal_factor``; None: ``default_chunk_frames(generator)``.
        halo: output frames of context on either side; None:
            ``temporal_halo(generator)``, the least that gives exact results.
    """
    if any(m.training for m in generator.modules()):
        raise RuntimeError(
            'stream the generator in eval mode (generator.eval()): in training mode '
            'every window would update the BatchNorm statistics and the '
            'spectral-norm estimates, and the windows would disagree')
    factor = generator.temporal_factor
    generator.check_lowres(lowres, noise.shape[0])
    if chunk_frames is None:
        chunk_frames = default_chunk_frames(generator)
    if chunk_frames < 1 or chunk_frames % factor:
        raise ValueError(f'chunk_frames={chunk_frames} must be a positive multiple of '
                         f'temporal_factor={factor}: chunks start on input frames')
    halo = temporal_halo(generator) if halo is None else halo
    out_frames, in_frames = generator.num_frames, lowres.shape[2]
    for start in range(0, out_frames, chunk_frames):
        stop = min(start + chunk_frames, out_frames)
        first = max(0, (start - halo) // factor)  # input frames of the window
        last = min(in_frames, -(-(stop + halo) // factor))
        offset = first * factor  # its first output frame
        window = generator(noise, lowres[:, :, first:last], labels, frame_offset=offset)
        yield start, window[:, :, start - offset:stop - offset]


@torch.no_grad()
def stream_upsample(generator: nn.Module, noise: Tensor, lowres: Tensor,
                    labels: Optional[Tensor] = None, chunk_frames: Optional[int] = None,
                    halo: Optional[int] = None) -> Tensor:
    """``generator(noise, lowres, labels)``, made chunk by chunk (``upsample_chunks``).

    Equal to the whole-video pass to float rounding (about 1e-6 in float32).
    The activations are those of one chunk plus its halos; only the returned
    ``(B, C_out, T_out, H, W)`` video grows with the length.
    """
    video = None
    for start, frames in upsample_chunks(generator, noise, lowres, labels,
                                         chunk_frames, halo):
        if video is None:
            video = frames.new_empty(*frames.shape[:2], generator.num_frames,
                                     *frames.shape[3:])
        video[:, :, start:start + frames.shape[2]] = frames
    return video
