"""Grounding scores, their streaming accumulator and the mmengine metric."""
import pytest
import torch
import torch.nn.functional as F

from hvg.evaluation import GroundingAccumulator, grounding_scores, grounding_summary
from hvg.evaluation.grounding import mismatched, summarise
from hvg.evaluation.metrics import GroundingMetric
from hvg.models.layers.resample import resize_frames


def smooth_videos(num, frames=4, size=16, seed=0):
    """(N, 3, T, H, W) in [-1, 1]: blobs (low-pass noise) drifting over time."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(num, 3, frames, 4, 4, generator=g) * 2 - 1
    return resize_frames(coarse, (size, size), mode='bilinear').clamp(-1, 1)


def perfect_upsample(lowres):
    """Bilinear x2 in space, each frame twice in time: a level that copies its input."""
    up = resize_frames(lowres, tuple(2 * s for s in lowres.shape[-2:]), mode='bilinear')
    return up.repeat_interleave(2, dim=2)


def test_grounding_is_one_for_an_upsampled_input_and_zero_for_noise():
    lowres = smooth_videos(6)
    corr, psnr = grounding_scores(lowres, perfect_upsample(lowres), 2)
    assert corr.shape == (6, ) and corr.dtype == torch.float64
    assert (corr > 0.98).all(), corr
    assert (psnr > 30).all(), psnr
    noise = torch.rand(6, 3, 8, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    corr, psnr = grounding_scores(lowres, noise, 2)
    assert corr.abs().max() < 0.15, corr
    assert (psnr < 15).all()
    # a level that ignores its input but copies someone else's: mismatched pairs
    matched, _ = grounding_scores(lowres, perfect_upsample(lowres), 2)
    floor, _ = grounding_scores(*mismatched(lowres, perfect_upsample(lowres)), 2)
    assert floor.mean() < matched.mean() - 0.5
    with pytest.raises(ValueError, match='t \\* 2 frames'):
        grounding_scores(lowres, perfect_upsample(lowres)[:, :, :6], 2)


def test_accumulator_streams_the_same_scores_as_one_batch():
    lowres = smooth_videos(7, seed=3)
    highres = perfect_upsample(lowres) + 0.1 * torch.randn(7, 3, 8, 32, 32)
    whole = GroundingAccumulator(2)
    whole.update(lowres, highres)
    streamed = GroundingAccumulator()  # factor inferred
    for start in (0, 1, 4):  # batches of 1, 3, 3
        stop = {0: 1, 1: 4, 4: 7}[start]
        streamed.update(lowres[start:stop], highres[start:stop])
    assert streamed.temporal_factor == 2 and streamed.count == 7
    ref_corr, ref_psnr = grounding_scores(*mismatched(lowres, highres), 2)
    for acc in (whole, streamed):
        values = acc.values(mismatched=True)
        torch.testing.assert_close(values['corr'].sort().values, ref_corr.sort().values)
        torch.testing.assert_close(values['psnr'].sort().values, ref_psnr.sort().values)
    torch.testing.assert_close(streamed.values()['corr'], whole.values()['corr'])
    summary = grounding_summary(streamed, whole)
    assert summary['grounding_corr_mean'] == pytest.approx(
        summarise(whole.values()['corr'], 'c')['c_mean'])
    assert summary['grounding_real_corr_mean'] == summary['grounding_corr_mean']
    assert summary['grounding_mismatched_corr_mean'] < summary['grounding_corr_mean'] - 0.3
    assert summary['grounding_corr_p10'] <= summary['grounding_corr_mean']
    assert summary['grounding_num_pairs'] == 7


def test_accumulator_takes_uint8_as_decoded():
    lowres = smooth_videos(3)
    highres = perfect_upsample(lowres)
    q = lambda v: ((v + 1) * 127.5).round().to(torch.uint8)  # noqa: E731
    acc_float, acc_uint8 = GroundingAccumulator(2), GroundingAccumulator(2)
    acc_float.update(lowres, highres)
    acc_uint8.update(q(lowres), q(highres))
    torch.testing.assert_close(acc_uint8.values()['corr'], acc_float.values()['corr'],
                               atol=1e-3, rtol=0)


def test_grounding_metric_reports_generated_real_and_mismatched():
    lowres = smooth_videos(6, seed=5)
    good = perfect_upsample(lowres)
    metric = GroundingMetric()
    metric.process(None, [dict(real=h, real_lowres=l, label=0) for l, h in zip(lowres, good)])
    bad = F.avg_pool3d(torch.randn(6, 3, 8, 32, 32), 3, 1, 1)  # ignores its input
    metric.process(None, [dict(fake=h, fake_lowres=l) for l, h in zip(lowres, bad)])
    values = metric.evaluate()
    assert values['video/grounding_real_corr_mean'] > 0.98
    assert abs(values['video/grounding_corr_mean']) < 0.2
    assert abs(values['video/grounding_mismatched_corr_mean']) < 0.2
    assert not metric.needs_real_data
    metric.process(None, [dict(fake=h, fake_lowres=l) for l, h in zip(lowres, good)])
    again = metric.evaluate()  # real pairs kept from the first evaluation
    assert again['video/grounding_real_corr_mean'] == values['video/grounding_real_corr_mean']
    assert again['video/grounding_corr_mean'] > 0.98
    with pytest.raises(KeyError, match='fake_lowres'):
        metric.process(None, [dict(fake=good[0])])
