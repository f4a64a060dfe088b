"""tools/test.py and tools/dist_test.sh end to end on the demo hierarchy.

Untrained demo checkpoints and a random-weight I3D (``prepare_i3d.py
--random``) at 32x32 keep this fast; the numbers mean nothing, but the
pipeline is the real one: sampling, real clips, statistics, JSON, PSD plot.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from subprocess_utils import free_port, run_tool, tool_env

import hvg.engine  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'hvg' / 'hvg2_demo_clips.py'
TIMEOUT_S = 300


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, demo_checkpoints):
    """Demo checkpoints (untrained) and a random I3D file, written once."""
    root = tmp_path_factory.mktemp('eval_inputs')
    i3d = root / 'i3d_random.pth'
    result = subprocess.run([sys.executable, 'tools/misc/prepare_i3d.py', '--random',
                             '--out', str(i3d)], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'RANDOM' in result.stdout
    return dict(checkpoints=demo_checkpoints, i3d=str(i3d))


@pytest.fixture
def env(tmp_path_factory):
    return dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'),
                PYTHONPATH=str(REPO))


def run(args, env):
    result = run_tool([str(a) for a in args], env, timeout=TIMEOUT_S)
    return result.returncode, result.stdout


def tool_args(inputs, tmp_path, name):
    return ['--checkpoints', *inputs['checkpoints'], '--i3d', inputs['i3d'],
            '--metrics', 'is', 'fvd', 'fid', 'psd', '--num-samples', '7', '--num-real', '6',
            '--batch-size', '3', '--is-splits', '2', '--i3d-size', '32', '--bn-passes', '1',
            '--workers', '0', '--psd-frames', '1', '24', '--psd-sets', '2',
            '--real-stats', str(tmp_path / f'real_{name}.npz'),
            '--out', str(tmp_path / 'results' / f'{name}.json')]  # a folder to create


def test_test_tool_one_process_and_two_gloo_ranks_agree(inputs, tmp_path, env):
    code, output = run([sys.executable, 'tools/test.py', str(DEMO),
                        *tool_args(inputs, tmp_path, 'single')], env)
    assert code == 0, output[-5000:]
    single = json.loads((tmp_path / 'results' / 'single.json').read_text())
    values = single['metrics']
    for key in ('fvd', 'fid', 'is', 'is_std', 'psd_log10_gap_frame1',
                'psd_log10_gap_frame24'):
        assert np.isfinite(values[key]), key
    assert values['fvd'] > 0 and values['is'] >= 1
    assert single['num_samples'] == 7 and single['num_real'] == 6
    assert single['num_frames'] == 24 and single['resolution'] == 64
    assert single['protocol']['fid_network'] == 'i3d-k400-pooled'
    # random weights look like a network: the run says so, loudly, and records it
    assert single['protocol']['random_weights'] is True
    assert 'RANDOM WEIGHTS' in single['protocol']['fvd_network']
    assert 'RANDOM I3D WEIGHTS' in output and 'meaningless' in output
    assert single['protocol']['resize'] == 'tf_legacy'
    assert Path(single['psd_plot']).is_file()
    assert 'real clips' in output and 'generated' in output  # progress bars

    env = dict(env, MASTER_PORT=str(free_port()))
    code, output = run(['bash', 'tools/dist_test.sh', str(DEMO), '2',
                        *tool_args(inputs, tmp_path, 'dist')], env)
    assert code == 0, output[-8000:]
    dist = json.loads((tmp_path / 'results' / 'dist.json').read_text())
    assert dist['world_size'] == 2
    # the same seeded videos and clips, split across ranks: the same numbers
    for key, value in values.items():
        assert dist['metrics'][key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
    with np.load(tmp_path / 'real_single.npz') as a, np.load(tmp_path / 'real_dist.npz') as b:
        # float32 I3D outputs differ in the last bits with the batch grouping
        np.testing.assert_allclose(b['fvd.sum'], a['fvd.sum'], rtol=1e-5, atol=1e-4)
        assert int(b['fvd.count']) == 6


def load_test_tool():
    spec = importlib.util.spec_from_file_location('hvg_test_tool', REPO / 'tools' / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_tool_refuses_stale_real_stats_and_missing_weights(inputs, tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    torch.set_num_threads(1)
    tool = load_test_tool()
    args = tool_args(inputs, tmp_path, 'a')
    np.savez(tmp_path / 'real_a.npz', key=np.array(json.dumps(dict(dataset='another'))))
    with pytest.raises(SystemExit, match='holds real statistics of another setting'):
        tool.main([str(DEMO), *args])
    args[args.index('--i3d') + 1] = str(tmp_path / 'no_i3d.pth')
    with pytest.raises(SystemExit, match='tools/misc/prepare_i3d.py --out .*no_i3d.pth'):
        tool.main([str(DEMO), *args])


def level_args(inputs, tmp_path, name, *extra):
    return [str(DEMO), '--checkpoints', *inputs['checkpoints'], '--i3d', inputs['i3d'],
            '--metrics', 'fvd', 'grounding', 'class_consistency', '--num-samples', '5',
            '--num-real', '8', '--batch-size', '3', '--i3d-size', '64', '--bn-passes', '1',
            '--workers', '0', '--real-stats', str(tmp_path / f'real_{name}.npz'),
            '--out', str(tmp_path / f'{name}.json'), *extra]


@pytest.mark.parametrize('window', [False, True])
def test_test_tool_level_metrics(inputs, tmp_path, monkeypatch, window):
    """Per-level FVD, grounding of level 2, class consistency of both levels."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    torch.set_num_threads(1)
    tool = load_test_tool()
    name = 'window' if window else 'unrolled'
    tool.main(level_args(inputs, tmp_path, name, '--fvd-upsampled-input',
                         *(['--window'] if window else [])))
    result = json.loads((tmp_path / f'{name}.json').read_text())
    values = result['metrics']
    assert result['num_frames'] == (8 if window else 24)
    assert values['level2/fvd'] == values['fvd'] and values['level1/fvd'] > 0
    assert values['level1/fvd'] != values['fvd']  # 12/32x32 real clips, not 24/64x64
    # the reference of the upsampling level only: its inputs blown up to 24/64x64
    assert values['level2/fvd_upsampled_input'] == values['fvd_upsampled_input'] > 0
    assert values['fvd_upsampled_input'] != values['fvd']
    assert 'level1/fvd_upsampled_input' not in values
    assert (tmp_path / f'real_{name}_level1.npz').is_file()
    with np.load(tmp_path / f'real_{name}_level1.npz') as cached:
        key = json.loads(str(cached['key']))
    # level 1's whole output (a window is taken only for level 2's input)
    assert (key['num_frames'], key['size'], key['frame_interval']) == (12, 32, 4)
    # real pairs of demo_l2_clips: x_1 = T(S(x_2)) of the same clip
    assert values['level2/grounding_real_corr_mean'] > 0.95
    assert values['level2/grounding_real_psnr_p10'] > 25
    assert values['level2/grounding_num_pairs'] == 5
    assert values['level2/grounding_num_real_pairs'] == 8
    for key in ('corr_mean', 'corr_p10', 'psnr_mean', 'psnr_p10', 'mismatched_corr_mean',
                'mismatched_psnr_mean'):
        assert np.isfinite(values[f'level2/grounding_{key}']), key
    # untrained level 2: nowhere near the ceiling
    assert values['level2/grounding_corr_mean'] < values['level2/grounding_real_corr_mean']
    assert 'level1/grounding_corr_mean' not in values
    for level in (1, 2):  # both demo levels are class-conditional
        assert values[f'level{level}/num_fake'] == 5
        assert values[f'level{level}/num_real_fit'] == 6
        assert values[f'level{level}/num_real_heldout'] == 2
        assert 0 <= values[f'level{level}/class_consistency'] <= 1
        assert 0 <= values[f'level{level}/real_heldout_accuracy'] <= 1


