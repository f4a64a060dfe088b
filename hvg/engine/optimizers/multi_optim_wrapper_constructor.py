"""Builds one optimizer wrapper per sub-network: ``OptimWrapperDict``."""
from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from hvg.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """``optim_wrapper=dict(generator=..., discriminator=...)`` -> OptimWrapperDict.

    Each key names a submodule of the model (``model.generator``,
    ``model.discriminator``) and holds an ordinary optim-wrapper config
    (``dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=...))``), so
    G and D get their own optimizers and learning rates (appendix A).
    A per-key ``paramwise_cfg`` is honoured.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        if not isinstance(optim_wrapper_cfg, dict) or not optim_wrapper_cfg:
            raise TypeError('optim_wrapper must be a dict of per-submodule configs, '
                            f'got {optim_wrapper_cfg!r}')
        if paramwise_cfg is not None:
            raise ValueError('put paramwise_cfg inside each submodule\'s entry '
                             '(e.g. optim_wrapper.generator.paramwise_cfg)')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if hasattr(model, 'module'):
            model = model.module
        wrappers = {}
        for key, cfg in self.optim_wrapper_cfg.items():
            submodule = getattr(model, key, None)
            if not isinstance(submodule, nn.Module):
                names = ', '.join(name for name, _ in model.named_children())
                raise KeyError(f'optim_wrapper key "{key}" names no submodule of '
                               f'{type(model).__name__}; it has: {names}')
            cfg = dict(cfg)
            paramwise = cfg.pop('paramwise_cfg', None)
            wrappers[key] = DefaultOptimWrapperConstructor(cfg, paramwise)(submodule)
        return OptimWrapperDict(**wrappers)
