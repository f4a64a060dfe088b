"""tools/analysis/memory_scaling.py: one fresh process per point, CSV, budgets."""
import csv
import importlib.util
import math
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis', 'memory_scaling.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('memory_scaling', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ms = load_tool()

# The study's real configs, shrunk in resolution (not only in width) so that a
# point costs seconds on the CPU: 16x16 outputs, 8x8 low-res inputs.
TINY = dict(
    flat=("_base_ = ['{}']\n"
          "model = dict(generator=dict(out_size=16, channel_mults=(2, 2, 1)),\n"
          "    discriminator=dict(spatial=dict(channel_mults=(1, 2)),\n"
          "                       temporal=dict(channel_mults=(1, 2))))\n"),
    level1=("_base_ = ['{}']\n"
            "model = dict(generator=dict(out_size=8, channel_mults=(2, 1)),\n"
            "    discriminator=dict(spatial=dict(channel_mults=(1, 2)),\n"
            "                       temporal=dict(channel_mults=(1, 2))))\n"),
    level2=("_base_ = ['{}']\n"
            "model = dict(generator=dict(in_size=8, out_size=16,\n"
            "                            channel_mults=(2, 2, 1)),\n"
            "    discriminator=dict(spatial=dict(channel_mults=(1, 2)),\n"
            "                       temporal=dict(channel_mults=(1, 2)),\n"
            "                       matching=dict(channel_mults=(1, 2))))\n"))


def test_study_writes_csv_plot_and_budget(tmp_path, capsys):
    # level 1 is left out to keep the test short (a child process costs
    # seconds of imports); its config is checked in test_point_config
    args = ['--frames', '4', '16', '--width', '0.25', '--warmup-cycles', '0',
            '--models', 'flat', 'level2', '--out-dir', str(tmp_path / 'out')]
    for model in ('flat', 'level2'):
        text = TINY[model]
        path = tmp_path / f'{model}.py'
        path.write_text(text.format(ms.DEFAULT_CONFIGS[model]))
        args += [f'--{model}-config', str(path)]
    ms.main(args)
    captured = capsys.readouterr()
    out = captured.out

    with open(tmp_path / 'out' / 'memory_scaling.csv') as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames[:4] == ['model', 'frames', 'peak_mb',
                                         'seconds_per_step']
        rows = list(reader)
    assert sorted((r['model'], int(r['frames'])) for r in rows) == [
        ('flat', 4), ('flat', 16), ('level2', 4), ('level2', 16)]
    clips = {(r['model'], int(r['frames'])): int(r['clip_frames']) for r in rows}
    # flat: F frames; level 2: always its 12-frame window
    assert clips == {('flat', 4): 4, ('flat', 16): 16, ('level2', 4): 12,
                     ('level2', 16): 12}
    peak = {(r['model'], int(r['frames'])): float(r['peak_mb']) for r in rows}
    assert all(p > 0 for p in peak.values())
    # Flatness is only meaningful against a growth the measurement can see:
    # level 2's spread over F (same model, separate processes) must be small
    # next to what 12 more frames cost the flat model.
    flat_growth = peak['flat', 16] - peak['flat', 4]
    level2_spread = abs(peak['level2', 16] - peak['level2', 4])
    assert flat_growth > 0
    assert level2_spread < 0.5 * flat_growth
    assert 'level 2 max/min over F' in out
    assert 'budget' in out and 'hierarchy F<=none (not measured)' in out
    png = tmp_path / 'out' / 'memory_scaling.png'
    if importlib.util.find_spec('matplotlib') is not None:
        assert png.stat().st_size > 0
    else:  # the plot is optional: the CSV is written and the reason is printed
        assert not png.exists() and 'matplotlib is not installed' in captured.err


def test_longest_frames_interpolates_and_extrapolates():
    points = [(12, 100.0), (24, 200.0), (48, 400.0)]
    assert ms.longest_frames(points, 300.0) == (36, 'interpolated')
    assert ms.longest_frames(points, 600.0) == (72, 'extrapolated')
    assert ms.longest_frames(points, 50.0) == (None, 'none')
    assert ms.longest_frames(points, 200.0) == (24, 'measured')
    # level 1 makes F/2 frames: F is rounded down to an even number
    assert ms.longest_frames(points, 310.0, step=2) == (36, 'interpolated')
    f, how = ms.longest_frames([(12, 100.0), (96, 99.0)], 150.0)
    assert math.isinf(f) and how == 'constant'


def test_budget_report_needs_level2_to_fit():
    rows = [dict(model='flat', frames=12, peak_mb=100.0),
            dict(model='flat', frames=24, peak_mb=200.0),
            dict(model='level1', frames=12, peak_mb=20.0),
            dict(model='level1', frames=24, peak_mb=40.0),
            dict(model='level2', frames=12, peak_mb=150.0),
            dict(model='level2', frames=24, peak_mb=150.0)]
    fits, too_small = ms.budget_report(rows, [200.0, 120.0])
    # 200 MiB: flat reaches its measured 24; level 1 extrapolates to 120
    assert 'flat F<=24 (measured)' in fits
    assert 'hierarchy F<=120 (level 1 extrapolated' in fits
    assert '5.00x' in fits
    assert 'hierarchy F<=none' in too_small and 'level 2 needs 150 MiB' in too_small


def test_point_config():
    """Each model's training clip and widths for an F-frame output."""
    level1 = ms.point_config(ms.DEFAULT_CONFIGS['level1'], 'level1', 24, 0.5, None)
    assert level1.model.generator.num_frames == 12
    assert level1.model.generator.out_size == 64
    assert level1.model.generator.base_channels == 48
    assert level1.model.discriminator.temporal.base_channels == 48
    flat = ms.point_config(ms.DEFAULT_CONFIGS['flat'], 'flat', 24, 1.0, None)
    assert (flat.model.generator.num_frames, flat.model.generator.out_size) == (24, 128)
    level2 = ms.point_config(ms.DEFAULT_CONFIGS['level2'], 'level2', 96, 0.25, None)
    assert level2.model.generator.num_frames == 12
    assert level2.model.generator.in_size == 64
    assert level2.model.lowres_source == dict(type='RealLowres')
    assert level2.model.discriminator.matching.base_channels == 12


def test_level1_needs_even_frames():
    with pytest.raises(ValueError, match='even'):
        ms.clip_frames('level1', 13)
