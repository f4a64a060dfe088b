"""Upsample a long video window by window, in memory that does not grow with it.

Section 2, "Inference": an upsampling level "is applied in a sliding window
manner" over the whole previous-level output. Run on all of it at once, its
activations grow with the length (48 frames of 128x128 at 48+ channels per
layer). But an output frame depends only on the input frames within the
generator's temporal receptive field, so the video can be made in passes over
windows of ``chunk_frames`` output frames plus a halo on either side, keeping
each window's exact frames (``plan_windows``): the result is the whole-video
forward pass, to float rounding, with the memory of one window. Every window
has the same length, so the peak does not depend on the video's length.

Every frame keeps the BatchNorm statistics of its absolute index (the
generator's ``frame_offset`` windows), so the statistics in use must be those
of the whole length: stream inside ``LengthStatistics.at_length(T_out)``, whose
dummy passes (``LengthStatistics.prepare``) can be windowed the same way
(``accumulate_statistics_windowed``).

Nothing here depends on ``length_statistics`` (which builds on this module):
the generator's ``num_frames`` is always its training length.
"""
import math
from typing import Iterator, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from ..layers import ConvGRU, frame_batch_norms


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
    # num_frames is the training length whatever length is being sampled
    frames = max(generator.num_frames, 2 * temporal_halo(generator))
    return factor * math.ceil(frames / factor)


class Window(NamedTuple):
    """One pass of a streamed video, in output frames.

    The pass runs input frames ``[first, last)`` (output frames ``[first * k,
    last * k)``) and keeps its exact output frames ``[start, stop)``.
    """
    start: int
    stop: int
    first: int
    last: int


