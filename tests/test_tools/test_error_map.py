"""tools/analysis/error_map.py: the per-pixel error of an upsampling level."""
import json

import pytest
import torch

from hvg.utils.cli import load_tool

tool = load_tool('analysis/error_map.py')


def test_a_corner_error_shows_in_its_corner_only():
    real = torch.zeros(2, 3, 4, 16, 16)
    fake = real.clone()
    fake[..., :2, :2] = 0.5                  # top-left 2x2 of every frame
    errors = tool.error_map(fake, real)
    assert errors.shape == (16, 16)
    values = tool.region_means(errors, 2)
    assert values['top_left'] == pytest.approx(0.5)
    assert values['top_right'] == values['bottom_left'] == values['bottom_right'] == 0
    assert values['mean'] == pytest.approx(0.5 * 4 / 256)
    # the first row and column hold 2 of its 16 pixels each, the others none
    assert values['first_row'] == values['first_column'] == pytest.approx(0.5 * 2 / 16)
    assert values['last_row'] == values['last_column'] == 0
    assert values['interior'] == pytest.approx(0.5 / 14**2)     # pixel (1, 1) of 14 x 14
    # a 4-pixel corner square dilutes it by its area
    assert tool.region_means(errors, 4)['top_left'] == pytest.approx(0.5 / 4)


def test_the_reference_repeats_frames_and_interpolates_bilinearly():
    lowres = torch.rand(2, 3, 4, 8, 8)
    up = tool.bilinear_upsampling(lowres, 2, 16)
    assert up.shape == (2, 3, 8, 16, 16)
    torch.testing.assert_close(up[:, :, 0], up[:, :, 1])       # frame 0 repeated
    flat = torch.full((1, 3, 2, 8, 8), 0.25)
    torch.testing.assert_close(tool.bilinear_upsampling(flat, 2, 16),
                               torch.full((1, 3, 4, 16, 16), 0.25))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match='differ'):
        tool.error_map(torch.zeros(1, 3, 2, 8, 8), torch.zeros(1, 3, 2, 8, 4))
    with pytest.raises(ValueError, match='corner side'):
        tool.region_means(torch.zeros(8, 8), 5)


def test_the_tool_maps_an_upsampling_level_and_refuses_level_1(demo_checkpoints, tmp_path):
    l1, l2 = demo_checkpoints
    out = tmp_path / 'maps'
    tool.main([l2, l2, '--num-real', '3', '--batch-size', '2', '--corner', '4',
               '--out', str(out)])
    report = json.loads((out / 'error_map.json').read_text())
    assert report['num_real'] == 3 and report['corner'] == 4
    reference, first, second = report['levels']
    assert reference['upsampler'] == 'bilinear' and reference['checkpoint'] is None
    # the same clips and noise for every checkpoint: equal maps for equal levels
    assert first == second and first['checkpoint'] == l2
    keys = ('mean', *tool.CORNERS, *tool.EDGES)
    assert all(0 < first[k] < 2 for k in keys)
    # an untrained level is far worse than interpolating its input
    assert first['mean'] > 2 * reference['mean']
    assert (out / 'error_map.png').stat().st_size > 0
    with pytest.raises(SystemExit, match='not an upsampling level'):
        tool.main([l1, '--num-real', '2', '--out', str(tmp_path / 'l1')])
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path / 'missing.pth'), '--out', str(tmp_path / 'l1')])
