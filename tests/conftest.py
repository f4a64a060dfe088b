"""Shared fixtures: small synthetic videos written once per test session."""
import os
from pathlib import Path
from typing import List

import pytest
import torch
from video_fixtures import write_corrupt_video, write_synthetic_video

# Under pytest-xdist (README: ``-n 2``) each worker has a core: one torch thread
# each instead of two workers fighting over two cores with two threads apiece.
if os.environ.get('PYTEST_XDIST_WORKER'):
    torch.set_num_threads(1)

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


@pytest.fixture(scope='session')
def demo_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """Levels 1 and 2 of the demo hierarchy (``hvg2_demo_clips``), untrained, as
    checkpoint files: what sampling and evaluation tests load."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import hvg.models  # noqa: F401 (registers)
    from hvg.registry import MODELS
    init_default_scope('hvg')
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp('demo_ckpts')
    configs = Path(__file__).resolve().parents[1] / 'configs' / 'hvg'
    paths = []
    for name in ('demo_l1_clips', 'demo_l2_clips'):
        cfg = Config.fromfile(str(configs / f'{name}.py'))
        path = root / f'{name}.pth'
        # as tools/train.py writes them: the weights and the run's config
        torch.save({'state_dict': MODELS.build(cfg.model).state_dict(),
                    'meta': {'cfg': cfg.pretty_text}}, path)
        paths.append(str(path))
    return paths
