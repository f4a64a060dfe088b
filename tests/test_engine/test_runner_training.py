"""Training a level with mmengine's real Runner: checkpoints, samples, resume, NaN.

Every run is the demo config (``configs/hvg/demo_l1_clips.py``) on the real
decoded sample clips, at tiny width and for a handful of iterations.
"""
import hashlib
import json
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import decord
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

import hvg.datasets  # noqa: F401  (registers)
import hvg.engine  # noqa: F401
import hvg.models  # noqa: F401
from hvg.engine import NonFiniteError, NonFiniteGuardHook
from hvg.models import GeometricHingeLoss
from hvg.models.gans import unwrap
from hvg.registry import MODELS

DEMO_CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'hvg' / 'demo_l1_clips.py'
NAN_LOSS = 'NaNAtCallHingeLoss_test_runner_training'
NUM_FRAMES = 12  # the demo config's


@MODELS.register_module(name=NAN_LOSS, force=True)
class NaNAtCallHingeLoss(GeometricHingeLoss):
    """The hinge loss, except that discriminator loss call ``nan_at`` (1-based)
    returns NaN: one iteration of the level (one D update each) goes wrong."""

    def __init__(self, nan_at: int):
        super().__init__()
        self.nan_at = nan_at
        self.calls = 0

    def disc_loss(self, real_scores, fake_scores):
        self.calls += 1
        loss = super().disc_loss(real_scores, fake_scores)
        return loss * float('nan') if self.calls == self.nan_at else loss


class ProbeHook(Hook):
    """Records what the test needs at chosen points of a run."""

    priority = 'VERY_LOW'

    def __init__(self, at_iter: Optional[int] = None):
        self.at_iter = at_iter  # 0-based runner.iter of the iteration to watch
        self.iter_before_train: Optional[int] = None
        self.exp_avg_before_train: Dict[str, List[torch.Tensor]] = {}
        self.params_before: Dict[str, torch.Tensor] = {}
        self.params_after: Dict[str, torch.Tensor] = {}
        self.ckpt_hashes_before: Dict[str, str] = {}

    def before_train(self, runner) -> None:
        self.iter_before_train = runner.iter
        for name, wrapper in runner.optim_wrapper.items():
            state = wrapper.optimizer.state
            self.exp_avg_before_train[name] = [
                state[p]['exp_avg'].clone() for group in wrapper.optimizer.param_groups
                for p in group['params'] if p in state]

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            self.params_before = params_of(runner)
            self.ckpt_hashes_before = {
                path.name: sha256(path) for path in Path(runner.work_dir).glob('*.pth')}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter == self.at_iter:
            self.params_after = params_of(runner)


