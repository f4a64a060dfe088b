"""Speed switches of a level, off by default until measured to help on a GPU.

``model.channels_last=True`` stores every convolution weight (and any other
4-D or 5-D parameter or buffer) channels-last: ``torch.channels_last`` for the
4-D weights of the per-frame 2D convolutions (most of G and D: the frames are
folded into the batch), ``torch.channels_last_3d`` for the 5-D weights of the
3D convolutions (the temporal and matching discriminators' first blocks, the
upsampling generator's temporal convs). Activations follow: cuDNN and oneDNN
give a convolution a channels-last output when its weight is channels-last,
and tensor cores want that layout (NHWC) for bf16 and fp16.

``model.compile=dict(generator=True, discriminators=True, **options)``
compiles the networks in place with ``nn.Module.compile`` (``torch.compile``
``options``: ``mode``, ``backend``, ``dynamic``...). In place, not
``torch.compile(module)``: the module stays the same object, so its
state-dict keys (no ``_orig_mod.`` prefix), DDP wrapping and checkpoints are
unchanged. Every call compiles, sampling included: each new input shape
(another batch size, another length) is compiled on its first call.
mmengine's own ``compile`` config key compiles the whole ``train_step``, with
the optimizers' steps and the Python control flow of the D/G schedule in it;
the networks alone are what does the arithmetic.
"""
from typing import Optional

import torch
import torch.nn as nn

MEMORY_FORMATS = {4: torch.channels_last, 5: torch.channels_last_3d}


def to_channels_last(module: nn.Module) -> nn.Module:
    """Make the module's 4-D / 5-D parameters and buffers channels-last, in place.

    The parameter objects stay the same (their ``.data`` is replaced), so an
    optimizer built before or after sees the same tensors.
    """
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            memory_format = MEMORY_FORMATS.get(tensor.dim())
            if memory_format is not None:
                tensor.data = tensor.data.contiguous(memory_format=memory_format)
    return module


def compile_networks(model: nn.Module, generator: bool = False,
                     discriminators: bool = False, **options) -> None:
    """Compile ``model.generator`` and/or each discriminator of the group in place.

    Each discriminator of a ``DiscriminatorGroup`` is its own compiled unit
    (smaller graphs, and a change in one does not recompile the others).
    ``options`` go to ``torch.compile``.
    """
    unknown = set(options) - {'mode', 'backend', 'dynamic', 'fullgraph', 'options'}
    if unknown:
        raise ValueError(f'model.compile: unknown keys {sorted(unknown)}; it takes '
                         'generator, discriminators and torch.compile\'s mode, backend, '
                         'dynamic, fullgraph, options')
    if generator:
        model.generator.compile(**options)
    if discriminators:
        group = model.discriminator
        names = getattr(group, 'names', None)
        for sub in ([getattr(group, name) for name in names] if names else [group]):
            sub.compile(**options)


def apply_performance_options(model: nn.Module, channels_last: bool = False,
                              compile: Optional[dict] = None) -> None:  # noqa: A002
    """What a level's ``channels_last`` and ``compile`` config keys do."""
    if channels_last:
        to_channels_last(model.generator)
        to_channels_last(model.discriminator)
    if compile:
        if not isinstance(compile, dict):
            raise TypeError('model.compile must be a dict, e.g. '
                            f'dict(generator=True, discriminators=True); got {compile!r}')
        compile_networks(model, **compile)
