"""Synthetic videos whose frames say which frame they are.

Frame ``i`` is one flat colour that encodes ``i`` in base 8, one digit per
RGB channel (level ``16 + 32 * digit``). Flat frames survive H.264 almost
exactly (errors of a few levels against a spacing of 32), and because the
code is the frame's mean colour it also survives resizing, cropping and
flipping. Up to 512 frames can be told apart.

Helpers live here rather than in ``conftest.py`` so tests can import them:
``from video_fixtures import write_synthetic_video, decode_frame_index``
(pytest puts ``tests/`` on ``sys.path`` for the rootdir conftest).
"""
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Union

import numpy as np
from mmengine.logging import MMLogger

from hvg.utils.video_io import write_mp4

_BASE = 8
_LOW, _STEP = 16, 32
MAX_FRAMES = _BASE**3


def frame_colour(index: int) -> np.ndarray:
    """RGB uint8 colour of frame ``index``."""
    if not 0 <= index < MAX_FRAMES:
        raise ValueError(f'frame index must be in [0, {MAX_FRAMES})')
    digits = [(index // _BASE**k) % _BASE for k in range(3)]
    return np.array([_LOW + _STEP * d for d in digits], dtype=np.uint8)


def synthetic_frames(num_frames: int, height: int, width: int) -> np.ndarray:
    """``(num_frames, height, width, 3)`` uint8, frame ``i`` coloured ``i``."""
    colours = np.stack([frame_colour(i) for i in range(num_frames)])
    return np.ascontiguousarray(
        np.broadcast_to(colours[:, None, None],
                        (num_frames, height, width, 3)))


def write_synthetic_video(path: Union[str, Path],
                          num_frames: int,
                          height: int,
                          width: int,
                          fps: float = 25) -> Path:
    """Write an H.264 MP4 of ``synthetic_frames`` and return its path."""
    write_mp4(path, synthetic_frames(num_frames, height, width), fps)
    return Path(path)


def decode_frame_index(frame: np.ndarray) -> int:
    """Invert the encoding: ``(H, W, 3)`` frame (uint8 or float 0..255)."""
    mean = np.asarray(frame, dtype=np.float64).reshape(-1, 3).mean(axis=0)
    digits = np.clip(np.rint((mean - _LOW) / _STEP), 0, _BASE - 1).astype(int)
    return int(sum(d * _BASE**k for k, d in enumerate(digits)))


def decode_frame_indices(imgs: np.ndarray) -> List[int]:
    """``decode_frame_index`` over a ``(T, H, W, 3)`` clip."""
    return [decode_frame_index(frame) for frame in imgs]


def write_corrupt_video(path: Union[str, Path], seed: int = 0) -> Path:
    """Random bytes named like a video: what a failed download looks like."""
    Path(path).write_bytes(np.random.default_rng(seed).bytes(4096))
    return Path(path)


@contextmanager
def capture_mmengine_warnings() -> Iterator[List[str]]:
    """Collect the warnings logged through the current ``MMLogger``.

    MMLogger does not propagate to the root logger, so pytest's ``caplog``
    never sees its records; this attaches a handler for the block.
    """
    messages: List[str] = []

    class _Collect(logging.Handler):

        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
