"""Grounding and class consistency in a ``val_evaluator`` with mmengine's Runner.

Tiny widths through the real demo configs; level 2 upsamples the untrained
demo level 1 (``demo_checkpoints``), so its samples carry a generated input.
"""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner


REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'hvg'






def val_dataloader(pipeline):
    return dict(batch_size=4, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                dataset=dict(type='SampleClipsDataset', short_side=64, num_repeats=2,
                             test_mode=True, pipeline=pipeline))


def test_grounding_metric_with_the_runner_on_level2(demo_checkpoints, i3d_file, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / 'demo_l2_clips.py'))
    cfg.merge_from_dict({
        'model.lowres_source.levels.0.checkpoint': demo_checkpoints[0],
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'model.discriminator.matching.base_channels': 2,
        'default_hooks.samples.interval': 0,
    })
    cfg.work_dir = str(tmp_path)
    cfg.val_dataloader = val_dataloader([
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=8, frame_interval=2),
        dict(type='DecordDecode'),
        dict(type='Resize', short_side=64),
        dict(type='CenterCrop', size=64),
        dict(type='LowResView', temporal_stride=2, size=32),
        dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs'))])
    cfg.val_cfg = dict(type='GenerationValLoop', num_samples=4, batch_size=2)
    # FVD beside it: the extra lowres keys must not disturb the other metrics
    cfg.val_evaluator = [dict(type='FVDMetric', i3d_weights=i3d_file, i3d_size=32,
                              batch_size=4),
                         dict(type='GroundingMetric', temporal_factor=2)]
    runner = Runner.from_cfg(cfg)
    metrics = runner.val()
    assert np.isfinite(metrics['video/fvd']) and metrics['video/fvd'] > 0
    # real pairs are T(S(x)) of their own clip: the ceiling is near 1
    assert metrics['video/grounding_real_corr_mean'] > 0.95
    assert metrics['video/grounding_real_psnr_mean'] > 25
    assert metrics['video/grounding_num_real_pairs'] == 6
    assert metrics['video/grounding_num_pairs'] == 4
    for key in ('corr_mean', 'corr_p10', 'psnr_mean', 'psnr_p10', 'mismatched_corr_mean',
                'mismatched_psnr_p10'):
        assert np.isfinite(metrics[f'video/grounding_{key}']), key
    # an untrained level 2 ignores its input: far below the real ceiling
    assert metrics['video/grounding_corr_mean'] < 0.9
    assert runner.val_loop.run()['video/grounding_corr_mean'] == pytest.approx(
        metrics['video/grounding_corr_mean'], rel=1e-9)  # same seeds, same samples


def test_class_consistency_metric_with_the_runner_on_level1(i3d_file, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / 'demo_l1_clips.py'))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'default_hooks.samples.interval': 0,
    })
    cfg.work_dir = str(tmp_path)
    cfg.val_dataloader = val_dataloader([
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=12, frame_interval=4),
        dict(type='DecordDecode'),
        dict(type='Resize', short_side=32),
        dict(type='CenterCrop', size=32),
        dict(type='PackVideoInputs')])
    cfg.val_dataloader['dataset']['num_repeats'] = 4  # 12 clips: 9 fit, 3 held out
    cfg.val_cfg = dict(type='GenerationValLoop', num_samples=6, batch_size=3)
    cfg.val_evaluator = dict(type='ClassConsistencyMetric', i3d_weights=i3d_file,
                             i3d_size=64, batch_size=4)
    runner = Runner.from_cfg(cfg)
    metrics = runner.val()
    assert metrics['video/num_fake'] == 6
    assert metrics['video/num_real_fit'] == 9 and metrics['video/num_real_heldout'] == 3
    # the held-out windows are other clips of the same 3 videos: the ceiling
    assert metrics['video/real_heldout_accuracy'] == 1.0
    assert 0 <= metrics['video/class_consistency'] <= 1
    metric = runner.val_evaluator.metrics[0]
    assert not metric.needs_real_data
    assert runner.val_loop.run() == metrics  # the classifier and the seeds are kept
