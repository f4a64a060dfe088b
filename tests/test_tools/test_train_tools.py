"""tools/train.py and tools/dist_train.sh as a user runs them, in subprocesses.

Each subprocess has a timeout, and its whole process group is killed when it
runs out, so a hung distributed job fails the test instead of blocking it.
"""
import json
import sys
import textwrap
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch
from subprocess_utils import FAKE_SRUN, free_port, run_tool, tiny_train_options, tool_env

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'


def tiny_options(max_iters: int, checkpoint_interval: int) -> List[str]:
    return tiny_train_options(max_iters, checkpoint_interval)


@pytest.fixture
def env(tmp_path_factory) -> dict:
    return tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache')


run = run_tool


def load_weights_only(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def test_train_tool_trains_and_checkpoints(tmp_path, env):
    work_dir = tmp_path / 'work'
    result = run([sys.executable, 'tools/train.py', str(DEMO_CONFIG),
                  '--work-dir', str(work_dir), '--cfg-options', *tiny_options(2, 2)], env)
    assert result.returncode == 0, result.stdout[-5000:]
    ckpt = load_weights_only(work_dir / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
    # the final sample grid is written even with samples.interval=0
    assert (work_dir / 'samples' / 'iter_000002.mp4').is_file()


def test_train_console_is_quiet_and_the_log_file_complete(tmp_path, env):
    work_dir = tmp_path / 'work'
    # a run shorter than the logging interval: no iteration line, but a final one
    result = run([sys.executable, 'tools/train.py', str(DEMO_CONFIG),
                  '--work-dir', str(work_dir), '--cfg-options', *tiny_options(2, 2),
                  'default_hooks.logger.interval=50'], env)
    assert result.returncode == 0, result.stdout[-5000:]
    out = result.stdout
    for noise in ('System environment', 'Config:', 'Hooks will be executed',
                  'SyncBatchNorm', 'FileClient', 'HardDiskBackend', 'save_param_scheduler'):
        assert noise not in out, noise
    assert 'Iter(train)' not in out
    assert 'finished: iteration 2 (2 in' in out and str(work_dir / 'iter_2.pth') in out
    assert 'loss_disc' in out
    assert len(out.strip().splitlines()) <= 8, out
    log_files = list(work_dir.glob('*/*.log'))
    assert len(log_files) == 1 and str(log_files[0]) in out  # the console names it
    log = log_files[0].read_text()
    assert 'System environment' in log and 'Config:' in log and 'Hooks will be' in log

    verbose = run([sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--verbose',
                   '--work-dir', str(tmp_path / 'verbose'),
                   '--cfg-options', *tiny_options(1, 1)], env)
    assert verbose.returncode == 0, verbose.stdout[-5000:]
    assert 'System environment' in verbose.stdout and 'Config:' in verbose.stdout
    assert 'FileClient' not in verbose.stdout  # avoided, not only hidden


def test_train_tool_reports_a_missing_config(tmp_path, env):
    missing = tmp_path / 'no_such_config.py'
    result = run([sys.executable, 'tools/train.py', str(missing)], env, timeout=60)
    assert result.returncode != 0
    assert f'config file not found: {missing}' in result.stdout
    assert 'Traceback' not in result.stdout


def test_train_tool_refuses_a_clip_shape_the_generator_does_not_make(tmp_path, env):
    """12-frame clips for a 7-frame generator: refused before the Runner starts."""
    work_dir = tmp_path / 'work'
    result = run([sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
                  str(work_dir), '--cfg-options', 'model.generator.num_frames=7'],
                 env, timeout=120)
    assert result.returncode != 0
    assert 'SampleFrames.clip_len=12' in result.stdout
    assert 'model.generator.num_frames=7' in result.stdout
    assert 'Traceback' not in result.stdout
    assert not work_dir.exists(), 'no work started'


def test_train_tool_names_a_missing_previous_level_before_any_work(tmp_path, env):
    work_dir = tmp_path / 'work'
    missing = tmp_path / 'no_level1.pth'
    result = run([sys.executable, 'tools/train.py',
                  str(REPO / 'configs' / 'hvg' / 'demo_l2_clips.py'), '--work-dir',
                  str(work_dir), '--cfg-options',
                  f'model.lowres_source.levels.0.checkpoint={missing}'], env, timeout=120)
    assert result.returncode != 0
    assert str(missing) in result.stdout and 'python tools/train.py' in result.stdout
    assert 'Traceback' not in result.stdout
    assert not work_dir.exists(), 'no work started'


# A leaf config over the demo config: the same training, plus a hook that saves
# each rank's parameters so the test can check the replicas stayed in sync.
RANK_DUMP_MODULE = '''
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

from hvg.models.gans import unwrap
from hvg.registry import HOOKS


@HOOKS.register_module()
class DumpRankParamsHook(Hook):
    priority = 'LOWEST'

    def after_run(self, runner):
        model = unwrap(runner.model)
        torch.save(dict(
            world_size=get_world_size(),
            wrappers={name: type(child).__name__
                      for name, child in model.named_children()},
            params={name: p.detach().cpu()
                    for name, p in model.named_parameters()}),
            osp.join(runner.work_dir, f'params_rank{get_rank()}.pt'))
'''


def rank_dump_config(folder: Path) -> Path:
    """The demo config plus DumpRankParamsHook (importable from ``folder``)."""
    (folder / 'rank_dump_hook.py').write_text(RANK_DUMP_MODULE)
    config = folder / 'demo_with_rank_dump.py'
    config.write_text(textwrap.dedent(f'''\
        _base_ = [{str(DEMO_CONFIG)!r}]
        custom_imports = dict(imports=['rank_dump_hook'], allow_failed_imports=False)
        custom_hooks = [dict(type='DumpRankParamsHook')]
        '''))
    return config


def test_dist_train_runs_two_gloo_processes_in_sync(tmp_path, env):
    config = rank_dump_config(tmp_path)
    work_dir = tmp_path / 'work'
    env = dict(env, MASTER_PORT=str(free_port()), PYTHONPATH=str(tmp_path))
    result = run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir',
                  str(work_dir), '--cfg-options', *tiny_options(4, 2)], env)
    assert result.returncode == 0, result.stdout[-8000:]

    for it in (2, 4):
        ckpt = load_weights_only(work_dir / f'iter_{it}.pth')
        assert ckpt['meta']['iter'] == it
    rank0 = load_weights_only(work_dir / 'params_rank0.pt')
    rank1 = load_weights_only(work_dir / 'params_rank1.pt')
    assert rank0['world_size'] == rank1['world_size'] == 2
    # rank 0 alone writes logs (one run folder, one log file) and samples
    assert len(list(work_dir.glob('*/*.log'))) == 1
    assert sorted(p.name for p in (work_dir / 'samples').iterdir()) == [
        'iter_000004.gif', 'iter_000004.mp4']
    # each network has its own DDP wrapper (MMSeparateDistributedDataParallel)
    assert rank0['wrappers']['generator'] == 'MMDistributedDataParallel'
    assert rank0['wrappers']['discriminator'] == 'MMDistributedDataParallel'
    # the ranks saw different clips but applied the same (all-reduced) updates
    assert rank0['params'].keys() == rank1['params'].keys()
    for name, value in rank0['params'].items():
        torch.testing.assert_close(rank1['params'][name], value, msg=name)
    # and training moved both networks away from the checkpoint at iteration 2
    at_2 = load_weights_only(work_dir / 'iter_2.pth')['state_dict']
    at_4 = load_weights_only(work_dir / 'iter_4.pth')['state_dict']
    for prefix in ('generator.', 'discriminator.'):
        assert any(not torch.equal(at_2[k], at_4[k]) for k in at_2 if k.startswith(prefix))


