"""Grounding of an upsampling level: does ``x_l`` keep the structure of ``x_{l-1}``?

Section 3 and appendix I of the paper: a level-2 sample "keeps the overall
structure of the low resolution generation". We measure it with the paper's
own operators. ``x_l`` is brought back to ``x_{l-1}``'s frame rate and size,
``S(T(x_l))`` (every ``temporal_factor``-th frame from the first, then an
antialiased bilinear downsampling, as ``LowResView`` makes real training
pairs), and compared with ``x_{l-1}`` by

- the Pearson correlation over all pixels of a video (1 for a perfect
  upsampler, about 0 for an output that ignores its input), and
- the PSNR in dB for videos in ``[-1, 1]`` (peak-to-peak 2).

Real pairs from the dataset give the ceiling; mismatched generated pairs
(``x_l`` of one sample against ``x_{l-1}`` of another) give the floor.
"""
from typing import Dict, Tuple

import torch
from torch import Tensor

from hvg.models.layers.resample import resize_frames


def bring_to_lowres(highres: Tensor, temporal_factor: int, size) -> Tensor:
    """``S(T(x_l))``: ``(B, C, T, H, W) -> (B, C, T // factor, h, w)``."""
    if highres.ndim != 5:
        raise ValueError(f'expected (B, C, T, H, W), got {tuple(highres.shape)}')
    frames = highres[:, :, ::temporal_factor].float()
    return resize_frames(frames, size, mode='bilinear', antialias=True)


def grounding_scores(lowres: Tensor, highres: Tensor,
                     temporal_factor: int) -> Tuple[Tensor, Tensor]:
    """Per-sample (correlation, PSNR) between ``S(T(highres))`` and ``lowres``.

    Args:
        lowres: ``(B, C, t, h, w)`` in ``[-1, 1]``, the level's input.
        highres: ``(B, C, t * temporal_factor, H, W)`` in ``[-1, 1]``, its output.
        temporal_factor: the level's frame-rate factor.

    Returns:
        two ``(B,)`` float64 tensors. A constant video has no correlation: its
        score is 0.
    """
    expected = lowres.shape[2] * temporal_factor
    if highres.shape[:2] != lowres.shape[:2] or highres.shape[2] != expected:
        raise ValueError(
            f'a level with temporal factor {temporal_factor} turns (B, C, t, h, w) '
            f'{tuple(lowres.shape)} into t * {temporal_factor} frames, got '
            f'{tuple(highres.shape)}')
    back = bring_to_lowres(highres, temporal_factor, lowres.shape[-2:]).double()
    low = lowres.double()
    a = back.flatten(1) - back.flatten(1).mean(1, keepdim=True)
    b = low.flatten(1) - low.flatten(1).mean(1, keepdim=True)
    denom = a.norm(dim=1) * b.norm(dim=1)
    corr = torch.where(denom > 0, (a * b).sum(1) / denom.clamp_min(1e-12),
                       torch.zeros_like(denom))
    mse = ((back - low)**2).flatten(1).mean(1)
    psnr = 10 * torch.log10(4.0 / mse.clamp_min(1e-12))
    return corr, psnr


def mismatched(lowres: Tensor, highres: Tensor) -> Tuple[Tensor, Tensor]:
    """Pairs ``(x_{l-1}[i], x_l[i + 1 mod B])``: the floor of the grounding scores."""
    if lowres.shape[0] < 2:
        raise ValueError('mismatched pairs need at least 2 samples')
    return lowres, torch.roll(highres, 1, dims=0)


def summarise(values: Tensor, name: str) -> Dict[str, float]:
    """Mean and 10th percentile of per-sample scores, as ``{name_mean, name_p10}``."""
    values = values.double().flatten()
    return {f'{name}_mean': float(values.mean()),
            f'{name}_p10': float(torch.quantile(values, 0.1))}
