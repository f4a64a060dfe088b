"""Mixed precision on the CPU: bf16 autocast train steps of level 1 and level 2,
the fp32 islands inside autocast (spectral norm, BatchNorm statistics, hinge
loss), and an fp16 step whose gradients overflow, which the loss scaler skips.

The same code runs on a GPU with ``--amp``; the CPU has bf16 autocast and,
in torch 2.x, an fp16 ``GradScaler``, so both paths are covered here.
"""
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from model_batches import random_batch

import hvg.engine  # noqa: F401 (registers the wrappers and their constructor)
from hvg.engine.optimizers import MixedPrecisionOptimWrapper, amp_dtype, use_mixed_precision
from hvg.models.layers import FrameBatchNorm, conv2d
from hvg.models.losses import GeometricHingeLoss
from hvg.registry import MODELS

CONFIGS = Path(__file__).parents[2] / 'configs' / 'hvg'
TINY = {
    'model.generator.base_channels': 2,
    'model.discriminator.spatial.base_channels': 2,
    'model.discriminator.temporal.base_channels': 2,
}


def tiny_level(level: int, dtype: str, init_scale: float = 2.0**16):
    """The demo level 1 or 2 at width 2, every optim wrapper mixed-precision.

    ``init_scale``: fp16's first loss scale. GradScaler's 2^16 overflows the
    tiny level's first gradients (norm ~25 here) until it has backed off to
    2^12, as dynamic loss scaling does; a test that forces its own overflow
    starts lower.
    """
    cfg = Config.fromfile(str(CONFIGS / f'demo_l{level}_clips.py'))
    options = dict(TINY, **{'model.augment': None})
    if level == 1:
        options['model.generator.num_frames'] = 6
    else:
        options.update({'model.discriminator.matching.base_channels': 2,
                        'model.lowres_source': dict(type='RealLowres')})
    cfg.merge_from_dict(options)
    for wrapper in cfg.optim_wrapper.values():
        if isinstance(wrapper, dict):  # not the 'constructor' name
            wrapper['loss_scale'] = dict(init_scale=init_scale)
    use_mixed_precision(cfg.optim_wrapper, dtype)
    init_default_scope('hvg')
    model = MODELS.build(cfg.model)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def params_of(module: nn.Module) -> Dict[str, torch.Tensor]:
    return {k: p.detach().clone() for k, p in module.named_parameters()}


def moved(before: Dict[str, torch.Tensor], module: nn.Module) -> List[str]:
    return [k for k, p in module.named_parameters() if not torch.equal(p, before[k])]


def conv_output_dtypes(module: nn.Module) -> set:
    """Records the dtypes the module's convolutions produce, while registered."""
    seen = set()
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.Conv3d)):
            sub.register_forward_hook(lambda m, i, out: seen.add(out.dtype))
    return seen


# --- the dtype choice ------------------------------------------------------------
def test_auto_is_bf16_on_the_cpu_and_the_wrapper_scales_only_fp16():
    assert amp_dtype('auto', 'cpu') == torch.bfloat16
    params = [nn.Parameter(torch.zeros(2))]
    bf16 = MixedPrecisionOptimWrapper(optimizer=torch.optim.SGD(params, lr=1.0))
    fp16 = MixedPrecisionOptimWrapper(dtype='float16',
                                      optimizer=torch.optim.SGD(params, lr=1.0))
    assert bf16.cast_dtype == torch.bfloat16 and not bf16.loss_scaler.is_enabled()
    assert fp16.cast_dtype == torch.float16 and fp16.loss_scaler.is_enabled()
    with pytest.raises(ValueError, match="'auto', 'bfloat16' or 'float16'"):
        amp_dtype('float8', 'cpu')


# --- bf16 train steps ----------------------------------------------------------------
@pytest.mark.parametrize('level', [1, 2])
def test_bf16_train_steps_are_finite_and_update_both_networks(level, at_iteration):
    model, optim_wrapper = tiny_level(level, 'auto')
    assert optim_wrapper['generator'].cast_dtype == torch.bfloat16
    data = random_batch(model)
    dtypes = conv_output_dtypes(model.discriminator)
    disc, gen = params_of(model.discriminator), params_of(model.generator)
    at_iteration(0)  # a D step only
    log_vars = model.train_step(data, optim_wrapper)
    assert dtypes == {torch.bfloat16}  # autocast was on
    assert moved(disc, model.discriminator) and not moved(gen, model.generator)
    at_iteration(1)  # a D step and a G step
    log_vars.update(model.train_step(data, optim_wrapper))
    assert moved(gen, model.generator)
    for name in ('loss_disc', 'loss_gen', 'grad_norm_disc', 'grad_norm_gen'):
        assert log_vars[name].dtype == torch.float32 and torch.isfinite(log_vars[name])
    assert log_vars['grad_norm_gen'] > 0 and log_vars['nonfinite'] == 0
    assert 'overflow' not in log_vars
    for tensor in list(model.parameters()) + list(model.buffers()):
        assert tensor.dtype in (torch.float32, torch.int64) and torch.isfinite(tensor).all()


