"""Per-frame radial power spectra (appendix D)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from hvg.evaluation import PSDAccumulator, high_frequency_power, plot_psd, radial_power_spectrum
from hvg.evaluation.psd import psd_summary


def test_constant_frame_has_only_dc_power():
    frames = torch.full((1, 3, 16, 16), 200, dtype=torch.uint8)
    spectrum = radial_power_spectrum(frames)[0]
    assert spectrum.shape == (8, )
    assert spectrum[0] > 0 and torch.all(spectrum[1:].abs() < 1e-12)


def test_blur_removes_high_frequencies():
    torch.manual_seed(0)
    noise = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    blurred = F.avg_pool2d(noise.float(), 3, 1, 1, count_include_pad=False).round().byte()
    sharp, soft = radial_power_spectrum(noise), radial_power_spectrum(blurred)
    assert (soft[:, -4:] < 0.2 * sharp[:, -4:]).all()  # high frequencies gone
    assert (soft[:, 0] == pytest.approx(sharp[:, 0], rel=0.05))  # mean kept


def make_videos(num, blur_last=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    videos = torch.randint(0, 256, (num, 3, 4, 16, 16), dtype=torch.uint8, generator=g)
    if blur_last:
        last = F.avg_pool2d(videos[:, :, -1].float(), 3, 1, 1, count_include_pad=False)
        videos[:, :, -1] = last.round().byte()
    return videos


def test_sets_merge_and_summary_flags_the_blurred_frame(tmp_path):
    real, fake = PSDAccumulator([1, 4], num_sets=3), PSDAccumulator([1, 4], num_sets=3)
    real.update(make_videos(6), range(6))
    halves = [PSDAccumulator([1, 4], 3), PSDAccumulator([1, 4], 3)]
    videos = make_videos(6, blur_last=True, seed=1)
    halves[0].update(videos[:4], range(4))
    halves[1].update(videos[4:], range(4, 6))
    fake.update(videos, range(6))
    merged = halves[0].merge(halves[1])
    np.testing.assert_allclose(merged.sums, fake.sums)
    assert merged.counts.tolist() == [2, 2, 2]
    gaps = psd_summary(real, fake)
    assert gaps['psd_log10_gap_frame4'] > 5 * gaps['psd_log10_gap_frame1']
    # the blurred last frame keeps less high-frequency power than the first; real
    # noise keeps the same at both
    assert gaps['psd_high_power_frame4'] < 0.5 * gaps['psd_high_power_frame1']
    assert gaps['psd_high_power_real_frame4'] == pytest.approx(
        gaps['psd_high_power_real_frame1'], rel=0.1)
    assert gaps['psd_high_power_frame1'] == pytest.approx(
        gaps['psd_high_power_real_frame1'], rel=0.1)
    back = PSDAccumulator.from_arrays(fake.to_arrays('p'), 'p')
    np.testing.assert_array_equal(back.set_means(), fake.set_means())
    plot_psd(real, fake, str(tmp_path / 'psd.png'))
    assert Image.open(tmp_path / 'psd.png').size[0] > 300


def test_frames_past_the_end_and_empty_sets_are_errors():
    acc = PSDAccumulator([5], num_sets=2)
    with pytest.raises(ValueError, match='frame 5 of 4-frame'):
        acc.update(make_videos(2), range(2))
    acc = PSDAccumulator([1], num_sets=3)
    acc.update(make_videos(2), range(2))
    with pytest.raises(ValueError, match='needs a video'):
        acc.set_means()


def test_high_frequency_power_at_every_frame_is_the_summary_number():
    videos = make_videos(6, blur_last=True, seed=2)
    power = high_frequency_power(videos)
    assert power.shape == (4, ) and power[3] < 0.5 * power[:3].min()
    acc = PSDAccumulator([1, 2, 3, 4], num_sets=1)
    acc.update(videos, range(6))
    summary = psd_summary(acc, acc)
    for f in range(4):
        assert power[f] == pytest.approx(summary[f'psd_high_power_frame{f + 1}'], rel=1e-9)