def test_slurm_train_runs_two_tasks_in_sync(tmp_path, env):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    config = rank_dump_config(tmp_path)
    work_dir = tmp_path / 'work'
    env = dict(env, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               PYTHONPATH=str(tmp_path), PATH=f'{bin_dir}:{env["PATH"]}')
    result = run(['bash', 'tools/slurm_train.sh', 'cpu', 'hvg_test', str(config), '2',
                  '--work-dir', str(work_dir), '--cfg-options', *tiny_options(2, 2)], env)
    assert result.returncode == 0, result.stdout[-8000:]
    rank0 = load_weights_only(work_dir / 'params_rank0.pt')
    rank1 = load_weights_only(work_dir / 'params_rank1.pt')
    assert rank0['world_size'] == rank1['world_size'] == 2
    for name, value in rank0['params'].items():
        torch.testing.assert_close(rank1['params'][name], value, msg=name)
    assert load_weights_only(work_dir / 'iter_2.pth')['meta']['iter'] == 2


def test_slurm_launcher_outside_slurm_says_so(tmp_path, env):
    env = {k: v for k, v in env.items() if not k.startswith('SLURM_')}
    result = run([sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--launcher', 'slurm',
                  '--work-dir', str(tmp_path)], env, timeout=60)
    assert result.returncode != 0
    assert 'SLURM_PROCID' in result.stdout and 'tools/slurm_train.sh' in result.stdout
    assert 'Traceback' not in result.stdout


