"""The evaluation protocol: what a video goes through before the I3D.

The trusted reference is the original TensorFlow FVD
(google-research ``frechet_video_distance.py``):

1. generated videos are quantised to uint8 first (they are compared as the
   videos a person would watch, as real clips are decoded);
2. every frame is resized to 224x224 with ``tf.image.resize_bilinear``
   (TF1 defaults: ``align_corners=False``, no half-pixel centres: the
   *legacy, asymmetric* mapping ``src = dst * in / out``), from the uint8
   values, without re-quantising;
3. pixels are scaled to ``[-1, 1]`` (``2 * x / 255 - 1``);
4. the I3D-Kinetics-400 logits, averaged over time, are the embedding.

``resize='tf_legacy'`` (default) reproduces step 2 exactly, arithmetic
included; ``resize='half_pixel'`` is PyTorch's ``F.interpolate(bilinear,
align_corners=False)``, the convention of StyleGAN-V's TorchScript I3D. Both
are identity at 224x224. See docs/metrics.md.
"""
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

I3D_SIZE = 224
RESIZE_MODES = ('tf_legacy', 'half_pixel')


def quantize_videos(videos: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` float in ``[-1, 1]`` -> the same layout as uint8.

    ``round((x + 1) * 127.5)`` after clamping, as ``video_to_uint8`` writes
    videos to disk (StyleGAN-V: ``(x * 127.5 + 128).clamp(0, 255)`` truncated,
    the same up to exact .5 ties).
    """
    if videos.dtype == torch.uint8:
        return videos
    return ((videos.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def as_uint8_bcthw(videos: Union[np.ndarray, Tensor]) -> Tensor:
    """uint8 ``(N, T, H, W, 3)`` (numpy, as files decode) -> ``(N, 3, T, H, W)``.

    Tensors already ``(N, 3, T, H, W)`` pass through.
    """
    if isinstance(videos, np.ndarray):
        if videos.dtype != np.uint8 or videos.ndim != 5 or videos.shape[-1] != 3:
            raise ValueError('videos must be uint8 (N, T, H, W, 3), got '
                             f'{videos.dtype} {videos.shape}')
        return torch.from_numpy(videos).permute(0, 4, 1, 2, 3)
    if videos.dtype != torch.uint8 or videos.dim() != 5 or videos.shape[1] != 3:
        raise ValueError('video tensors must be uint8 (N, 3, T, H, W), got '
                         f'{videos.dtype} {tuple(videos.shape)}')
    return videos


def _legacy_index(out_size: int, in_size: int):
    """TF's legacy bilinear source indices and weights along one axis."""
    # float32 like TF: scale = in / out; src = dst * scale (no half-pixel offset)
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.arange(out_size, dtype=np.float32) * scale
    lower = np.floor(src).astype(np.int64)
    upper = np.minimum(lower + 1, in_size - 1)
    lerp = (src - np.floor(src)).astype(np.float32)
    return torch.from_numpy(lower), torch.from_numpy(upper), torch.from_numpy(lerp)


def resize_tf_legacy(frames: Tensor, size: int) -> Tensor:
    """``tf.image.resize_bilinear(align_corners=False)`` of TF1, exactly.

    Args:
        frames: ``(N, C, H, W)`` float32.

    Same arithmetic as TF's kernel: ``top = tl + (tr - tl) * x_lerp``,
    ``bottom = bl + (br - bl) * x_lerp``, ``out = top + (bottom - top) * y_lerp``.
    """
    height, width = frames.shape[-2:]
    if (height, width) == (size, size):
        return frames
    y0, y1, ylerp = (t.to(frames.device) for t in _legacy_index(size, height))
    x0, x1, xlerp = (t.to(frames.device) for t in _legacy_index(size, width))
    top, bottom = frames[..., y0, :], frames[..., y1, :]
    tl, tr, bl, br = top[..., x0], top[..., x1], bottom[..., x0], bottom[..., x1]
    top = tl + (tr - tl) * xlerp
    bottom = bl + (br - bl) * xlerp
    return top + (bottom - top) * ylerp[:, None]


def i3d_input(videos: Tensor, resize: str = 'tf_legacy', size: int = I3D_SIZE) -> Tensor:
    """uint8 ``(B, 3, T, H, W)`` -> float ``(B, 3, T, size, size)`` in ``[-1, 1]``."""
    if resize not in RESIZE_MODES:
        raise ValueError(f'resize must be one of {RESIZE_MODES}, got {resize!r}')
    if videos.dtype != torch.uint8:
        raise ValueError(f'the protocol resizes uint8 videos, got {videos.dtype}: '
                         'quantize_videos() them first')
    batch, channels, frames = videos.shape[:3]
    flat = videos.permute(0, 2, 1, 3, 4).reshape(batch * frames, channels,
                                                  *videos.shape[-2:]).float()
    if resize == 'tf_legacy':
        flat = resize_tf_legacy(flat, size)
    elif flat.shape[-2:] != (size, size):
        flat = F.interpolate(flat, size=(size, size), mode='bilinear',
                             align_corners=False)
    flat = 2.0 * flat / 255.0 - 1.0
    return flat.reshape(batch, frames, channels, size, size).permute(0, 2, 1, 3, 4)
