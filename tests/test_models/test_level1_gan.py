"""Level1GAN built from the demo config at tiny widths: the update schedule,
frozen discriminators, the non-finite guard, sampling."""
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import init_default_scope

import hvg.engine  # noqa: F401 (registers MultiOptimWrapperConstructor)
from hvg.registry import MODELS

CONFIG = Path(__file__).parents[2] / 'configs' / 'hvg' / 'demo_l1_clips.py'
NUM_FRAMES = 6  # shorter than the demo's 12 and above its 4 sampled frames
BATCH_SIZE = 2


def tiny_config() -> Config:
    cfg = Config.fromfile(str(CONFIG))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.generator.num_frames': NUM_FRAMES,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
    })
    return cfg


@pytest.fixture
def gan():
    cfg = tiny_config()
    init_default_scope('hvg')
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(optim_wrapper, OptimWrapperDict)
    assert model.discriminator_steps == 2
    return model, optim_wrapper


@pytest.fixture
def set_iter():
    """Sets MessageHub's 'iter' as the runner would; restores it afterwards."""
    hub = MessageHub.get_current_instance()
    missing = object()
    saved = hub.runtime_info.get('iter', missing)

    def set_to(iteration):
        hub.update_info('iter', iteration)

    yield set_to
    if saved is missing:
        hub.runtime_info.pop('iter', None)
    else:
        hub.update_info('iter', saved)


def make_batch() -> dict:
    video = torch.randint(0, 256, (BATCH_SIZE, 3, NUM_FRAMES, 32, 32), dtype=torch.uint8)
    return dict(inputs=video, data_samples=dict(label=torch.tensor([0, 2])))


