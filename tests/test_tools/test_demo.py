"""tools/demo.py end to end at a few iterations: it trains both levels, writes the
labelled videos and prints its grounding and class-consistency scores."""
import json
import os
import subprocess
import sys
from pathlib import Path

from subprocess_utils import tool_env

REPO = Path(__file__).resolve().parents[2]


def test_demo_trains_writes_videos_and_scores(tmp_path, tmp_path_factory):
    env = dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'),
               PYTHONPATH=str(REPO), OMP_NUM_THREADS='2')
    i3d = tmp_path / 'i3d_random.pth'
    subprocess.run([sys.executable, 'tools/misc/prepare_i3d.py', '--random', '--out',
                    str(i3d)], cwd=REPO, env=env, check=True, capture_output=True,
                   timeout=120)
    work = tmp_path / 'demo'
    result = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(work), '--l1-iters', '2',
         '--l2-iters', '2', '--eval-samples', '6', '--bn-passes', '1',
         '--samples-per-class', '1', '--i3d', str(i3d)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert 'level-2 grounding (unrolled, 6 samples)' in out
    assert 'level-1 class consistency' in out
    for name in ('hierarchy_final', 'levels_side_by_side'):
        for ext in ('mp4', 'gif'):
            assert (work / 'videos' / f'{name}.{ext}').stat().st_size > 0
    assert (work / 'videos' / 'levels_side_by_side.png').stat().st_size > 0
    scores = json.loads((work / 'scores.json').read_text())['metrics']
    assert 0 <= scores['level1/class_consistency'] <= 1
    assert scores['level2/grounding_real_corr_mean'] > 0.95
    assert os.path.isfile(work / 'level1' / 'iter_2.pth')


def test_demo_without_i3d_still_scores_grounding(tmp_path, tmp_path_factory):
    env = dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'),
               PYTHONPATH=str(REPO), OMP_NUM_THREADS='2')
    work = tmp_path / 'demo'
    result = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(work), '--l1-iters', '1',
         '--l2-iters', '1', '--eval-samples', '4', '--bn-passes', '1',
         '--samples-per-class', '1', '--i3d', str(tmp_path / 'missing.pth')],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'class consistency will be skipped' in result.stdout
    assert 'prepare_i3d.py --out' in result.stdout
    assert 'level-2 grounding (unrolled, 4 samples)' in result.stdout