# --- fp16: an overflow the scaler skips ----------------------------------------------
def test_fp16_gradient_overflow_skips_the_step_and_poisons_nothing(at_iteration):
    model, optim_wrapper = tiny_level(1, 'float16', init_scale=16.0)
    d_wrapper = optim_wrapper['discriminator']
    scaler = d_wrapper.loss_scaler
    assert scaler.is_enabled()
    data = random_batch(model)
    victim = next(p for p in model.discriminator.parameters())
    handle = victim.register_hook(lambda grad: torch.full_like(grad, float('inf')))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    scale = scaler.get_scale()
    at_iteration(0)
    log_vars = model.train_step(data, optim_wrapper)
    handle.remove()
    # skipped: not one discriminator weight moved; the scale backed off
    assert not moved({k[len('discriminator.'):]: v for k, v in before.items()
                      if k.startswith('discriminator.')}, model.discriminator)
    assert scaler.get_scale() == scale * scaler.get_backoff_factor()
    assert log_vars['overflow'] == 1 and log_vars['nonfinite'] == 0
    assert 'fp16 gradient overflow in the discriminator update at iteration 1' in \
        model.overflow_events[0]
    assert torch.isfinite(log_vars['loss_disc']) and not torch.isfinite(
        log_vars['grad_norm_disc'])
    # the forward pass was finite: the BatchNorm statistics it updated are too
    for name, buffer in model.named_buffers():
        assert torch.isfinite(buffer).all(), name
    # the next step, without the overflow, is applied
    disc = params_of(model.discriminator)
    log_vars = model.train_step(data, optim_wrapper)
    assert moved(disc, model.discriminator) and 'overflow' not in log_vars
    assert torch.isfinite(log_vars['grad_norm_disc'])


def test_fp16_nonfinite_loss_is_still_a_nonfinite_event(at_iteration):
    """A non-finite *loss* is no overflow the scaler can handle: the guard's."""
    model, optim_wrapper = tiny_level(1, 'float16', init_scale=16.0)
    data = random_batch(model)
    disc = params_of(model.discriminator)
    original = model.loss.disc_loss
    model.loss.disc_loss = lambda real, fake: original(real, fake) * float('nan')
    at_iteration(0)
    log_vars = model.train_step(data, optim_wrapper)
    assert log_vars['nonfinite'] == 1 and 'overflow' not in log_vars
    assert not moved(disc, model.discriminator)


def test_fp16_dynamic_scale_backs_off_from_natural_overflows_then_trains(at_iteration):
    """GradScaler's default start (2^16) overflows the first steps for real:
    each is skipped and logged, never fatal, until the scale fits."""
    model, optim_wrapper = tiny_level(1, 'float16')
    data = random_batch(model)
    at_iteration(0)
    overflows = 0
    for _ in range(8):
        disc = params_of(model.discriminator)
        log_vars = model.train_step(data, optim_wrapper)
        assert log_vars['nonfinite'] == 0
        if 'overflow' in log_vars:
            overflows += 1
            assert not moved(disc, model.discriminator)
        else:
            assert moved(disc, model.discriminator)
            break
    assert 0 < overflows < 8
    assert optim_wrapper['discriminator'].loss_scaler.get_scale() == 2.0**16 / 2**overflows


# --- fp32 islands ------------------------------------------------------------------
def test_spectral_norm_iterates_in_fp32_under_autocast():
    torch.manual_seed(0)
    plain = conv2d(4, 6)
    torch.manual_seed(0)
    autocast = conv2d(4, 6)
    x = torch.randn(2, 4, 5, 5)
    plain(x)  # one training-mode forward: one power iteration
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = autocast(x)
    assert out.dtype == torch.bfloat16  # the conv itself is autocast
    sn_plain = plain.parametrizations.weight[0]
    sn_autocast = autocast.parametrizations.weight[0]
    assert sn_autocast._u.dtype == torch.float32
    assert torch.equal(sn_plain._u, sn_autocast._u) and torch.equal(sn_plain._v, sn_autocast._v)
    plain.eval(), autocast.eval()  # eval: the weight without another iteration
    with torch.autocast('cpu', dtype=torch.bfloat16):
        weight = autocast.weight
    assert weight.dtype == torch.float32 and torch.equal(plain.weight, weight)


def test_spectral_norm_power_iteration_runs_with_autocast_off(monkeypatch):
    # CPU autocast does not lower torch.mv, so the values above cannot show
    # what CUDA fp16 autocast would do to u and v: check the cause instead,
    # that every power-iteration product runs outside autocast.
    states = []
    mv = torch.mv

    def recording_mv(*args, **kwargs):
        states.append(torch.is_autocast_enabled('cpu'))
        return mv(*args, **kwargs)

    layer = conv2d(4, 6)
    monkeypatch.setattr(torch, 'mv', recording_mv)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        layer(torch.randn(2, 4, 5, 5))
    assert states and not any(states)


def test_batchnorm_statistics_are_fp32_under_autocast():
    bn16, bn32 = FrameBatchNorm(3, 2), FrameBatchNorm(3, 2)
    x = torch.randn(4, 2, 3, 5, 5).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = bn16(x)
    reference = bn32(x.float())
    assert out.dtype == torch.bfloat16
    assert bn16.running_mean.dtype == torch.float32
    assert torch.equal(bn16.running_mean, bn32.running_mean)
    assert torch.equal(bn16.running_var, bn32.running_var)
    assert torch.equal(out, reference.bfloat16())


def test_hinge_loss_is_fp32_for_bf16_scores():
    loss = GeometricHingeLoss()
    real, fake = torch.randn(4, 7).bfloat16(), torch.randn(4, 7).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        disc, gen = loss.disc_loss(real, fake), loss.gen_loss(fake)
    assert disc.dtype == gen.dtype == torch.float32
    assert torch.equal(disc, loss.disc_loss(real.float(), fake.float()))
    assert torch.equal(gen, -fake.float().mean())
