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


def bilinear_resize(imgs: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Antialiased bilinear resize of a clip, the paper's operator ``S``.

    Args:
        imgs: ``(T, H, W, 3)`` uint8.
        size: output ``(H, W)``.

    Returns:
        ``(T, *size, 3)`` uint8; ``imgs`` itself when the size is unchanged.
    """
    if tuple(size) == tuple(imgs.shape[1:3]):
        return imgs
    frames = torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1,
                                                                  2).float()
    frames = F.interpolate(
        frames,
        size=tuple(size),
        mode='bilinear',
        align_corners=False,
        antialias=True)
    return frames.round().clamp(0, 255).to(torch.uint8).permute(
        0, 2, 3, 1).contiguous().numpy()


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
        results['imgs'] = bilinear_resize(imgs, size)
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


@TRANSFORMS.register_module()
class LowResView(BaseTransform):
    """Add the aligned low-resolution view ``x_{l-1} = T(S(x_l))`` of a clip.

    An upsampling level ``l`` learns ``p(x_l | x_{l-1})`` on pairs cut from
    one decoded clip (paper, "Problem Setting" and "Partial View Training"):
    ``imgs`` is the high-res partial view ``x_l`` and this transform derives
    its conditioning input from it, so both views cover the same time window
    and the same (cropped, flipped) image area:

    - ``T`` (temporal subsampling): keep every ``temporal_stride``-th frame,
      starting at the first. Low-res frame ``i`` is high-res frame
      ``temporal_stride * i``; with ``SampleFrames(frame_interval=k)`` the
      low-res view runs at source interval ``k * temporal_stride``, the frame
      rate of level ``l - 1``.
    - ``S`` (spatial downsampling): the antialiased bilinear resize of
      ``Resize`` (``bilinear_resize``) to ``size``.

    Put it after the high-res ``Resize``/crop/``Flip`` so the pair stays
    aligned in space, and before ``PackVideoInputs(input_keys=...)``.

    Required keys:
        - imgs: ``(T, H, W, 3)`` uint8, ``T`` divisible by ``temporal_stride``
        - frame_inds (optional): ``(T,)`` source indices of ``imgs``
    Added keys:
        - ``out_key`` (default ``lowres_imgs``): ``(T // temporal_stride, h,
          w, 3)`` uint8
        - lowres_frame_inds: ``frame_inds[::temporal_stride]``, only when
          ``frame_inds`` is present

    Args:
        temporal_stride: the subsampling factor of ``T`` (2 in the paper's
            upsampling levels).
        size: low-res ``(h, w)``, or an int for a square; at most the
            high-res size. Required.
        out_key: the results key the low-res clip is written to.
    """

    def __init__(self,
                 temporal_stride: int = 2,
                 size: Optional[Size] = None,
                 out_key: str = 'lowres_imgs') -> None:
        # No default size: it is the previous level's resolution, which
        # differs per dataset and level. (None only because it follows
        # temporal_stride, so ``LowResView(2, 32)`` reads as in the paper.)
        if size is None:
            raise ValueError('LowResView: size (the low-res (h, w)) is '
                             'required')
        if int(temporal_stride) != temporal_stride or temporal_stride < 1:
            raise ValueError(
                f'temporal_stride must be an int >= 1, got {temporal_stride}')
        self.temporal_stride = int(temporal_stride)
        self.size = _pair(size, 'size')
        self.out_key = out_key

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if imgs.ndim != 4 or imgs.shape[-1] != 3 or imgs.dtype != np.uint8:
            raise ValueError('LowResView: imgs must be (T, H, W, 3) uint8, '
                             f'got {imgs.dtype} {imgs.shape}')
        num_frames, height, width = imgs.shape[:3]
        if num_frames % self.temporal_stride:
            raise ValueError(
                f'LowResView: {num_frames} frames are not divisible by '
                f'temporal_stride={self.temporal_stride}; choose clip_len a '
                'multiple of it so every low-res frame has its high-res '
                'partners')
        low_h, low_w = self.size
        if low_h > height or low_w > width:
            raise ValueError(
                f'LowResView: the low-res size {low_h}x{low_w} is larger than '
                f'the high-res frames {height}x{width}; S only downsamples')
        results[self.out_key] = np.ascontiguousarray(
            bilinear_resize(imgs[::self.temporal_stride], self.size))
        if 'frame_inds' in results:
            results['lowres_frame_inds'] = np.asarray(
                results['frame_inds'])[::self.temporal_stride].copy()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'temporal_stride={self.temporal_stride}, size={self.size}, '
                f'out_key={self.out_key!r})')