def test_test_tool_level_metrics_refuse_a_one_level_hierarchy(inputs, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    config = tmp_path / 'one_level.py'
    config.write_text(f"hierarchy = dict(levels=[dict(config='{REPO}/configs/hvg/"
                      f"demo_l1_clips.py', checkpoint='{inputs['checkpoints'][0]}')])\n")
    tool = load_test_tool()
    args = level_args(inputs, tmp_path, 'one')
    args[0] = str(config)
    args[args.index('--checkpoints') + 2:args.index('--checkpoints') + 3] = []
    with pytest.raises(SystemExit, match='grounding scores upsampling levels'):
        tool.main(args)


def test_test_tool_grounding_needs_no_i3d_and_class_levels_select(inputs, tmp_path,
                                                                  monkeypatch):
    """Grounding alone runs without I3D weights; --class-levels picks the levels
    scored for class consistency; other metrics without --i3d are refused."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    torch.set_num_threads(1)
    tool = load_test_tool()
    common = [str(DEMO), '--checkpoints', *inputs['checkpoints'], '--num-samples', '4',
              '--num-real', '4', '--batch-size', '2', '--bn-passes', '1', '--workers', '0']
    tool.main(common + ['--metrics', 'grounding', '--out', str(tmp_path / 'g.json')])
    values = json.loads((tmp_path / 'g.json').read_text())['metrics']
    assert values['level2/grounding_num_pairs'] == 4
    assert not [k for k in values if 'fvd' in k or 'class_consistency' in k]
    with pytest.raises(SystemExit):  # argparse: --i3d is required for fvd
        tool.main(common + ['--metrics', 'fvd', '--out', str(tmp_path / 'f.json')])
    tool.main(common + ['--metrics', 'grounding', 'class_consistency', '--i3d',
                        inputs['i3d'], '--i3d-size', '64', '--class-levels', '1',
                        '--out', str(tmp_path / 'c.json')])
    values = json.loads((tmp_path / 'c.json').read_text())['metrics']
    assert 'level1/class_consistency' in values
    assert 'level2/class_consistency' not in values
    with pytest.raises(SystemExit, match='no such class-conditional level'):
        tool.main(common + ['--metrics', 'class_consistency', '--i3d', inputs['i3d'],
                            '--class-levels', '3', '--out', str(tmp_path / 'x.json')])


def test_test_tool_takes_checkpoints_alone(inputs, tmp_path, monkeypatch):
    """No hierarchy config: the checkpoints describe their levels and datasets;
    the same numbers as with the config. Levels in the wrong order are refused
    before any sampling, in one paragraph naming the file."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    torch.set_num_threads(1)
    tool = load_test_tool()
    common = ['--metrics', 'grounding', '--num-samples', '3', '--num-real', '3',
              '--batch-size', '3', '--bn-passes', '1', '--workers', '0']
    tool.main([str(DEMO), '--checkpoints', *inputs['checkpoints'], *common,
               '--out', str(tmp_path / 'with_config.json')])
    tool.main(['--checkpoints', *inputs['checkpoints'], *common,
               '--out', str(tmp_path / 'alone.json')])
    with_config, alone = (json.loads((tmp_path / f'{name}.json').read_text())['metrics']
                          for name in ('with_config', 'alone'))
    assert alone == with_config
    with pytest.raises(SystemExit) as error:
        tool.main(['--checkpoints', *inputs['checkpoints'][::-1], *common,
                   '--out', str(tmp_path / 'x.json')])
    assert 'cannot be level 1' in str(error.value) and '\n' not in str(error.value)
    with pytest.raises(SystemExit):  # argparse: neither a config nor checkpoints
        tool.main(common)


def test_level_metrics_one_process_and_two_gloo_ranks_agree(inputs, tmp_path, env):
    """Grounding and class consistency split over 2 gloo ranks give one process's
    numbers (mismatched pairs form within a rank, so the floor may differ)."""
    common = ['--checkpoints', *inputs['checkpoints'], '--i3d', inputs['i3d'],
              '--metrics', 'grounding', 'class_consistency', '--class-levels', '1',
              '--num-samples', '6', '--num-real', '8', '--batch-size', '2',
              '--i3d-size', '64', '--bn-passes', '1', '--workers', '0']
    code, output = run([sys.executable, 'tools/test.py', str(DEMO), *common,
                        '--out', str(tmp_path / 'single.json')], env)
    assert code == 0, output[-5000:]
    env = dict(env, MASTER_PORT=str(free_port()))
    code, output = run(['bash', 'tools/dist_test.sh', str(DEMO), '2', *common,
                        '--out', str(tmp_path / 'dist.json')], env)
    assert code == 0, output[-8000:]
    single = json.loads((tmp_path / 'single.json').read_text())['metrics']
    dist = json.loads((tmp_path / 'dist.json').read_text())['metrics']
    assert dist['level2/grounding_num_pairs'] == 6
    assert dist['level2/grounding_num_real_pairs'] == 8
    compared = [k for k in single if 'mismatched' not in k]
    assert 'level1/class_consistency' in compared
    assert [k for k in compared if k.startswith('level1/class_consistency/')]  # per class
    for key in compared:
        assert dist[key] == pytest.approx(single[key], rel=1e-4, abs=1e-6), key


def test_test_tool_numbers_do_not_depend_on_the_batch_size(inputs, tmp_path, monkeypatch):
    """Generated video i comes from (seed, i): batch 1 and batch 3 score the same
    videos (mismatched pairs form within a batch of statistics: left out)."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.chdir(REPO)
    torch.set_num_threads(1)
    tool = load_test_tool()
    values = {}
    for batch in (1, 3):
        out = tmp_path / f'b{batch}.json'
        tool.main(['--checkpoints', *inputs['checkpoints'], '--metrics', 'grounding',
                   '--num-samples', '3', '--num-real', '3', '--batch-size', str(batch),
                   '--bn-passes', '1', '--workers', '0', '--out', str(out)])
        values[batch] = json.loads(out.read_text())['metrics']
    compared = [k for k in values[1] if 'mismatched' not in k and 'real' not in k]
    assert 'level2/grounding_corr_mean' in compared
    for key in compared:
        assert values[3][key] == pytest.approx(values[1][key], rel=1e-4, abs=1e-5), key
