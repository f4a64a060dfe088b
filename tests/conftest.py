"""Shared fixtures: small synthetic videos written once per test session."""
from pathlib import Path

import pytest
from video_fixtures import write_corrupt_video, write_synthetic_video

SYNTHETIC_NUM_FRAMES = 40
SYNTHETIC_SHAPE = (48, 64)  # (H, W)
SYNTHETIC_VIDEOS = ('video_0.mp4', 'video_1.mp4', 'sub/video_2.mp4')


@pytest.fixture(scope='session')
def synthetic_video_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of frame-index-encoded videos and their annotation lists.

    Contents:
        - ``video_0.mp4``, ``video_1.mp4``, ``sub/video_2.mp4``: 40 frames,
          48x64, 25 fps, frame ``i`` encodes ``i`` (see ``video_fixtures``).
        - ``corrupt.mp4``: random bytes.
        - ``ann.txt``: the three videos with labels 0, 1, 2.
        - ``ann_with_corrupt.txt``: ``ann.txt`` plus ``corrupt.mp4 0``.
    """
    root = tmp_path_factory.mktemp('synthetic_videos')
    for name in SYNTHETIC_VIDEOS:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_video(root / name, SYNTHETIC_NUM_FRAMES,
                              *SYNTHETIC_SHAPE)
    write_corrupt_video(root / 'corrupt.mp4')
    lines = [f'{name} {label}' for label, name in enumerate(SYNTHETIC_VIDEOS)]
    (root / 'ann.txt').write_text('\n'.join(lines) + '\n')
    (root / 'ann_with_corrupt.txt').write_text('\n'.join(lines) +
                                               '\ncorrupt.mp4 0\n')
    return root
