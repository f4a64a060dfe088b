"""tools/analysis/reproduce_ablations.py end to end at width 2, and its argument errors.

One seed, two variants (3f with and without the matching D), two iterations per
level, three evaluation videos and a random-weight I3D at 32 px: the numbers
mean nothing, the pipeline is the real one (tools/train.py, benchmark_train.py,
tools/test.py on both protocols, the report).
"""
import csv
import sys
from pathlib import Path

import pytest
from subprocess_utils import run_tool, tiny_train_options, tool_env

REPO = Path(__file__).resolve().parents[2]
TOOL = 'tools/analysis/reproduce_ablations.py'


@pytest.fixture
def env(tmp_path_factory):
    return dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'), PYTHONPATH=str(REPO))


def study_args(tmp_path, i3d):
    return [sys.executable, TOOL, '--out-dir', str(tmp_path / 'study'), '--seeds', '1',
            '--i3d', str(i3d), '--variants', '3f', '3f_nomd', '--num-samples', '3',
            '--i3d-size', '32', '--bn-passes', '1', '--batch-size', '3',
            '--report', str(tmp_path / 'docs' / 'reproduction.md'),
            '--cfg-options', *tiny_train_options(2)]


def test_study_runs_end_to_end_and_a_rerun_skips_finished_steps(tmp_path, env):
    i3d = tmp_path / 'i3d_random.pth'
    made = run_tool([sys.executable, 'tools/misc/prepare_i3d.py', '--random', '--out',
                     str(i3d)], env)
    assert made.returncode == 0, made.stdout
    first = run_tool(study_args(tmp_path, i3d), env)
    assert first.returncode == 0, first.stdout[-5000:]
    assert 'ETA' in first.stdout
    study = tmp_path / 'study'
    with open(study / 'results.csv') as f:
        rows = list(csv.DictReader(f))
    # one row per seed x variant x protocol, every number there
    assert sorted((r['variant'], r['protocol']) for r in rows) == [
        ('3f', 'unrolled'), ('3f', 'window'), ('3f_nomd', 'unrolled'), ('3f_nomd', 'window')]
    for row in rows:
        assert row['num_frames'] == ('6' if row['protocol'] == 'window' else '24')
        for key in ('fvd', 'grounding_corr_mean', 'psd_high_last', 'psd_high_real_first',
                    'peak_rss_mib'):
            float(row[key])
    report = (tmp_path / 'docs' / 'reproduction.md').read_text()
    assert '## Table 2' in report and '## Table 3' in report and '1037.79' in report
    assert 'not shown (fewer than 2 seeds)' in report  # one seed: no verdict claimed
    figures = tmp_path / 'docs' / 'figures' / 'reproduction'
    for name in ('results.csv', 'psd_unrolled.png', 'sample_nomd_vs_md.png'):
        assert (figures / name).is_file(), name
        assert f'figures/reproduction/{name}' in report

    assert '## Per seed' in report
    # what people write below the marker survives the rerun, which refreshes the numbers
    marker = '<!-- Analysis: the text below this line is kept when the report is rewritten. -->'
    assert report.count(marker) == 1
    (tmp_path / 'docs' / 'reproduction.md').write_text(report + '\nOur reading of it.\n')

    checkpoints = sorted(study.glob('seed0/*/iter_*.pth'))
    assert len(checkpoints) == 3  # level 1 and both variants
    mtimes = [p.stat().st_mtime_ns for p in checkpoints]
    again = run_tool(study_args(tmp_path, i3d), env)
    assert again.returncode == 0, again.stdout[-5000:]
    for name in ('seed 0 level 1', 'seed 0 3f training', 'seed 0 3f_nomd evaluation',
                 'memory 3f'):
        assert f'skipping {name} (done)' in again.stdout
    assert 'tools/train.py' not in again.stdout
    assert [p.stat().st_mtime_ns for p in checkpoints] == mtimes
    rewritten = (tmp_path / 'docs' / 'reproduction.md').read_text()
    assert rewritten.count(marker) == 1 and rewritten.endswith('\nOur reading of it.\n')
    assert '## Table 2' in rewritten


def test_verdict_needs_every_seed_and_a_difference_beyond_the_spread():
    from hvg.utils.cli import load_tool
    tool = load_tool('analysis/reproduce_ablations.py')
    # lower is better: 10, 11 beat 20, 21 on both seeds by far more than the spread
    assert tool.verdict([10, 11], [20, 21], True).startswith('**holds**')
    # right on average, wrong on one seed
    assert 'on 1 of 2 seeds' in tool.verdict([10, 30], [20, 21], True)
    assert 'not shown' in tool.verdict([10, 30], [20, 21], True)
    # every seed agrees but the difference is inside the spread
    assert 'not shown' in tool.verdict([10, 40], [11, 41], True)
    assert ("the paper's direction on 0 of 2 seeds, the opposite on average"
            in tool.verdict([0.2, 0.3], [0.8, 0.9], False))
    assert tool.mean_std([0.991, 0.991]) == '0.991 ± 0'
    assert tool.mean_std([6559.4, 8602.1]) == '7,581 ± 1,444'
    assert tool.mean_std([0.9, 0.8]) == '0.85 ± 0.071'


@pytest.mark.parametrize('change, message', [
    (('--variants', '3f', '5f'), 'unknown variant(s) 5f'),
    (('--i3d', 'missing.pth'), 'I3D weights not found: missing.pth'),
])
def test_argument_errors_come_before_any_training(tmp_path, env, change, message):
    i3d = tmp_path / 'i3d.pth'
    i3d.write_bytes(b'')  # only its existence is checked before training
    args = [sys.executable, TOOL, '--out-dir', str(tmp_path / 'study'), '--i3d', str(i3d),
            '--report', str(tmp_path / 'r.md'), *change]
    result = run_tool(args, env, timeout=60)
    assert result.returncode == 2, result.stdout
    assert message in result.stdout
    assert not (tmp_path / 'study').exists()