def snapshot(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def changed(before: Dict[str, torch.Tensor], module: torch.nn.Module) -> List[str]:
    return [name for name, p in module.named_parameters()
            if not torch.equal(p.detach(), before[name])]


def updated_always(discriminator_params: Dict[str, torch.Tensor]) -> set:
    """The discriminator parameters every D step must move.

    Not the bias of a score head: while every real and fake score lies inside
    the hinge margin, its gradient is mean(1) - mean(1) = 0 exactly.
    """
    return {name for name in discriminator_params
            if not name.endswith('head.linear.bias')}


def count_steps(monkeypatch, optim_wrapper: OptimWrapperDict) -> Dict[str, int]:
    counts = {'generator': 0, 'discriminator': 0}
    for name in counts:
        wrapper = optim_wrapper[name]
        original = wrapper.step

        def step(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(wrapper, 'step', step)
    return counts


D_LOG_KEYS = {'loss_disc', 'd_real', 'd_fake', 'grad_norm_disc', 'nonfinite'}
G_LOG_KEYS = {'loss_gen', 'grad_norm_gen'}


def test_config_builds_the_tiny_level1(gan):
    model, optim_wrapper = gan
    assert model.conditional and model.generator.num_classes == 3
    assert model.generator.num_frames == NUM_FRAMES
    assert model.discriminator.spatial.num_sampled_frames == 4
    # one optimizer per sub-network, holding exactly that sub-network's parameters
    for name in ('generator', 'discriminator'):
        params = {id(p) for group in optim_wrapper[name].optimizer.param_groups
                  for p in group['params']}
        assert params == {id(p) for p in getattr(model, name).parameters()}
    assert optim_wrapper['generator'].get_lr()['lr'] == [1e-3]  # the demo config's (docs/quality.md)
    assert optim_wrapper['discriminator'].get_lr()['lr'] == [1e-3]


def test_two_discriminator_updates_per_generator_update(gan, set_iter, monkeypatch):
    model, optim_wrapper = gan
    counts = count_steps(monkeypatch, optim_wrapper)
    batch = make_batch()
    for i in range(4):
        set_iter(i)
        g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
        log_vars = model.train_step(batch, optim_wrapper)
        generator_step = (i + 1) % 2 == 0

        assert set(changed(d_before, model.discriminator)) >= updated_always(d_before), \
            f'iteration {i}: every discriminator parameter is updated'
        g_changed = changed(g_before, model.generator)
        if generator_step:
            assert len(g_changed) > 0.9 * len(g_before), f'iteration {i}'
            assert set(log_vars) == D_LOG_KEYS | G_LOG_KEYS
        else:
            assert g_changed == [], f'iteration {i}: no generator update'
            assert set(log_vars) == D_LOG_KEYS
        assert counts == {'discriminator': i + 1, 'generator': (i + 1) // 2}
        assert all(torch.isfinite(v).all() for v in log_vars.values())
        assert log_vars['nonfinite'].item() == 0
        assert log_vars['loss_disc'].item() >= 0  # a hinge loss

    # Adam's own step counters agree: 4 discriminator steps, 2 generator steps
    for name, expected in (('discriminator', 4), ('generator', 2)):
        states = optim_wrapper[name].optimizer.state.values()
        assert states and {int(s['step']) for s in states} == {expected}


def test_schedule_falls_back_to_an_internal_counter(gan, set_iter, monkeypatch):
    """Outside a Runner (no 'iter' in the MessageHub) the model counts itself."""
    model, optim_wrapper = gan
    set_iter(None)  # get_info('iter') is then None, as before any runner
    counts = count_steps(monkeypatch, optim_wrapper)
    log_keys = [set(model.train_step(make_batch(), optim_wrapper)) for _ in range(4)]
    assert counts == {'discriminator': 4, 'generator': 2}
    assert [G_LOG_KEYS <= keys for keys in log_keys] == [False, True, False, True]


def test_discriminator_gets_no_gradient_during_generator_step(gan, set_iter,
                                                             monkeypatch):
    model, optim_wrapper = gan
    seen = {}

    def spy(name, wrapper):
        original = wrapper.step

        def step(*args, **kwargs):
            d_params = list(model.discriminator.parameters())
            seen[name] = dict(
                d_grads=[p.grad for p in d_params],
                d_requires_grad=[p.requires_grad for p in d_params],
                g_grads=[p.grad for p in model.generator.parameters()])
            return original(*args, **kwargs)

        monkeypatch.setattr(wrapper, 'step', step)

    spy('generator', optim_wrapper['generator'])
    spy('discriminator', optim_wrapper['discriminator'])
    set_iter(1)  # a generator iteration
    model.train_step(make_batch(), optim_wrapper)

    # discriminator step: D has gradients, G (fakes made under no_grad) has none
    d_step = seen['discriminator']
    assert all(g is not None for g in d_step['d_grads'])
    assert all(g is None for g in d_step['g_grads'])
    # generator step: D frozen, no gradient reached it; G has gradients
    g_step = seen['generator']
    assert not any(g_step['d_requires_grad'])
    assert all(g is None or not g.any() for g in g_step['d_grads'])
    assert sum(g is not None and bool(g.any()) for g in g_step['g_grads']) \
        > 0.9 * len(g_step['g_grads'])
    # afterwards D trains again, and no stale gradient is left anywhere
    assert all(p.requires_grad for p in model.discriminator.parameters())
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_nonfinite_discriminator_loss_changes_nothing(gan, set_iter, monkeypatch):
    model, optim_wrapper = gan
    counts = count_steps(monkeypatch, optim_wrapper)
    # keep the graph so backward runs, as it would for a real NaN
    monkeypatch.setattr(model.loss, 'disc_loss',
                        lambda real, fake: (real.mean() + fake.mean()) * float('nan'))
    before = snapshot(model)
    set_iter(0)  # a discriminator-only iteration
    log_vars = model.train_step(make_batch(), optim_wrapper)

    assert changed(before, model) == []
    assert counts == {'discriminator': 0, 'generator': 0}
    assert not optim_wrapper['discriminator'].optimizer.state
    assert log_vars['nonfinite'].item() == 1
    assert len(model.nonfinite_events) == 1
    event = model.nonfinite_events[0]
    assert 'non-finite discriminator' in event and 'iteration 1' in event
    assert 'not applied' in event
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_nonfinite_generator_gradient_skips_only_the_generator(gan, set_iter,
                                                               monkeypatch):
    """A finite loss with a NaN gradient is caught too; D still trains."""
    model, optim_wrapper = gan
    first = next(model.generator.parameters())
    first.register_hook(lambda grad: grad * float('nan'))
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    set_iter(1)
    log_vars = model.train_step(make_batch(), optim_wrapper)
    assert changed(g_before, model.generator) == []
    assert set(changed(d_before, model.discriminator)) >= updated_always(d_before)
    assert log_vars['nonfinite'].item() == 1
    assert torch.isfinite(log_vars['loss_gen'])
    assert not torch.isfinite(log_vars['grad_norm_gen'])
    [event] = model.nonfinite_events
    assert 'non-finite generator' in event and 'iteration 2' in event


def test_nonfinite_events_are_per_step(gan, set_iter, monkeypatch):
    model, optim_wrapper = gan
    with monkeypatch.context() as patch:
        patch.setattr(model.loss, 'disc_loss',
                      lambda real, fake: (real.mean() + fake.mean()) * float('inf'))
        set_iter(0)
        assert model.train_step(make_batch(), optim_wrapper)['nonfinite'].item() == 1
    set_iter(2)
    assert model.train_step(make_batch(), optim_wrapper)['nonfinite'].item() == 0
    assert model.nonfinite_events == []


def test_sample_is_reproducible_by_seed(gan):
    model, _ = gan
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng_state = torch.get_rng_state()
    a = model.sample(4, seed=0)
    b = model.sample(4, seed=0)
    c = model.sample(4, seed=1)
    assert torch.equal(torch.get_rng_state(), rng_state), 'the global RNG was used'
    assert a.shape == (4, 3, NUM_FRAMES, 32, 32)
    assert a.abs().max() <= 1
    assert torch.equal(a, b)
    assert (a - c).abs().max() > 1e-3
    # sampling in eval mode leaves the model as it was
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in state.items())


def test_sample_in_train_mode_is_reproducible_up_to_spectral_norm_updates(gan):
    """In train mode every forward runs one power iteration of spectral norm
    (and uses batch statistics), so repeated samples agree closely, not bitwise."""
    model, _ = gan
    model.train()
    a = model.sample(4, seed=0)
    b = model.sample(4, seed=0)
    c = model.sample(4, seed=1)
    torch.testing.assert_close(a, b, atol=1e-3, rtol=0)
    assert (a - c).abs().max() > 1e-2


def test_sample_with_given_labels_and_noise_std(gan):
    model, _ = gan
    model.eval()
    labels = torch.tensor([0, 1, 2])
    a = model.sample(3, labels=labels, seed=0)
    b = model.sample(3, labels=labels, seed=0)
    assert torch.equal(a, b)
    assert not torch.allclose(model.sample(3, labels=labels.flip(0), seed=0), a)
    # noise_std=0 removes the noise: only the labels matter then
    still = model.sample(3, labels=torch.tensor([1, 1, 1]), noise_std=0.0, seed=0)
    torch.testing.assert_close(still[0], still[2])


def test_forward_samples_but_does_not_compute_losses(gan):
    model, _ = gan
    model.eval()
    with pytest.raises(NotImplementedError, match='train_step'):
        model(make_batch()['inputs'], mode='loss')
    out = model(dict(num_samples=2, seed=5), mode='tensor')
    assert torch.equal(out, model.sample(2, seed=5))


@pytest.mark.parametrize('data_samples', [None, dict(label=torch.tensor([0, -1]))],
                         ids=['no-labels', 'missing-label'])
def test_conditional_level_needs_a_label_per_clip(gan, set_iter, data_samples):
    model, optim_wrapper = gan
    batch = dict(make_batch(), data_samples=data_samples)
    set_iter(0)
    with pytest.raises(ValueError, match='needs a label for every clip'):
        model.train_step(batch, optim_wrapper)


def test_the_level_passes_its_classes_to_every_network():
    """``model.num_classes`` is said once; a network saying otherwise is refused."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from hvg.registry import MODELS
    init_default_scope('hvg')
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / 'hvg' /
                              'demo_l1_clips.py'))
    cfg.merge_from_dict({'model.generator.base_channels': 2,
                         'model.discriminator.spatial.base_channels': 2,
                         'model.discriminator.temporal.base_channels': 2,
                         'model.num_classes': 5})
    model = MODELS.build(cfg.model)
    assert model.generator.num_classes == 5
    assert model.discriminator.spatial.head.embed.num_embeddings == 5
    assert model.discriminator.temporal.head.embed.num_embeddings == 5
    cfg.merge_from_dict({'model.generator.num_classes': 4})
    with pytest.raises(ValueError, match='model.num_classes=5 but model.generator'):
        MODELS.build(cfg.model)
