"""Open a video, choose which frames to read, decode them.

A video that is missing, corrupt or too short is not an error: the transform
logs one warning for that file and returns ``None``, and mmengine's
``BaseDataset`` then fetches another random index (training mode only). One
bad file among hundreds of thousands should cost a log line, not a run.
"""
import logging
from typing import Optional, Set

import decord
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from hvg.registry import TRANSFORMS

# What decord raises for a file it cannot read: RuntimeError when opening
# fails, an assertion on a zero-frame container, DECORDError (not a
# RuntimeError) when a frame fails to decode or convert. IndexError is left
# out on purpose: out-of-range frame_inds are a bug, not a bad file.
_DECORD_ERRORS = (RuntimeError, AssertionError, decord.DECORDError)


def _first_line(error: BaseException) -> str:
    """A one-line reason (decord appends C++ stack traces)."""
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


def _warn_once(warned: Set[str], filename: str, message: str) -> None:
    """Log ``message`` the first time ``filename`` fails in this transform.

    The same broken file is drawn again every epoch; repeating the warning
    would bury the rest of the log.
    """
    if filename in warned:
        return
    warned.add(filename)
    print_log(message, logger='current', level=logging.WARNING)


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open a video with decord.

    Required keys:
        - filename
    Added keys:
        - video_reader
        - total_frames
        - avg_fps
        - original_shape: ``(H, W)``

    Returns ``None`` (skip, see the module docstring) when the file is missing
    or cannot be opened.

    Args:
        num_threads: decoder threads per video; 1 because dataloader workers
            already decode videos in parallel.
    """

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = num_threads
        self._warned: Set[str] = set()

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['filename']
        try:
            reader = decord.VideoReader(filename, num_threads=self.num_threads)
            # decord exposes no frame size: decoding frame 0 is the only way.
            height, width = reader[0].shape[:2]
        except _DECORD_ERRORS as error:
            _warn_once(
                self._warned, filename,
                f'Skipping video {filename}: cannot open it '
                f'({_first_line(error)})')
            return None
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results['avg_fps'] = reader.get_avg_fps()
        results['original_shape'] = (height, width)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_threads={self.num_threads})'


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Choose ``clip_len`` frame indices ``frame_interval`` apart.

    ``frame_interval`` is the paper's temporal subsampling ``T``: a level-1
    clip of 24 frames with interval 8 covers 192 frames of the source. The
    window starts uniformly at random in ``[0, total_frames - span]``, or at
    the centre when ``random_offset=False`` or ``results['test_mode']`` is
    true (so evaluation is deterministic).

    A video shorter than the span is skipped (``None`` and one warning per
    file), never padded: repeated frames would teach the generator to freeze.

    Required keys:
        - filename
        - total_frames
        - test_mode (optional)
    Added keys:
        - frame_inds: ``(clip_len,)`` int64
        - clip_len
        - frame_interval

    Args:
        clip_len: number of frames in the clip.
        frame_interval: stride between chosen frames.
        random_offset: draw the start at random (training) or take the centre.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 random_offset: bool = True) -> None:
        if clip_len < 1 or frame_interval < 1:
            raise ValueError('clip_len and frame_interval must be >= 1, got '
                             f'{clip_len} and {frame_interval}')
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.random_offset = random_offset
        self._warned: Set[str] = set()

    @property
    def span(self) -> int:
        """Number of source frames one clip covers."""
        return (self.clip_len - 1) * self.frame_interval + 1

    def transform(self, results: dict) -> Optional[dict]:
        total = results['total_frames']
        if total < self.span:
            filename = results['filename']
            _warn_once(
                self._warned, filename,
                f'Skipping video {filename}: {total} frames, but '
                f'clip_len={self.clip_len} x frame_interval='
                f'{self.frame_interval} needs {self.span}')
            return None
        max_start = total - self.span
        if self.random_offset and not results.get('test_mode', False):
            start = np.random.randint(0, max_start + 1)
        else:
            start = max_start // 2
        results['frame_inds'] = (
            start + np.arange(self.clip_len) * self.frame_interval).astype(
                np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, '
                f'random_offset={self.random_offset})')


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Decode the chosen frames into ``imgs``.

    The reader is removed from ``results`` afterwards: it holds a file handle
    and cannot be collated or sent between processes.

    Required keys:
        - filename
        - video_reader
        - frame_inds
    Added keys:
        - imgs: ``(T, H, W, 3)`` uint8 RGB
        - img_shape: ``(H, W)``
    Removed keys:
        - video_reader
    """

    def __init__(self) -> None:
        self._warned: Set[str] = set()

    def transform(self, results: dict) -> Optional[dict]:
        reader = results.pop('video_reader')
        try:
            imgs = reader.get_batch(results['frame_inds']).asnumpy()
        except _DECORD_ERRORS as error:
            filename = results['filename']
            _warn_once(
                self._warned, filename,
                f'Skipping video {filename}: cannot decode frames '
                f'({_first_line(error)})')
            return None
        results['imgs'] = imgs
        results['img_shape'] = imgs.shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