def test_demo_trains_both_levels_and_writes_playable_videos(tmp_path, env):
    """The README's main job, shortened: every stage runs and the videos play."""
    import decord

    i3d = tmp_path / 'i3d_random.pth'
    assert run([sys.executable, 'tools/misc/prepare_i3d.py', '--random', '--out', str(i3d)],
               env).returncode == 0
    result = run([sys.executable, 'tools/demo.py', '--work-dir', str(tmp_path),
                  '--l1-iters', '2', '--l2-iters', '2', '--bn-passes', '1',
                  '--samples-per-class', '1', '--eval-samples', '6', '--i3d', str(i3d),
                  '--real-clips', '3'], env)
    assert result.returncode == 0, result.stdout[-5000:]
    # the real clips at the final length and size, and their statistics for
    # compare_folders.py --real-stats (the same as reading the folder)
    clips = sorted((tmp_path / 'real_clips').glob('clip_*.mp4'))
    assert len(clips) == 3 and decord.VideoReader(str(clips[0]))[0].shape == (64, 64, 3)
    assert len(decord.VideoReader(str(clips[0]))) == 24
    stats = tmp_path / 'real_stats_24f_64.npz'
    assert f'--real-stats {stats}' in result.stdout
    with np.load(stats, allow_pickle=False) as arrays:
        assert int(arrays['logits.count']) == 3
        assert json.loads(str(arrays['key']))['num_frames'] == 24
    # it prints its scores (tools/test.py's, also in scores.json)
    assert 'level-2 grounding (unrolled, 6 samples)' in result.stdout
    assert 'level-1 class consistency' in result.stdout
    scores = json.loads((tmp_path / 'scores.json').read_text())['metrics']
    assert 0 <= scores['level1/class_consistency'] <= 1
    # and which class its misses are, by name (6 samples of random classes)
    drawn = [c for c in range(3) if f'level1/class_consistency/{c}' in scores]
    assert drawn and '[demo]   per class: ' in result.stdout
    names = ('bikes', 'bigbuckbunny', 'carphone')
    breakdown = result.stdout.split('[demo]   per class: ')[1].splitlines()[0]
    assert [name for name in names if f'{name} ' in breakdown] == [names[c] for c in drawn]
    assert scores['level2/grounding_real_corr_mean'] > 0.95
    assert (tmp_path / 'videos' / 'levels_side_by_side.png').stat().st_size > 0
    videos = tmp_path / 'videos'
    for name in ('hierarchy_final', 'levels_side_by_side'):
        for ext in ('mp4', 'gif'):
            path = videos / f'{name}.{ext}'
            assert path.is_file(), f'{path} missing'
            assert str(path) in result.stdout  # the demo says where its videos are
    final = decord.VideoReader(str(videos / 'hierarchy_final.mp4'))
    side_by_side = decord.VideoReader(str(videos / 'levels_side_by_side.mp4'))
    # level 1 makes 12 frames, level 2 unrolls them x2
    assert len(final) == 24 and len(side_by_side) == 24
    # level 1 (upscaled) beside level 2: one more 128-pixel tile (64x64 frames
    # shown at 128) than the final video, whose label margin is the same
    assert side_by_side[0].shape[1] - final[0].shape[1] == 128
    # level 2 trained on fakes from the frozen level 1 it was given
    assert (tmp_path / 'level1' / 'iter_2.pth').is_file()
    assert (tmp_path / 'level2' / 'iter_2.pth').is_file()
    assert 'Loaded 1 frozen previous level' in result.stdout
