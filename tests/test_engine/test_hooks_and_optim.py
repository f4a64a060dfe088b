"""The engine pieces on their own: optimizer constructor, checkpoint hooks."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope

import hvg.engine  # noqa: F401  (registers)
import hvg.models  # noqa: F401
from hvg.engine import NonFiniteError, NonFiniteGuardHook
from hvg.engine.hooks import WeightsOnlyCheckpointHook
from hvg.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
TINY = {
    'model.generator.base_channels': 2,
    'model.discriminator.spatial.base_channels': 2,
    'model.discriminator.temporal.base_channels': 2,
}


@pytest.fixture(autouse=True)
def single_thread():
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture(scope='module')
def tiny_kinetics():
    """The Kinetics level-1 config at tiny width, and its model."""
    cfg = Config.fromfile(str(CONFIGS / 'hvg' / 'l1_kinetics_24f_32.py'))
    cfg.merge_from_dict(TINY)
    return cfg, MODELS.build(cfg.model)


def build_in_hvg_scope(model: nn.Module, optim_wrapper_cfg) -> OptimWrapperDict:
    """What the Runner does with ``cfg.optim_wrapper`` (default_scope='hvg')."""
    with DefaultScope.overwrite_default_scope('hvg'):
        return build_optim_wrapper(model, optim_wrapper_cfg)


def param_ids(params) -> set:
    return {id(p) for p in params}


# --- MultiOptimWrapperConstructor ---------------------------------------------
def test_base_schedule_learning_rates_are_dvdgans():
    schedule = Config.fromfile(str(CONFIGS / '_base_' / 'schedules' / 'gan_adam.py'))
    assert schedule.optim_wrapper.generator.optimizer.lr == 1e-4
    assert schedule.optim_wrapper.discriminator.optimizer.lr == 5e-4


@pytest.mark.parametrize('config', ['hvg/l1_kinetics_24f_32.py', 'hvg/demo_l1_clips.py'])
def test_constructor_builds_one_wrapper_per_network(tiny_kinetics, config):
    cfg = Config.fromfile(str(CONFIGS / config))
    _, model = tiny_kinetics
    wrappers = build_in_hvg_scope(model, cfg.optim_wrapper)

    assert isinstance(wrappers, OptimWrapperDict)
    assert set(wrappers.keys()) == {'generator', 'discriminator'}
    for name in ('generator', 'discriminator'):
        optimizer = wrappers[name].optimizer
        expected = cfg.optim_wrapper[name].optimizer
        assert isinstance(optimizer, torch.optim.Adam)
        assert [g['lr'] for g in optimizer.param_groups] == [expected.lr]
        assert optimizer.param_groups[0]['betas'] == (0.0, 0.999)
        # each optimizer owns exactly its own network's parameters
        owned = param_ids(p for g in optimizer.param_groups for p in g['params'])
        assert owned == param_ids(getattr(model, name).parameters())


def test_constructor_reports_the_models_children_on_a_wrong_key(tiny_kinetics):
    _, model = tiny_kinetics
    cfg = dict(constructor='MultiOptimWrapperConstructor',
               gen=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))
    with pytest.raises(KeyError, match='gen') as error:
        build_in_hvg_scope(model, cfg)
    message = str(error.value)
    assert 'generator' in message and 'discriminator' in message


# --- WeightsOnlyCheckpointHook --------------------------------------------------
def test_message_hub_survives_a_weights_only_checkpoint(tmp_path):
    hub = MessageHub.get_instance('test_hooks_and_optim_hub_src')
    for value in (1.5, 2.5, 3.0):
        hub.update_scalar('train/loss_disc', value)
    hub.update_scalar('train/loss_gen', -0.25, count=2)
    hub.update_info('eta', np.float64(12.5))
    hub.update_info('iter', 3)
    checkpoint = dict(message_hub=hub.state_dict(),
                      meta=dict(seed=np.int64(7), iter=3),
                      state_dict={'w': torch.ones(2)})

    hook = WeightsOnlyCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, map_location='cpu', weights_only=True)
    hook.after_load_checkpoint(None, loaded)
    restored = MessageHub.get_instance('test_hooks_and_optim_hub_src_restored')
    restored.load_state_dict(loaded['message_hub'])

    for key in ('train/loss_disc', 'train/loss_gen'):
        buffer = restored.get_scalar(key)
        assert isinstance(buffer, HistoryBuffer)
        want_log, want_count = hub.get_scalar(key).data
        got_log, got_count = buffer.data
        np.testing.assert_array_equal(got_log, want_log)
        np.testing.assert_array_equal(got_count, want_count)
        assert buffer.mean() == pytest.approx(hub.get_scalar(key).mean())
        assert buffer.max_length == hub.get_scalar(key).max_length
    assert restored.get_info('eta') == 12.5
    assert restored.get_info('iter') == 3
    assert loaded['meta']['seed'] == 7


def test_without_the_hook_weights_only_loading_refuses_the_message_hub(tmp_path):
    hub = MessageHub.get_instance('test_hooks_and_optim_hub_raw')
    hub.update_scalar('train/loss_disc', 1.0)
    path = tmp_path / 'raw.pth'
    torch.save(dict(message_hub=hub.state_dict()), path)
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(path, map_location='cpu', weights_only=True)


# --- NonFiniteGuardHook -------------------------------------------------------
def fake_runner(tmp_path: Path, model: nn.Module, last_ckpt=None, iteration: int = 9):
    hub = MessageHub.get_instance(f'test_hooks_and_optim_guard_{tmp_path.name}')
    if last_ckpt is not None:
        hub.update_info('last_ckpt', last_ckpt)
    return SimpleNamespace(message_hub=hub, work_dir=str(tmp_path), iter=iteration,
                           model=model)


def test_guard_refuses_a_checkpoint_with_nan(tmp_path):
    good = str(tmp_path / 'iter_8.pth')
    runner = fake_runner(tmp_path, nn.Linear(2, 2), last_ckpt=good)
    hook = NonFiniteGuardHook()
    finite = dict(state_dict={'a': torch.ones(3), 'step': torch.tensor(4)})
    hook.before_save_checkpoint(runner, finite)  # passes

    bad = dict(state_dict={'a': torch.ones(3), 'b': torch.tensor([0.0, float('nan')])})
    with pytest.raises(NonFiniteError, match='non-finite weights') as error:
        hook.before_save_checkpoint(runner, bad)
    assert 'iteration 10' in str(error.value)
    assert good in str(error.value)


def test_guard_stops_or_counts_nonfinite_steps(tmp_path):
    runner = fake_runner(tmp_path, nn.Linear(2, 2))
    stop = NonFiniteGuardHook(action='stop')
    stop.after_train_iter(runner, 0, outputs=dict(nonfinite=torch.tensor(0.0)))
    with pytest.raises(NonFiniteError, match='No checkpoint had been saved yet'):
        stop.after_train_iter(runner, 0, outputs=dict(nonfinite=torch.tensor(1.0)))

    skip = NonFiniteGuardHook(action='skip')
    skip.after_train_iter(runner, 0, outputs=dict(nonfinite=torch.tensor(1.0)))
    skip.after_train_iter(runner, 1, outputs=dict(nonfinite=torch.tensor(0.0)))
    assert skip.num_skipped == 1


def test_guard_stops_on_nan_weights_even_when_skipping(tmp_path):
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight[0, 0] = float('inf')
    runner = fake_runner(tmp_path, model)
    with pytest.raises(NonFiniteError, match='non-finite parameters'):
        NonFiniteGuardHook(action='skip').after_train_iter(runner, 0, outputs={})


def test_guard_rejects_an_unknown_action():
    with pytest.raises(ValueError, match='skip'):
        NonFiniteGuardHook(action='ignore')


def test_guard_says_poisoned_batchnorm_statistics_cannot_be_skipped(tmp_path):
    """Skip mode, a NaN batch: the step is skipped but BatchNorm's running
    statistics were updated by the forward pass. The run stops, and the message
    says why skipping cannot help instead of suggesting skip mode."""
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model(torch.tensor([[float('nan'), 1.0], [0.0, 2.0]]))  # train mode: stats updated
    runner = fake_runner(tmp_path, model, last_ckpt=str(tmp_path / 'iter_8.pth'))
    with pytest.raises(NonFiniteError) as error:
        NonFiniteGuardHook(action='skip').after_train_iter(
            runner, 0, outputs=dict(nonfinite=torch.tensor(1.0)))
    message = str(error.value)
    assert 'non-finite buffers' in message and '1.running_mean' in message
    assert 'BatchNorm running statistics' in message
    assert 'not a skippable step' in message
    assert "action='skip' to skip" not in message and 'iter_8.pth' in message


def test_guard_logs_fp16_overflows_and_never_stops_on_them(tmp_path):
    """An overflow the loss scaler skipped is dynamic loss scaling at work:
    counted and logged in either action, not a non-finite step."""
    model = nn.Linear(2, 2)
    model.overflow_events = ['fp16 gradient overflow in the discriminator update at '
                             'iteration 10: skipped, loss scale 65536 -> 32768']
    runner = fake_runner(tmp_path, model)
    hook = NonFiniteGuardHook(action='stop')
    hook.after_train_iter(runner, 0, outputs=dict(nonfinite=torch.tensor(0.0),
                                                  overflow=torch.tensor(1.0)))
    hook.after_train_iter(runner, 1, outputs=dict(nonfinite=torch.tensor(0.0),
                                                  overflow=torch.tensor(2.0)))
    assert hook.num_overflows == 3 and hook.num_skipped == 0
