"""A new metric is one class and a name: the example of docs/adding_components.md,
registered here, run through ``tools/test.py`` and as a ``val_evaluator`` metric."""
import json
from pathlib import Path

import pytest
import torch

from hvg.evaluation import VideoMetric
from hvg.evaluation.metrics import sum_over_ranks
from hvg.evaluation.protocol import quantize_videos
from hvg.registry import METRICS
from hvg.utils.cli import load_tool

REPO = Path(__file__).resolve().parents[2]


@METRICS.register_module(name=['MeanIntensity', 'mean_intensity'], force=True)
class MeanIntensity(VideoMetric):
    """Mean pixel value (0..255) of the generated videos: no real clips, no network."""

    needs_real = False

    def new_state(self, role):
        return dict(total=0.0, count=0)

    def update(self, role, batch):
        pixels = quantize_videos(batch.videos).double()
        self.fake['total'] += float(pixels.mean(dim=(1, 2, 3, 4)).sum())
        self.fake['count'] += len(batch.indices)

    def result(self):
        total, count = sum_over_ranks(self.fake['total'], self.fake['count'])
        return dict(mean_intensity=total / count, num_videos=int(count))


def test_a_new_metric_runs_through_tools_test(demo_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    out = tmp_path / 'mean.json'
    load_tool('test.py').main([
        str(REPO / 'configs' / 'hvg' / 'hvg2_demo_clips.py'), '--checkpoints',
        *demo_checkpoints, '--metrics', 'mean_intensity', 'grounding', '--num-samples', '5',
        '--num-real', '4', '--batch-size', '2', '--bn-passes', '1', '--workers', '0',
        '--out', str(out)])
    values = json.loads(out.read_text())['metrics']
    assert 0 < values['mean_intensity'] < 255
    assert values['num_videos'] == 5  # every batch, once
    assert values['level2/grounding_num_pairs'] == 5  # beside the built-in metrics


def test_a_new_metric_serves_a_val_evaluator():
    metric = METRICS.build(dict(type='MeanIntensity', batch_size=2))
    assert not metric.needs_real_data
    videos = torch.full((3, 3, 4, 8, 8), 100, dtype=torch.uint8)
    metric.process(None, [dict(fake=v) for v in videos])
    assert metric.evaluate() == {'video/mean_intensity': 100.0, 'video/num_videos': 3}
    with pytest.raises(KeyError, match="'real' or a 'fake'"):
        metric.process(None, [dict(video=videos[0])])