def plan_windows(out_frames: int, temporal_factor: int, chunk_frames: int,
                 halo: int) -> List[Window]:
    """Passes of ``chunk_frames + 2 * halo`` output frames that make a video exactly.

    Every pass has the same length ``W = chunk_frames + 2 * halo`` (or the whole
    video, if that is shorter): the memory of a pass, not the video's length,
    sets the peak, so it is the same for 48 frames as for 480. An interior
    pass keeps its middle ``chunk_frames`` frames (``halo`` frames of context
    either side); the first pass starts at frame 0 and keeps all but its last
    ``halo`` frames (nothing lies before the video), the last pass ends at the
    video's end and keeps what is left. Each output frame is kept from exactly
    one pass, at least ``halo`` frames from that pass's inner edges.

    All numbers are output frames, multiples of ``temporal_factor``.
    """
    span = min(chunk_frames + 2 * halo, out_frames)
    windows: List[Window] = []
    start, first = 0, 0  # next frame to make; first frame of the next pass
    while start < out_frames:
        if first + span >= out_frames:  # the last pass: flush with the end
            first = out_frames - span
            stop = out_frames
        else:
            stop = first + span - halo
        windows.append(Window(start, stop, first // temporal_factor,
                              (first + span) // temporal_factor))
        start, first = stop, stop - halo
    return windows


def _windows(generator: nn.Module, noise: Tensor, lowres: Tensor,
             chunk_frames: Optional[int], halo: Optional[int]
             ) -> Iterator[Tuple[int, int, int, Tensor]]:
    """``(start, stop, offset, lowres window)`` of every pass of ``plan_windows``.

    ``offset`` is the pass's first output frame; it keeps ``[start, stop)``.
    """
    # the whole video must match the statistics in use, before any pass runs
    generator.check_lowres(lowres, noise.shape[0])
    factor = generator.temporal_factor
    if chunk_frames is None:
        chunk_frames = default_chunk_frames(generator)
    elif chunk_frames < 1 or chunk_frames % factor:
        raise ValueError(f'chunk_frames={chunk_frames} must be a positive multiple of '
                         f'temporal_factor={factor}: chunks start on input frames')
    halo = temporal_halo(generator) if halo is None else halo
    for start, stop, first, last in plan_windows(lowres.shape[2] * factor, factor,
                                                 chunk_frames, halo):
        yield start, stop, first * factor, lowres[:, :, first:last]


@torch.no_grad()
def upsample_chunks(generator: nn.Module, noise: Tensor, lowres: Tensor,
                    labels: Optional[Tensor] = None, chunk_frames: Optional[int] = None,
                    halo: Optional[int] = None) -> Iterator[Tuple[int, Tensor]]:
    """Yield ``(start, frames)``: the output video, a window's exact frames at a time.

    ``frames`` is output frames ``[start, start + n)`` of
    ``generator(noise, lowres, labels)``, ``(B, C_out, n, H, W)``, from passes
    over ``chunk_frames + 2 * halo`` output frames (``plan_windows``): ``n`` is
    ``chunk_frames`` inside the video and up to ``chunk_frames + halo`` at its
    ends. Time is zero-padded only at the video's true edges. Consume the
    chunks one by one (e.g. write them out) and memory does not grow with the
    length at all.

    Args:
        generator: an ``UpsamplingGenerator`` in eval mode, with BatchNorm
            statistics for the whole video's length in use
            (``LengthStatistics.at_length``), so that every frame uses the
            statistics of its absolute index.
        noise, lowres, labels: as for ``generator.forward``; ``lowres`` is the
            whole input video, ``(B, C, T_out // temporal_factor, h, w)``.
        chunk_frames: output frames each interior pass keeps, a multiple of
            ``temporal_factor``; None: ``default_chunk_frames(generator)``.
        halo: output frames of context on either side; None:
            ``temporal_halo(generator)``, the least that gives exact results.
    """
    if any(m.training for m in generator.modules()):
        raise RuntimeError(
            'stream the generator in eval mode (generator.eval()): in training mode '
            'every window would update the BatchNorm statistics and the '
            'spectral-norm estimates, and the windows would disagree')
    for start, stop, offset, window in _windows(generator, noise, lowres, chunk_frames,
                                                halo):
        frames = generator(noise, window, labels, frame_offset=offset)
        yield start, frames[:, :, start - offset:stop - offset]


@torch.no_grad()
def accumulate_statistics_windowed(generator: nn.Module, noise: Tensor, lowres: Tensor,
                                   labels: Optional[Tensor] = None,
                                   chunk_frames: Optional[int] = None,
                                   halo: Optional[int] = None) -> None:
    """One BatchNorm-statistics pass (appendix A) over a long video, window by window.

    In training mode a ``FrameBatchNorm`` normalises frame ``t`` with that
    frame's batch statistics only, so they too depend on nothing beyond the
    temporal receptive field: a window's exact frames (``plan_windows``) see
    the statistics the whole-video pass sees, at every layer. Each window's
    pass updates the running statistics of all its frames; those of the frames
    it does not keep (its halos) are put back as they were, so every frame is
    updated exactly once per call, as in one whole-video pass, in the memory of
    one window. ``LengthStatistics.prepare(..., chunk_frames=C)`` calls this for
    every dummy pass, with the FrameBatchNorms (and only they) in training mode
    and the statistics being computed in use: the statistics in use are what
    is updated, whether they are supplied or the buffers.
    """
    norms = frame_batch_norms(generator)
    if not all(norm.training for norm in norms):
        raise RuntimeError('statistics passes need the FrameBatchNorms in training mode')
    for start, stop, offset, window in _windows(generator, noise, lowres, chunk_frames,
                                                halo):
        frames = slice(offset, offset + window.shape[2] * generator.temporal_factor)
        saved = [(n.statistics[0][frames].clone(), n.statistics[1][frames].clone())
                 for n in norms]
        generator(noise, window, labels, frame_offset=offset)
        keep = slice(start - offset, stop - offset)
        for norm, (mean, var) in zip(norms, saved):
            # restore all but the kept frames of this window
            running_mean, running_var = norm.statistics
            mean[keep] = running_mean[frames][keep]
            var[keep] = running_var[frames][keep]
            running_mean[frames] = mean
            running_var[frames] = var


@torch.no_grad()
def stream_upsample(generator: nn.Module, noise: Tensor, lowres: Tensor,
                    labels: Optional[Tensor] = None, chunk_frames: Optional[int] = None,
                    halo: Optional[int] = None) -> Tensor:
    """``generator(noise, lowres, labels)``, made chunk by chunk (``upsample_chunks``).

    Equal to the whole-video pass to float rounding (about 1e-6 in float32).
    The activations are those of one window (chunk plus halos); only the
    returned ``(B, C_out, T_out, H, W)`` video grows with the length.
    """
    video = None
    for start, frames in upsample_chunks(generator, noise, lowres, labels,
                                         chunk_frames, halo):
        if video is None:
            video = frames.new_empty(*frames.shape[:2],
                                     lowres.shape[2] * generator.temporal_factor,
                                     *frames.shape[3:])
        video[:, :, start:start + frames.shape[2]] = frames
    return video
