"""Spatial transforms on a decoded clip ``imgs: (T, H, W, 3)`` uint8.

Every transform treats all frames of a clip alike (same crop, same flip), so
motion is untouched.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform

from hvg.registry import TRANSFORMS

Size = Union[int, Sequence[int]]


def _pair(size: Size, name: str) -> Tuple[int, int]:
    """``int`` -> square ``(H, W)``; a 2-sequence -> ``(H, W)``."""
    if isinstance(size, int):
        pair = (size, size)
    else:
        pair = tuple(int(s) for s in size)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(
            f'{name} must be a positive int or (H, W), got {size}')
    return pair


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Bilinear resize of every frame.

    This is the paper's spatial downsampling operator ``S`` (bilinear), done
    with antialiasing so that a 4x downsample averages the pixels it drops
    instead of aliasing them.

    Required keys:
        - imgs
    Modified keys:
        - imgs
        - img_shape

    Args:
        scale: output ``(H, W)``; the aspect ratio may change.
        short_side: output short side; the long side keeps the aspect ratio
            (rounded). Give exactly one of ``scale`` and ``short_side``.
    """

    def __init__(self,
                 scale: Optional[Size] = None,
                 short_side: Optional[int] = None) -> None:
        if (scale is None) == (short_side is None):
            raise ValueError('give exactly one of scale and short_side')
        self.scale = None if scale is None else _pair(scale, 'scale')
        if short_side is not None and short_side < 1:
            raise ValueError(f'short_side must be >= 1, got {short_side}')
        self.short_side = short_side

    def _output_size(self, height: int, width: int) -> Tuple[int, int]:
        if self.scale is not None:
            return self.scale
        ratio = self.short_side / min(height, width)
        return (max(1, round(height * ratio)), max(1, round(width * ratio)))

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        size = self._output_size(*imgs.shape[1:3])
        if size != imgs.shape[1:3]:
            frames = torch.from_numpy(imgs).permute(0, 3, 1, 2).float()
            frames = F.interpolate(
                frames,
                size=size,
                mode='bilinear',
                align_corners=False,
                antialias=True)
            imgs = frames.round().clamp(0, 255).to(torch.uint8).permute(
                0, 2, 3, 1).contiguous().numpy()
        results['imgs'] = imgs
        results['img_shape'] = size
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'short_side={self.short_side})')


class _Crop(BaseTransform):
    """Shared body of the crops; subclasses choose the top-left corner."""

    def __init__(self, size: Size) -> None:
        self.size = _pair(size, 'size')

    def _top_left(self, height: int, width: int) -> Tuple[int, int]:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        height, width = imgs.shape[1:3]
        crop_h, crop_w = self.size
        if height < crop_h or width < crop_w:
            raise ValueError(
                f'{self.__class__.__name__}: frames of '
                f'{results.get("filename", "the clip")} are {height}x{width}, '
                f'smaller than the crop {crop_h}x{crop_w}; resize first '
                '(e.g. Resize(short_side=...))')
        top, left = self._top_left(height, width)
        results['imgs'] = np.ascontiguousarray(imgs[:, top:top + crop_h,
                                                    left:left + crop_w])
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'


@TRANSFORMS.register_module()
class RandomCrop(_Crop):
    """Crop the same random window from every frame.

    Required keys:
        - imgs
    Modified keys:
        - imgs
        - img_shape

    Args:
        size: crop ``(H, W)``, or an int for a square.
    """

    def _top_left(self, height: int, width: int) -> Tuple[int, int]:
        return (np.random.randint(0, height - self.size[0] + 1),
                np.random.randint(0, width - self.size[1] + 1))


@TRANSFORMS.register_module()
class CenterCrop(_Crop):
    """Crop the central window of every frame (deterministic, for testing).

    Required keys:
        - imgs
    Modified keys:
        - imgs
        - img_shape

    Args:
        size: crop ``(H, W)``, or an int for a square.
    """

    def _top_left(self, height: int, width: int) -> Tuple[int, int]:
        return ((height - self.size[0]) // 2, (width - self.size[1]) // 2)


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Mirror the whole clip left-right with probability ``flip_ratio``.

    Required keys:
        - imgs
    Modified keys:
        - imgs
    Added keys:
        - flip: whether this clip was flipped

    Args:
        flip_ratio: probability of flipping.
    """

    def __init__(self, flip_ratio: float = 0.5) -> None:
        if not 0 <= flip_ratio <= 1:
            raise ValueError(f'flip_ratio must be in [0, 1], got {flip_ratio}')
        self.flip_ratio = flip_ratio

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.flip_ratio)
        if flip:
            results['imgs'] = np.ascontiguousarray(results['imgs'][:, :, ::-1])
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(flip_ratio={self.flip_ratio})'
