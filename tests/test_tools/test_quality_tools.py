"""tools/analysis/learning_curves.py and level_checkpoints.py on untrained demo
checkpoints (tiny sample counts, a random-weight I3D): they run the real
evaluation path and write what they say."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config
from subprocess_utils import tool_env

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'hvg'


@pytest.fixture(scope='module')
def runs(tmp_path_factory, demo_checkpoints):
    """Two fake work dirs, each with its dumped config and two checkpoints."""
    root = tmp_path_factory.mktemp('runs')
    dirs = []
    for name, ckpt in zip(('demo_l1_clips', 'demo_l2_clips'), demo_checkpoints):
        work = root / name
        work.mkdir()
        # as a run dumps it: resolved, no _base_ to find
        Config.fromfile(str(CONFIGS / f'{name}.py')).dump(str(work / f'{name}.py'))
        for it in (1, 2):
            shutil.copy(ckpt, work / f'iter_{it}.pth')
        dirs.append(work)
    env = dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'), PYTHONPATH=str(REPO))
    i3d = root / 'i3d_random.pth'
    subprocess.run([sys.executable, 'tools/misc/prepare_i3d.py', '--random', '--out',
                    str(i3d)], cwd=REPO, env=env, check=True, capture_output=True,
                   timeout=120)
    return dict(dirs=dirs, i3d=i3d, env=env)


def run(args, env):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_level_checkpoints_scores_each_checkpoint(runs, tmp_path):
    l1, l2 = runs['dirs']
    out = tmp_path / 'l2.jsonl'
    run(['tools/analysis/level_checkpoints.py', l2, '--num-real', '4', '--out', out],
        runs['env'])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r['iter'] for r in records] == [1, 2]
    assert all(r['grounding_real_corr_mean'] > 0.95 for r in records)
    out = tmp_path / 'l1.jsonl'
    run(['tools/analysis/level_checkpoints.py', l1, '--i3d', runs['i3d'], '--i3d-size', '32',
         '--num-samples', '3', '--num-real', '8', '--out', out], runs['env'])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and all(0 <= r['class_consistency'] <= 1 for r in records)
    # a level-1 run without weights: refused with the command that prepares them
    result = subprocess.run([sys.executable, 'tools/analysis/level_checkpoints.py', str(l1)],
                            cwd=REPO, env=runs['env'], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0 and 'prepare_i3d.py' in result.stderr


def test_level_checkpoints_cfg_options_reach_the_real_clips(runs, tmp_path):
    from hvg.utils.cli import load_tool
    tool = load_tool('analysis/level_checkpoints.py')
    l2 = runs['dirs'][1]
    args = [str(l2), '--num-real', '4', '--out', str(tmp_path / 'l2.jsonl')]
    # the override is applied to the dataset the real clips come from
    with pytest.raises(KeyError, match='NoSuchDataset'):
        tool.main(args + ['--cfg-options', 'train_dataloader.dataset.type=NoSuchDataset'])
    assert tool.parse_args(args + ['--cfg-options', 'a.b=1']).cfg_options == {'a.b': 1}


def test_learning_curves_write_csv_and_plot(runs, tmp_path):
    out = tmp_path / 'figs' / 'curves'
    run(['tools/analysis/learning_curves.py', CONFIGS / 'hvg2_demo_clips.py',
         '--level-dirs', *runs['dirs'], '--i3d', runs['i3d'], '--i3d-size', '32',
         '--num-samples', '8', '--bn-passes', '1', '--out', out], runs['env'])
    with open(f'{out}.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['level'], r['iter']) for r in rows] == [('1', '1'), ('1', '2'), ('2', '1'),
                                                      ('2', '2')]
    assert all(r['level1/class_consistency'] for r in rows if r['level'] == '1')
    assert all(float(r['level2/grounding_real_corr_mean']) > 0.95
               for r in rows if r['level'] == '2')
    assert Path(f'{out}.png').stat().st_size > 0


def test_class_consistency_probe_agrees_with_test_py_and_degrades_honestly(runs, tmp_path):
    """The probe's metric row at noise std 1 is tools/test.py's class consistency on
    the same checkpoint; every degradation and classifier gets a row."""
    from hvg.utils.cli import load_tool
    probe = load_tool('analysis/class_consistency_probe.py')
    ckpt = str(runs['dirs'][0] / 'iter_1.pth')
    common = ['--i3d', str(runs['i3d']), '--i3d-size', '32', '--num-real', '8',
              '--bn-passes', '1', '--seed', '3']
    out = tmp_path / 'probe.json'
    probe.main([str(CONFIGS / 'demo_l1_clips.py'), *common, '--checkpoint', ckpt,
                '--num-samples', '6', '--noise-stds', '1.0', '0.0',
                '--degradations', 'blur_sigma1', 'noise_0.1', '--out', str(out)])
    report = json.loads(out.read_text())
    assert [(r['degradation'], r['classifier']) for r in report['real']] == [
        (d, c) for d in ('clean', 'blur_sigma1', 'noise_0.1') for c in probe.CLASSIFIERS]
    assert all(0 <= r['heldout_accuracy'] <= 1 and r['heldout_distance_own_class'] >= 0
               for r in report['real'])
    metric = 'class_consistency[ncm_standardised (the metric)]'
    assert [r['noise_std'] for r in report['generated']] == [1.0, 0.0]
    test = load_tool('test.py')
    scores = tmp_path / 'test.json'
    test.main(['--checkpoints', ckpt, '--metrics', 'class_consistency', *common,
               '--num-samples', '6', '--workers', '0', '--out', str(scores)])
    expected = json.loads(scores.read_text())['metrics']['level1/class_consistency']
    assert report['generated'][0][metric] == pytest.approx(expected)


def test_class_consistency_probe_degradations():
    import torch
    from hvg.evaluation import high_frequency_power
    from hvg.utils.cli import load_tool
    probe = load_tool('analysis/class_consistency_probe.py')
    videos = torch.randint(0, 256, (2, 3, 4, 16, 16), dtype=torch.uint8)
    clean = probe.degrade(videos, 'clean')
    assert torch.equal(clean, videos)
    assert (high_frequency_power(probe.degrade(videos, 'blur_sigma1')).mean()
            < 0.5 * high_frequency_power(videos).mean())
    assert torch.equal(probe.degrade(videos, 'noise_0.1'), probe.degrade(videos, 'noise_0.1'))
    grey = probe.saturation(videos.float() / 127.5 - 1, 0.0)
    assert torch.allclose(grey[:, 0], grey[:, 1])
    still = probe.degrade(videos, 'frozen')
    assert torch.equal(still[:, :, 0], still[:, :, -1]) and torch.equal(still[:, :, 2],
                                                                         videos[:, :, 2])
    assert torch.equal(probe.degrade(videos, 'shuffled').sort(2).values, videos.sort(2).values)
    darker = probe.degrade(videos, 'brightness_-0.2').float().mean()
    assert darker < videos.float().mean()
