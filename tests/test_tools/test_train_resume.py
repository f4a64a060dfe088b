"""``tools/train.py --resume`` as a user runs it: exact continuation (one process
and 2 gloo ranks through ``tools/dist_train.sh``), and a config that differs
from the checkpoint's (refused before any file is touched, or reported).

A run "killed after a checkpoint" is a work dir holding only the checkpoint of
an uninterrupted run and the ``last_checkpoint`` record pointing at it.
"""
import hashlib
import shutil
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from subprocess_utils import REPO, free_port, run_tool, tiny_train_options, tool_env

DEMO_CONFIG = REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'


def tiny_options(max_iters: int, checkpoint_interval: int = 2) -> List[str]:
    return tiny_train_options(max_iters, checkpoint_interval, num_samples=2)


@pytest.fixture
def env(tmp_path_factory) -> dict:
    return tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache')


def train(work_dir: Path, options: List[str], env: dict, resume: bool = False,
          procs: int = 1, config: Path = DEMO_CONFIG):
    args = ['--work-dir', str(work_dir), *(['--resume'] if resume else []),
            '--cfg-options', *options]
    if procs == 1:
        cmd = [sys.executable, 'tools/train.py', str(config), *args]
    else:
        cmd = ['bash', 'tools/dist_train.sh', str(config), str(procs), *args]
        env = dict(env, MASTER_PORT=str(free_port()))
    return run_tool(cmd, env)


def load(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def killed_after_checkpoint(work_dir: Path, source: Path, it: int) -> None:
    work_dir.mkdir()
    shutil.copy(source / f'iter_{it}.pth', work_dir / f'iter_{it}.pth')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / f'iter_{it}.pth'))


def snapshot(folder: Path) -> Dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob('*')) if p.is_file()}


def differing(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> List[str]:
    assert a.keys() == b.keys()
    return [k for k in a if not torch.equal(a[k], b[k])]


def whole_and_resumed(tmp_path: Path, env: dict, **train_kwargs) -> tuple:
    """Checkpoints 2 and 4 of a 4-iteration run, and 4 of the run resumed from 2."""
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    result = train(whole, tiny_options(4), env, **train_kwargs)
    assert result.returncode == 0, result.stdout[-8000:]
    killed_after_checkpoint(resumed, whole, 2)
    result = train(resumed, tiny_options(4), env, resume=True, **train_kwargs)
    assert result.returncode == 0, result.stdout[-8000:]
    assert 'RNG states of iteration 2 restored' in result.stdout
    return load(whole / 'iter_2.pth'), load(whole / 'iter_4.pth'), load(resumed / 'iter_4.pth')


@pytest.mark.parametrize('procs', [1, 2])
def test_killed_and_resumed_run_ends_bit_identical(procs, tmp_path, env):
    before, want, got = whole_and_resumed(tmp_path, env, procs=procs)
    assert differing(before['state_dict'], want['state_dict'])
    assert differing(want['state_dict'], got['state_dict']) == []
    for net in ('generator', 'discriminator'):
        for i, state in want['optimizer'][net]['state'].items():
            assert differing(state, got['optimizer'][net]['state'][i]) == [], (net, i)
    # rank 0's checkpoint holds every rank's RNG states
    assert got['resume_state']['world_size'] == procs
    assert len(got['resume_state']['rng']) == procs
    assert all(set(rank) >= {'python', 'numpy', 'torch'} for rank in got['resume_state']['rng'])


def test_a_resumed_run_with_weight_ema_ends_bit_identical(tmp_path, env):
    """mmengine's EMAHook beside ExactResumeHook: raw and averaged weights continue."""
    config = tmp_path / 'demo_l1_ema.py'
    config.write_text(f"_base_ = ['{DEMO_CONFIG}']\n"
                      "custom_hooks = [dict(type='EMAHook', momentum=0.02, "
                      "update_buffers=False)]\n")
    before, want, got = whole_and_resumed(tmp_path, env, config=config)
    for key in ('state_dict', 'ema_state_dict'):  # EMAHook: averaged / raw weights
        assert differing(before[key], want[key]), key
        assert differing(want[key], got[key]) == [], key
    raw = {k[len('module.'):]: v for k, v in want['ema_state_dict'].items()
           if k.startswith('module.')}
    assert differing(want['state_dict'], raw)  # two sets of weights, not one


def test_resume_with_another_width_is_refused_before_any_file_is_touched(tmp_path, env):
    work_dir = tmp_path / 'work'
    assert train(work_dir, tiny_options(2), env).returncode == 0
    before = snapshot(work_dir)
    result = train(work_dir, tiny_options(4) + ['model.generator.base_channels=4'], env,
                   resume=True)
    assert result.returncode != 0
    assert 'cannot resume' in result.stdout
    assert 'model.generator.base_channels: 2 in the checkpoint, 4 now' in result.stdout
    assert 'Traceback' not in result.stdout
    assert snapshot(work_dir) == before, 'no file written, pruned or changed'


def test_resume_applies_a_changed_learning_rate_and_reports_other_changes(tmp_path, env):
    work_dir = tmp_path / 'work'
    assert train(work_dir, tiny_options(2), env).returncode == 0
    result = train(work_dir, tiny_options(4) + [
        'optim_wrapper.generator.optimizer.lr=0.0005', 'model.discriminator_steps=1'],
        env, resume=True)
    assert result.returncode == 0, result.stdout[-8000:]
    out = result.stdout
    assert 'optim_wrapper.generator.optimizer.lr: 0.001 -> 0.0005' in out
    assert 'generator group 0: 0.001 -> 0.0005' in out  # applied after mmengine resumed
    assert 'model.discriminator_steps: 2 -> 1' in out
    assert 'train_cfg.max_iters' not in out  # the schedule length may change freely
    groups = load(work_dir / 'iter_4.pth')['optimizer']
    assert [g['lr'] for g in groups['generator']['param_groups']] == [0.0005]
    assert [g['lr'] for g in groups['discriminator']['param_groups']] == [0.001]
