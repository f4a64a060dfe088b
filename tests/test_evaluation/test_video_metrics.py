"""compute_fvd, video-set statistics and their cache, the mmengine metric and loop."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from hvg.evaluation import (I3DExtractor, VideoSetStats, compute_fvd,
                            compute_video_metrics)

REPO = Path(__file__).resolve().parents[2]






def moving_squares(num, frames=8, size=32, seed=0, speed=2):
    """uint8 (N, T, H, W, 3): a bright square moving on a noisy background."""
    rng = np.random.default_rng(seed)
    videos = rng.integers(0, 60, (num, frames, size, size, 3), dtype=np.uint8)
    for n in range(num):
        y, x = rng.integers(0, size // 2, 2)
        for t in range(frames):
            xx = (x + speed * t) % (size - 8)
            videos[n, t, y:y + 8, xx:xx + 8] = 230
    return videos


def test_compute_fvd_is_zero_for_one_set_and_grows_with_the_difference(i3d_file):
    real = moving_squares(6)
    same = compute_fvd(real, real, i3d_file, i3d_size=32)
    near = compute_fvd(real, moving_squares(6, seed=1), i3d_file, i3d_size=32)
    far = compute_fvd(real, np.full_like(real, 255) - real, i3d_file, i3d_size=32)
    assert same == pytest.approx(0.0, abs=1e-6)
    assert 0 < near < far
    with pytest.raises(ValueError, match='frames'):
        compute_fvd(real, real[:, :4], i3d_file, i3d_size=32)


def test_video_set_stats_cache_is_keyed(i3d_file, tmp_path):
    extractor = I3DExtractor(i3d_file, size=32, batch_size=4)
    videos = torch.from_numpy(moving_squares(6)).permute(0, 4, 1, 2, 3)
    stats = VideoSetStats(('fvd', 'fid', 'psd'), psd_frames=(1, 8), psd_sets=2)
    stats.update(extractor(videos), videos, range(6))
    key = dict(dataset='squares', num_frames=8, network=extractor.describe())
    path = str(tmp_path / 'real.npz')
    stats.save(path, key)
    again = VideoSetStats(('fvd', 'fid', 'psd'), psd_frames=(1, 8), psd_sets=2)
    assert again.load(path, key)
    np.testing.assert_array_equal(again.fvd.outer, stats.fvd.outer)
    np.testing.assert_array_equal(again.psd.sums, stats.psd.sums)
    assert not VideoSetStats(('fvd', )).load(path, dict(key, num_frames=16))
    values = compute_video_metrics(again, stats, ('fvd', 'fid', 'psd'))
    assert values['fvd'] == pytest.approx(0, abs=1e-6) and values['fid'] == pytest.approx(
        0, abs=1e-6)
    assert values['psd_log10_gap_frame8'] == 0
    with pytest.raises(ValueError, match='need real videos'):
        compute_video_metrics(None, stats, ('fvd', ))


def test_per_class_scores(i3d_file):
    extractor = I3DExtractor(i3d_file, size=32, batch_size=8)
    videos = torch.from_numpy(moving_squares(8)).permute(0, 4, 1, 2, 3)
    labels = [0, 1] * 4
    real = VideoSetStats(('is', 'fid'), classes=(0, 1))
    fake = VideoSetStats(('is', 'fid'), classes=(0, 1))
    real.update(extractor(videos), videos, range(8), labels)
    fake.update(extractor(videos.flip(2)), videos, range(8), labels)  # time reversed
    values = compute_video_metrics(real, fake, ('is', 'fid'), is_splits=2)
    for c in (0, 1):
        assert values[f'class{c}/fid'] > 0 and values[f'class{c}/is'] >= 1
    assert fake.class_fid[0].count == 4


def val_config(i3d_file: str, work_dir: Path) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'default_hooks.samples.interval': 0,
    })
    cfg.work_dir = str(work_dir)
    cfg.val_dataloader = dict(
        batch_size=4, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='SampleClipsDataset', short_side=64, num_repeats=2,
                     test_mode=True, pipeline=[
                         dict(type='DecordInit'),
                         dict(type='SampleFrames', clip_len=12, frame_interval=4),
                         dict(type='DecordDecode'),
                         dict(type='Resize', short_side=32),
                         dict(type='CenterCrop', size=32),
                         dict(type='PackVideoInputs')]))
    cfg.val_cfg = dict(type='GenerationValLoop', num_samples=6, batch_size=3)
    cfg.val_evaluator = dict(type='VideoGenerationMetric',
                             scores=['fvd', 'is', 'fid', 'psd'], i3d_weights=i3d_file,
                             i3d_size=32, batch_size=4, is_splits=2,
                             psd_frames=[1, 12], psd_sets=2)
    return cfg


def test_val_evaluator_tracks_fvd_with_the_runner(i3d_file, tmp_path):
    runner = Runner.from_cfg(val_config(i3d_file, tmp_path))
    metrics = runner.val()
    for key in ('video/fvd', 'video/fid', 'video/is', 'video/psd_log10_gap_frame12'):
        assert key in metrics and np.isfinite(metrics[key]), key
    assert metrics['video/fvd'] > 0
    metric = runner.val_evaluator.metrics[0]
    assert not metric.needs_real_data  # real statistics kept after the first run
    assert metric.real.count == 6
    # same seeds, same cached real statistics: the same numbers again
    again = runner.val_loop.run()
    assert again['video/fvd'] == pytest.approx(metrics['video/fvd'], rel=1e-9)
