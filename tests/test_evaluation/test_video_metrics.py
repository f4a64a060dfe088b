"""compute_fvd, the video metrics, their real-statistics cache, the mmengine loop."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from hvg.apis.real_clips import save_arrays
from hvg.evaluation import (FIDMetric, FVDMetric, I3DExtractor, ISMetric, PSDMetric,
                            VideoBatch, compute_fvd)
from hvg.evaluation.metrics.fvd import upsample_input

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


def squares_batch(num=6, frames=8, labels=None, flip=False):
    videos = torch.from_numpy(moving_squares(num, frames)).permute(0, 4, 1, 2, 3)
    return VideoBatch(videos.flip(2) if flip else videos, list(range(num)),
                      labels or [-1] * num)


def test_real_statistics_round_trip_through_the_cache(i3d_file, tmp_path):
    extractor = I3DExtractor(i3d_file, size=32, batch_size=4)

    def metrics():
        return [FVDMetric(extractor=extractor), FIDMetric(extractor=extractor),
                PSDMetric(frames=(1, 8), sets=2)]

    batch = squares_batch()
    first = metrics()
    arrays = {}
    for metric in first:
        assert metric.real_on_disk
        metric.update('real', batch)
        metric.finish_real()
        arrays.update(metric.real_arrays())
    path = str(tmp_path / 'real.npz')
    save_arrays(path, dict(dataset='squares', num_frames=8), arrays)
    again = metrics()
    with np.load(path, allow_pickle=False) as cached:
        assert json.loads(str(cached['key'])) == dict(dataset='squares', num_frames=8)
        assert all(metric.load_real_arrays(cached) for metric in again)
    values = {}
    for metric in again:
        metric.update('fake', batch)
        values.update(metric.result())
    np.testing.assert_array_equal(again[0].real.outer, first[0].real.outer)
    np.testing.assert_array_equal(again[2].real.sums, first[2].real.sums)
    assert values['fvd'] == pytest.approx(0, abs=1e-6)
    assert values['fid'] == pytest.approx(0, abs=1e-6)
    assert values['psd_log10_gap_frame8'] == 0
    assert not ISMetric(extractor=extractor).real_on_disk  # IS needs no real clips


def test_metrics_of_one_batch_share_one_i3d_forward(i3d_file):
    extractor = I3DExtractor(i3d_file, size=32, batch_size=4)
    videos = squares_batch().videos
    first, second = extractor(videos), extractor(videos.float() / 127.5 - 1)
    assert second['logits'] is first['logits']  # the same batch: remembered
    assert extractor(videos.flip(2))['logits'] is not first['logits']


def test_fvd_of_the_upsampled_input_scores_the_input_alone(i3d_file):
    """fvd_upsampled_input is the FVD of the inputs blown up to the output's
    shape: 0 when the real clips are exactly that, whatever the output is."""
    extractor = I3DExtractor(i3d_file, size=32, batch_size=8)
    lowres = torch.from_numpy(moving_squares(6, frames=4, size=16)).permute(0, 4, 1, 2, 3)
    outputs = squares_batch(6).videos  # (6, 3, 8, 32, 32) uint8
    upsampled = upsample_input(lowres, outputs)
    assert upsampled.shape == outputs.shape and upsampled.dtype == torch.float32
    # frames repeated in place: output frames 2k and 2k + 1 are input frame k
    torch.testing.assert_close(upsampled[:, :, 2], upsampled[:, :, 3])
    metric = FVDMetric(extractor=extractor, upsampled_input=True)
    metric.update('real', VideoBatch(upsampled, list(range(6)), [-1] * 6))
    metric.finish_real()
    metric.mark_real_done()
    for fake in (upsampled, outputs.flip(2)):
        metric.reset(keep_real=True)
        metric.update('fake', VideoBatch(fake, list(range(6)), [-1] * 6, lowres))
        values = metric.result()
        assert values['fvd_upsampled_input'] == pytest.approx(0, abs=1e-6)
    assert values['fvd'] > 1  # the time-reversed squares are not the real clips
    # no input (a level 1), or the option off: no reference
    metric.reset(keep_real=True)
    metric.update('fake', VideoBatch(outputs, list(range(6)), [-1] * 6))
    assert 'fvd_upsampled_input' not in metric.result()
    plain = FVDMetric(extractor=extractor)
    plain.real = metric.real
    plain.update('fake', VideoBatch(outputs, list(range(6)), [-1] * 6, lowres))
    assert set(plain.result()) == {'fvd'}


def test_per_class_scores(i3d_file):
    extractor = I3DExtractor(i3d_file, size=32, batch_size=8)
    labels = [0, 1] * 4
    real, fake = squares_batch(8, labels=labels), squares_batch(8, labels=labels, flip=True)
    inception = ISMetric(extractor=extractor, splits=2, classes=(0, 1))
    fid = FIDMetric(extractor=extractor, classes=(0, 1))
    fid.update('real', real)
    for metric in (inception, fid):
        metric.update('fake', fake)  # time reversed
    values = dict(inception.result(), **fid.result())
    for c in (0, 1):
        assert values[f'class{c}/fid'] > 0 and values[f'class{c}/is'] >= 1
    assert fid.fake.classes[0].count == 4


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
    network = dict(i3d_weights=i3d_file, i3d_size=32, batch_size=4)
    cfg.val_evaluator = [dict(type='FVDMetric', **network),
                         dict(type='ISMetric', splits=2, **network),
                         dict(type='FIDMetric', **network),
                         dict(type='PSDMetric', frames=[1, 12], sets=2, batch_size=4)]
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
