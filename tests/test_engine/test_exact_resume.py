"""A run killed after a checkpoint and resumed ends where the uninterrupted run ends.

The real Runner on the demo configs at tiny width: 4 iterations with a
checkpoint at 2, against a second work dir that holds only that checkpoint
(what a run killed after iteration 2 leaves) resumed to 4. The final weights,
BatchNorm statistics and optimizer states must be bit-identical. The
2-rank version runs through ``tools/dist_train.sh``
(tests/test_tools/test_train_tools.py).
"""
import random
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import hvg.datasets  # noqa: F401  (registers)
import hvg.engine  # noqa: F401
import hvg.models  # noqa: F401
from hvg.engine.hooks.exact_resume_hook import capture_rng_state, restore_rng_state

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'hvg'


def tiny_config(level: str, work_dir: Path, max_iters: int, exact_resume: bool = True,
                **overrides) -> Config:
    """A demo config at tiny width, random pipeline and augmentation kept."""
    name = 'demo_l1_clips.py' if level == 'level1' else 'demo_l2_clips.py'
    cfg = Config.fromfile(str(CONFIGS / name))
    options = {
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': max_iters,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.samples.interval': 0,
        'default_hooks.samples.num_samples': 2,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        'experiment_name': f'{work_dir.name}_{uuid.uuid4().hex[:8]}',
    }
    if level == 'level2':
        options['model.discriminator.matching.base_channels'] = 2
    options.update(overrides)
    cfg.merge_from_dict(options)
    if level == 'level2':
        cfg.model.lowres_source = dict(type='RealLowres')
    if not exact_resume:
        del cfg.default_hooks['exact_resume']
    return cfg


def load(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def killed_after_checkpoint(work_dir: Path, source: Path, it: int) -> None:
    """``work_dir`` as a run killed right after writing ``iter_{it}.pth`` leaves it."""
    work_dir.mkdir()
    shutil.copy(source / f'iter_{it}.pth', work_dir / f'iter_{it}.pth')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / f'iter_{it}.pth'))


def train(cfg: Config) -> Runner:
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def tensors_differ(a, b) -> list:
    """Paths of the tensors that are not bit-identical in two nested states."""
    if isinstance(a, torch.Tensor):
        return [] if torch.equal(a, b) else ['']
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return [f'{k}.{p}' for k in a for p in tensors_differ(a[k], b[k])]
    if isinstance(a, (list, tuple)):
        return [f'{i}.{p}' for i, (x, y) in enumerate(zip(a, b))
                for p in tensors_differ(x, y)]
    return []


@pytest.fixture(autouse=True)
def small_and_isolated(tmp_path_factory, monkeypatch):
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path_factory.getbasetemp() / 'hvg_cache'))
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def test_rng_state_round_trips_as_plain_tensors(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    np.random.randn()  # a cached Gaussian in numpy's state
    state = capture_rng_state()
    torch.save(state, tmp_path / 'rng.pth')
    want = (random.random(), np.random.randn(), torch.rand(3))
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    restore_rng_state(torch.load(tmp_path / 'rng.pth', weights_only=True))
    got = (random.random(), np.random.randn(), torch.rand(3))
    assert got[:2] == want[:2]
    assert torch.equal(got[2], want[2])


@pytest.mark.parametrize('level,workers', [('level1', 0), ('level1', 1), ('level2', 0)])
def test_resumed_run_is_bit_identical_to_the_uninterrupted_one(level, workers, tmp_path):
    """``workers=0``: the data pipeline draws from the main process's RNGs;
    ``workers=1``: from a worker's, reseeded and replayed on resume."""
    loader = {'train_dataloader.num_workers': workers}
    whole = tmp_path / 'whole'
    train(tiny_config(level, whole, max_iters=4, **loader))
    resumed = tmp_path / 'resumed'
    killed_after_checkpoint(resumed, whole, 2)
    runner = train(tiny_config(level, resumed, max_iters=4, resume=True, **loader))
    assert runner.iter == 4

    want, got = load(whole / 'iter_4.pth'), load(resumed / 'iter_4.pth')
    # the run did train after the resume: weights moved from iteration 2
    at_2 = load(whole / 'iter_2.pth')['state_dict']
    assert tensors_differ(at_2, want['state_dict'])
    assert tensors_differ(want['state_dict'], got['state_dict']) == []
    assert tensors_differ(want['optimizer'], got['optimizer']) == []
    # the checkpoint carries the RNG states of the rank that wrote it
    state = want['resume_state']
    assert state['world_size'] == 1 and state['iter'] == 4
    assert set(state['rng'][0]) >= {'python', 'numpy', 'torch'}


def test_without_the_hook_the_resumed_run_differs(tmp_path):
    """The check above can fail: mmengine alone reseeds the RNGs on resume."""
    off = {'exact_resume': False}
    whole = tmp_path / 'whole'
    train(tiny_config('level1', whole, max_iters=4, **off))
    resumed = tmp_path / 'resumed'
    killed_after_checkpoint(resumed, whole, 2)
    train(tiny_config('level1', resumed, max_iters=4, resume=True, **off))
    want, got = load(whole / 'iter_4.pth'), load(resumed / 'iter_4.pth')
    assert tensors_differ(want['state_dict'], got['state_dict'])