def params_of(runner) -> Dict[str, torch.Tensor]:
    return {name: p.detach().clone()
            for name, p in unwrap(runner.model).named_parameters()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tensors_in(obj) -> List[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in tensors_in(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in tensors_in(v)]
    return []


def load_weights_only(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def demo_config(work_dir: Path, max_iters: int, checkpoint_interval: int,
                samples_interval: int = 0, **overrides) -> Config:
    """The demo config at tiny width, as ``--cfg-options`` would make it."""
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': max_iters,
        'default_hooks.checkpoint.interval': checkpoint_interval,
        'default_hooks.samples.interval': samples_interval,
        'default_hooks.samples.num_samples': 4,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        # Runner-global instances (logger, visualizer) are keyed by this name
        'experiment_name': f'{work_dir.name}_{uuid.uuid4().hex[:8]}',
        **overrides,
    })
    return cfg


def guard_hook(runner) -> NonFiniteGuardHook:
    hooks = [h for h in runner.hooks if isinstance(h, NonFiniteGuardHook)]
    assert len(hooks) == 1
    return hooks[0]


def scalar_history(runner, key: str) -> List[float]:
    return runner.message_hub.get_scalar(f'train/{key}').data[0].tolist()


@pytest.fixture(autouse=True)
def small_and_isolated(tmp_path_factory, monkeypatch):
    """One intra-op thread (tiny models on a shared machine) and a per-session
    cache for the downscaled sample clips."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path_factory.getbasetemp() / 'hvg_cache'))
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def test_training_writes_checkpoints_samples_and_logs(tmp_path):
    work_dir = tmp_path / 'train'
    runner = Runner.from_cfg(demo_config(work_dir, max_iters=4, checkpoint_interval=2,
                                         samples_interval=2))
    runner.train()
    assert runner.iter == 4

    # checkpoints: every 2 iterations, plain tensors only
    for it in (2, 4):
        ckpt = load_weights_only(work_dir / f'iter_{it}.pth')
        assert ckpt['meta']['iter'] == it
        keys = ckpt['state_dict'].keys()
        assert any(k.startswith('generator.') for k in keys)
        assert any(k.startswith('discriminator.') for k in keys)
        assert set(ckpt['optimizer']) >= {'generator', 'discriminator'}
        assert all(torch.isfinite(t).all() for t in tensors_in(ckpt['state_dict']))
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert Path(last) == work_dir / 'iter_4.pth'

    # samples: a GIF and an MP4 per interval, with the model's frame count
    for it in (2, 4):
        gif = work_dir / 'samples' / f'iter_{it:06d}.gif'
        mp4 = work_dir / 'samples' / f'iter_{it:06d}.mp4'
        with Image.open(gif) as image:
            assert image.n_frames == NUM_FRAMES
        reader = decord.VideoReader(str(mp4))
        assert len(reader) == NUM_FRAMES
        height, width = reader[0].shape[:2]
        assert height >= 32 and width >= 32

    # logs: D every iteration, G every discriminator_steps=2 iterations
    assert len(scalar_history(runner, 'loss_disc')) == 4
    assert len(scalar_history(runner, 'loss_gen')) == 2
    assert scalar_history(runner, 'nonfinite') == [0.0] * 4
    log_text = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    assert 'loss_disc' in log_text and 'loss_gen' in log_text
    records = [json.loads(line) for line in
               Path(runner.log_dir, 'vis_data', 'scalars.json').read_text().splitlines()]
    train_records = [r for r in records if 'loss_disc' in r]
    assert [r['iter'] for r in train_records] == [1, 2, 3, 4]
    assert 'loss_gen' in train_records[-1]


def test_resume_continues_iteration_and_optimizer_state(tmp_path):
    work_dir = tmp_path / 'resume'
    first = Runner.from_cfg(demo_config(work_dir, max_iters=4, checkpoint_interval=2))
    first.train()
    saved = load_weights_only(work_dir / 'iter_4.pth')
    loss_disc_before = scalar_history(first, 'loss_disc')

    second = Runner.from_cfg(demo_config(work_dir, max_iters=6, checkpoint_interval=2,
                                         resume=True))
    probe = ProbeHook()
    second.register_hook(probe)
    second.train()

    assert probe.iter_before_train == 4
    assert second.iter == 6
    assert (work_dir / 'iter_6.pth').is_file()
    for name in ('generator', 'discriminator'):
        saved_state = saved['optimizer'][name]['state']
        saved_exp_avg = [saved_state[i]['exp_avg'] for i in sorted(saved_state)]
        resumed = probe.exp_avg_before_train[name]
        assert len(resumed) == len(saved_exp_avg) > 0
        for got, want in zip(resumed, saved_exp_avg):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
    # the logged history came back through the weights-only checkpoint too
    loss_disc_after = scalar_history(second, 'loss_disc')
    assert len(loss_disc_after) == 6
    assert loss_disc_after[:4] == pytest.approx(loss_disc_before)
    # G updates stay on every 2nd iteration across the resume (iterations 2, 4, 6)
    assert len(scalar_history(second, 'loss_gen')) == 3


def test_nan_loss_stops_with_last_good_checkpoint(tmp_path):
    work_dir = tmp_path / 'nan_stop'
    cfg = demo_config(work_dir, max_iters=6, checkpoint_interval=2,
                      **{'model.loss.type': NAN_LOSS, 'model.loss.nan_at': 4})
    runner = Runner.from_cfg(cfg)
    probe = ProbeHook(at_iter=3)  # iteration 4, a checkpoint iteration
    runner.register_hook(probe)

    with pytest.raises(NonFiniteError) as error:
        runner.train()

    message = str(error.value)
    good = work_dir / 'iter_2.pth'
    assert 'iteration 4' in message
    assert str(good) in message
    assert '--resume' in message
    # the good checkpoint is untouched and finite; nothing later was written
    assert probe.ckpt_hashes_before == {'iter_2.pth': sha256(good)}
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']
    assert Path((work_dir / 'last_checkpoint').read_text().strip()) == good
    tensors = tensors_in(load_weights_only(good))
    assert tensors and all(torch.isfinite(t).all() for t in tensors)
    # the bad discriminator update was never applied
    after = params_of(runner)
    for name, before in probe.params_before.items():
        if name.startswith('discriminator.'):
            torch.testing.assert_close(after[name], before, rtol=0, atol=0)


def test_nan_loss_is_skipped_when_configured(tmp_path):
    work_dir = tmp_path / 'nan_skip'
    cfg = demo_config(work_dir, max_iters=4, checkpoint_interval=2,
                      **{'model.loss.type': NAN_LOSS, 'model.loss.nan_at': 3,
                         'default_hooks.nonfinite_guard.action': 'skip'})
    runner = Runner.from_cfg(cfg)
    probe = ProbeHook(at_iter=2)  # iteration 3: a D-only iteration
    runner.register_hook(probe)
    runner.train()

    assert runner.iter == 4
    assert guard_hook(runner).num_skipped == 1
    assert scalar_history(runner, 'nonfinite') == [0.0, 0.0, 1.0, 0.0]
    # the skipped step left every parameter as it was ...
    assert probe.params_before.keys() == probe.params_after.keys()
    for name, before in probe.params_before.items():
        torch.testing.assert_close(probe.params_after[name], before, rtol=0, atol=0)
    # ... and training went on afterwards, with finite parameters
    final = params_of(runner)
    assert all(torch.isfinite(p).all() for p in final.values())
    changed = [n for n in final if not torch.equal(final[n], probe.params_after[n])]
    assert any(n.startswith('discriminator.') for n in changed)
    assert any(n.startswith('generator.') for n in changed)
    ckpt = load_weights_only(work_dir / 'iter_4.pth')
    assert all(torch.isfinite(t).all() for t in tensors_in(ckpt['state_dict']))
