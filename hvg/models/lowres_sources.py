"""Where an upsampling level's low-res input ``x_{l-1}`` comes from in training.

A registered component of the level's config (``model.lowres_source``):

- ``FrozenLevels``: the paper's eq. 3. Fake pairs use ``x_{l-1}`` drawn from
  the trained previous levels, frozen, through the level chain
  (``run_levels``): each level's output is cut to a random window of the next
  level's training input (partial views).
- ``RealLowres``: fake pairs are conditioned on the batch's real low-res clip,
  so levels can train in parallel and tests need no checkpoint.

Building a source loads nothing: every config builds with no checkpoint on
disk, so an upsampling level can be inspected, counted and profiled from its
config alone. ``check()`` (called by ``tools/train.py`` before any work) says
which files are missing; ``load(device)`` reads them when training starts.

A new source (e.g. previous-level outputs cached on disk) is a class with
``check``, ``load``, ``loaded``, ``levels`` and ``__call__``, registered in
``MODELS``, named in the config.
"""
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import Tensor

from hvg.registry import MODELS
from .level_chain import random_windows, run_levels, training_windows
from .level_loading import load_level


@MODELS.register_module()
class RealLowres:
    """``x_{l-1}`` of fake pairs is the real low-res clip of the batch.

    Args:
        levels: ignored. Accepted so that ``--cfg-options
            model.lowres_source.type=RealLowres`` switches a paper config's
            ``FrozenLevels`` source without having to delete its ``levels``.
    """

    levels: List = []

    def __init__(self, levels: Optional[Sequence[dict]] = None):
        del levels

    def check(self) -> None:
        """Nothing to check: the data brings the inputs."""

    def load(self, device: torch.device) -> None:
        """Nothing to load."""

    @property
    def loaded(self) -> bool:
        return True

    def __call__(self, num: int, labels: Optional[Tensor], input_frames: int,
                 real_lowres: Optional[Tensor] = None) -> Tensor:
        if real_lowres is None:
            raise RuntimeError('RealLowres gives the batch\'s real low-res clips: there '
                               'is no batch here (sampling needs FrozenLevels)')
        return real_lowres


@MODELS.register_module()
class FrozenLevels:
    """``x_{l-1}`` from the trained previous levels, frozen (eq. 3).

    Each previous level is rebuilt from the config stored in its checkpoint
    (``load_level``), so a level trained with ``--cfg-options`` is used as it
    was trained; ``config`` is only needed for a checkpoint that stores none.
    Frozen levels are not submodules of the level that trains on them: they
    get no gradient, are in no optimizer, no DDP wrapper and no checkpoint of
    this level, and stay in eval mode.

    Args:
        levels: ``[dict(checkpoint=..., config=...)]`` from level 1 up to
            level l-1; set checkpoints with ``--cfg-options
            model.lowres_source.levels.0.checkpoint=PATH``.
    """

    def __init__(self, levels: Sequence[dict]):
        if not levels:
            raise ValueError('FrozenLevels needs levels=[dict(checkpoint=...), ...], '
                             'level 1 first')
        self.specs = [dict(spec) for spec in levels]
        self.levels: List[torch.nn.Module] = []

    def check(self) -> None:
        """Every checkpoint set and on disk; raises with the fix otherwise."""
        for index, spec in enumerate(self.specs):
            path, config = spec.get('checkpoint'), spec.get('config')
            hint = (f'Train it first (python tools/train.py {config or "CONFIG"}) and '
                    f'set --cfg-options model.lowres_source.levels.{index}.checkpoint='
                    'work_dirs/<name>/iter_<N>.pth, or train on real low-res inputs '
                    'with model.lowres_source.type=RealLowres.')
            if not path:
                raise ValueError(f'no checkpoint is set for previous level {index + 1}'
                                 f'{f" ({config})" if config else ""}. {hint}')
            if not osp.isfile(path):
                raise FileNotFoundError(f'checkpoint of previous level {index + 1} not '
                                        f'found: {path}. {hint}')

    @property
    def loaded(self) -> bool:
        return bool(self.levels)

    def load(self, device: torch.device) -> None:
        """Read the frozen levels (once) onto ``device``."""
        if self.levels:
            return
        self.check()
        self.levels = [load_level(spec['checkpoint'], spec.get('config'),
                                  what=f'previous level {i + 1}').to(device)
                       for i, spec in enumerate(self.specs)]
        print_log(f'Loaded {len(self.levels)} frozen previous level(s) for fake inputs',
                  logger='current')

    def __call__(self, num: int, labels: Optional[Tensor], input_frames: int,
                 real_lowres: Optional[Tensor] = None, seed: Optional[int] = None,
                 noise_std: float = 1.0) -> Tensor:
        """A ``(num, C, input_frames, h, w)`` window of the previous levels' output."""
        if not self.levels:
            raise RuntimeError('FrozenLevels.load(device) has not been called')
        outputs, _ = run_levels(self.levels, num, labels, noise_std, seed,
                                windows=training_windows(self.levels))
        rng = torch.Generator().manual_seed(seed + 1) if seed is not None else None
        return random_windows(outputs[-1], input_frames, generator=rng)


def check_lowres_source(model_cfg: dict) -> None:
    """Check a level config's low-res source before any work (no file is read).

    ``tools/train.py`` calls it before the Runner starts, so a missing
    previous-level checkpoint is a message, not a failure at the first step.
    """
    source = model_cfg.get('lowres_source')
    if source is not None:
        MODELS.build(source).check()
