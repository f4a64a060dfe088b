"""Checkpoints survive kills, full disks, truncation and resumes; loading is
weights-only whatever the environment says.

Every run is the demo config (``configs/hvg/demo_l1_clips.py``) at tiny width,
through mmengine's real Runner or ``tools/train.py``'s ``main``, in process.
A kill is simulated by a write that stops half-way through the file and
raises an exception nothing catches, so no cleanup runs, as after SIGKILL.
"""
import errno
import importlib.util
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmengine.runner import Runner

import hvg.engine  # noqa: F401  (registers)

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'


def load_train_tool():
    spec = importlib.util.spec_from_file_location('hvg_train_tool',
                                                  REPO / 'tools' / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_tool = load_train_tool()


def tiny(work_dir: Path, max_iters: int, interval: int, max_keep: int, **extra) -> Dict:
    """The ``--cfg-options`` of a tiny demo run."""
    return {
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': max_iters,
        'default_hooks.checkpoint.interval': interval,
        'default_hooks.checkpoint.max_keep_ckpts': max_keep,
        'default_hooks.samples.interval': 0,
        'default_hooks.samples.num_samples': 4,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        # Runner-global instances (logger, visualizer) are keyed by this name
        'experiment_name': f'{work_dir.name}_{uuid.uuid4().hex[:8]}',
        **extra,
    }


def run(work_dir: Path, max_iters: int, interval: int, max_keep: int,
        hooks=(), **extra) -> Runner:
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.merge_from_dict(tiny(work_dir, max_iters, interval, max_keep, **extra))
    runner = Runner.from_cfg(cfg)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner


def run_tool(work_dir: Path, max_iters: int, interval: int, max_keep: int,
             *flags: str, **extra) -> None:
    options = [f'{k}={v}' for k, v in
               tiny(work_dir, max_iters, interval, max_keep, **extra).items()]
    train_tool.main([str(DEMO_CONFIG), '--work-dir', str(work_dir), *flags,
                     '--cfg-options', *options])


def load(path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def last_checkpoint(work_dir: Path) -> Path:
    return Path((work_dir / 'last_checkpoint').read_text().strip())


def logs(work_dir: Path) -> str:
    return '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))


def pth_names(work_dir: Path) -> List[str]:
    return sorted(p.name for p in work_dir.glob('*.pth'))


class SimulatedKill(BaseException):
    """Raised mid-write; a BaseException, so no ``except Exception`` cleans up."""


def break_write_of(monkeypatch, name: str, error: BaseException) -> None:
    """Writing a checkpoint whose path contains ``name`` writes half its bytes,
    then raises ``error``."""
    put = LocalBackend.put

    def broken_put(self, obj, filepath):
        if name in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise error
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', broken_put)


class FilesAtFirstIteration(Hook):
    """The checkpoints on disk when the first iteration of a run starts."""

    def __init__(self):
        self.names = None
        self.iter_at_start = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.names is None:
            self.names = pth_names(Path(runner.work_dir))
            self.iter_at_start = runner.iter


@pytest.fixture(autouse=True)
def small_and_isolated(tmp_path_factory, monkeypatch):
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path_factory.getbasetemp() / 'hvg_cache'))
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    work_dir = tmp_path / 'kill'
    break_write_of(monkeypatch, 'iter_4', SimulatedKill())
    with pytest.raises(SimulatedKill):
        run(work_dir, max_iters=4, interval=2, max_keep=1)
    monkeypatch.undo()

    # the previous checkpoint is whole and last_checkpoint names it
    assert pth_names(work_dir) == ['iter_2.pth']
    assert last_checkpoint(work_dir) == work_dir / 'iter_2.pth'
    assert load(last_checkpoint(work_dir))['meta']['iter'] == 2

    run_tool(work_dir, 6, 2, 1, '--resume')
    assert 'resumed epoch: 0, iter: 2' in logs(work_dir)
    assert pth_names(work_dir) == ['iter_6.pth']
    assert load(last_checkpoint(work_dir))['meta']['iter'] == 6
    # the half-written temporary file of the killed save is gone
    assert sorted(p.name for p in work_dir.iterdir() if p.name.endswith('.tmp')) == []


