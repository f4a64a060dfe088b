"""The speed switches of a level (``hvg.models.performance``): channels-last
weights and ``torch.compile`` of the networks, each off by default, wired
through the level's config and training as the eager, contiguous level does."""
from pathlib import Path
from typing import List

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from model_batches import random_batch

import hvg.engine  # noqa: F401 (registers the optim-wrapper constructor)
from hvg.registry import MODELS

CONFIGS = Path(__file__).parents[2] / 'configs' / 'hvg'


def tiny_model_cfg(level: int = 1, **options) -> dict:
    cfg = Config.fromfile(str(CONFIGS / f'demo_l{level}_clips.py'))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'model.augment': None,
    })
    if level == 1:
        cfg.merge_from_dict({'model.generator.num_frames': 6})
    else:
        cfg.merge_from_dict({'model.discriminator.matching.base_channels': 2,
                             'model.lowres_source': dict(type='RealLowres')})
    model = cfg.model.to_dict()
    model.update(options)
    return model, cfg.optim_wrapper


def build(level: int = 1, **options):
    model_cfg, optim_cfg = tiny_model_cfg(level, **options)
    init_default_scope('hvg')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    return model, build_optim_wrapper(model, optim_cfg)


def conv_weights(model: nn.Module) -> List[torch.Tensor]:
    return [p for p in model.parameters() if p.dim() in (4, 5)]


@pytest.mark.parametrize('level', [1, 2])
def test_channels_last_weights_train_like_contiguous_ones(level, at_iteration):
    plain, plain_optim = build(level)
    fast, fast_optim = build(level, channels_last=True)
    weights = conv_weights(fast)
    assert {w.dim() for w in weights} == ({4, 5})  # 2D and 3D convs both
    for w in weights:
        fmt = torch.channels_last if w.dim() == 4 else torch.channels_last_3d
        assert w.is_contiguous(memory_format=fmt)
    assert not all(w.is_contiguous(memory_format=torch.channels_last)
                   for w in conv_weights(plain) if w.dim() == 4)
    data = random_batch(plain)
    for iteration in range(2):  # a D step, then a D step and a G step
        at_iteration(iteration)
        torch.manual_seed(2)
        expected = plain.train_step(data, plain_optim)
        torch.manual_seed(2)
        got = fast.train_step(data, fast_optim)
        for key in expected:
            torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-5)
    # the optimizer updated the channels-last tensors in place: still channels-last
    assert all(w.is_contiguous(memory_format=torch.channels_last)
               for w in weights if w.dim() == 4)


def test_compile_wraps_every_network_and_keeps_the_state_dict(at_iteration):
    graphs = []

    def counting_backend(graph_module, example_inputs):
        # torch.compile's backend protocol: the traced graph in, a callable out
        graphs.append(graph_module)
        return graph_module.forward

    plain, _ = build()
    compiled, optim_wrapper = build(compile=dict(generator=True, discriminators=True,
                                                 backend=counting_backend))
    assert compiled.state_dict().keys() == plain.state_dict().keys()
    assert type(compiled.generator) is type(plain.generator)  # in place, not wrapped
    at_iteration(1)  # a D step and a G step: every network runs
    log_vars = compiled.train_step(random_batch(compiled), optim_wrapper)
    assert torch.isfinite(log_vars['loss_gen']) and torch.isfinite(log_vars['loss_disc'])
    assert len(graphs) >= 3  # at least one graph each: G, spatial D, temporal D


def test_compile_refuses_unknown_options():
    with pytest.raises(ValueError, match="unknown keys \\['moed'\\]"):
        build(compile=dict(generator=True, moed='max-autotune'))
    with pytest.raises(TypeError, match='must be a dict'):
        build(compile=True)