def test_disk_full_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    work_dir = tmp_path / 'full'
    break_write_of(monkeypatch, 'iter_4',
                   OSError(errno.ENOSPC, 'No space left on device'))
    with pytest.raises(SystemExit) as exit_info:
        run_tool(work_dir, 4, 2, 1)
    monkeypatch.undo()

    message = str(exit_info.value)
    assert 'iter_4.pth' in message and 'disk is full' in message
    assert str(work_dir / 'iter_2.pth') in message and 'intact' in message
    assert 'could not write checkpoint' in logs(work_dir)
    assert sorted(p.name for p in work_dir.iterdir()
                  if p.suffix in ('.pth', '.tmp')) == ['iter_2.pth']
    assert last_checkpoint(work_dir) == work_dir / 'iter_2.pth'
    assert load(work_dir / 'iter_2.pth')['meta']['iter'] == 2

    probe = FilesAtFirstIteration()
    run(work_dir, max_iters=4, interval=2, max_keep=1, hooks=[probe], resume=True)
    assert probe.iter_at_start == 2
    assert pth_names(work_dir) == ['iter_4.pth']
    assert load(last_checkpoint(work_dir))['meta']['iter'] == 4


def test_truncated_latest_checkpoint_falls_back_to_the_earlier_one(tmp_path):
    work_dir = tmp_path / 'truncated'
    run(work_dir, max_iters=4, interval=2, max_keep=2)
    latest = work_dir / 'iter_4.pth'
    data = latest.read_bytes()
    latest.write_bytes(data[:len(data) // 2])

    probe = FilesAtFirstIteration()
    run(work_dir, max_iters=6, interval=2, max_keep=2, hooks=[probe], resume=True)

    assert probe.iter_at_start == 2
    log = logs(work_dir)
    assert f'resume: skipped checkpoint {latest}' in log
    assert 'central directory' in log  # why: the zip archive is cut short
    assert f'resume: falling back to {work_dir / "iter_2.pth"}' in log
    assert pth_names(work_dir) == ['iter_4.pth', 'iter_6.pth']
    assert load(latest)['meta']['iter'] == 4  # rewritten whole by the resumed run


def test_resume_keeps_the_earlier_runs_checkpoints_until_a_new_one_exists(tmp_path):
    work_dir = tmp_path / 'prune'
    run(work_dir, max_iters=4, interval=1, max_keep=3)
    assert pth_names(work_dir) == ['iter_2.pth', 'iter_3.pth', 'iter_4.pth']

    probe = FilesAtFirstIteration()
    run(work_dir, max_iters=6, interval=2, max_keep=1, hooks=[probe], resume=True)

    assert probe.iter_at_start == 4
    assert probe.names == ['iter_2.pth', 'iter_3.pth', 'iter_4.pth']
    assert pth_names(work_dir) == ['iter_6.pth']
    assert last_checkpoint(work_dir) == work_dir / 'iter_6.pth'


class Payload:
    """Unpickling this creates ``marker``: arbitrary code run by a load."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


@pytest.mark.parametrize('how', ['load_from', 'resume_from', '--resume'])
def test_malicious_checkpoint_is_refused_whatever_the_environment(tmp_path, monkeypatch,
                                                                  how):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    marker = tmp_path / 'payload_ran'
    evil = work_dir / 'iter_2.pth'
    torch.save({'meta': {'iter': 2, 'epoch': 0}, 'state_dict': {},
                'message_hub': Payload(marker)}, evil)

    if how == 'load_from':
        flags, extra = (), {'load_from': str(evil)}
    elif how == 'resume_from':
        flags, extra = (), {'load_from': str(evil), 'resume': True}
    else:
        (work_dir / 'last_checkpoint').write_text(str(evil))
        flags, extra = ('--resume',), {}
    with pytest.raises(SystemExit) as exit_info:
        run_tool(work_dir, 2, 2, 1, *flags, **extra)

    assert not marker.exists()
    message = str(exit_info.value)
    assert str(evil) in message
    assert 'pickled objects' in message
