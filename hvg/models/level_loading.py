"""Rebuild a trained level from its checkpoint: the checkpoint says what it is.

mmengine's Runner stores the resolved config of the run in every checkpoint
(``meta['cfg']``), ``--cfg-options`` included. A level is rebuilt from that
config, so a level 1 trained at another width loads as it was trained, with
no repository config to keep in step. A checkpoint without one (written by
hand, or by another tool) needs its config named; a config that does not fit
its weights is refused in one paragraph that names the file and what differs.
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from torch import nn

from hvg.registry import MODELS
from hvg.utils.safe_checkpoint import load_checkpoint_file


def checkpoint_config(state: dict) -> Optional[Config]:
    """The run's config stored in a checkpoint, or None."""
    text = (state.get('meta') or {}).get('cfg')
    if not text:
        return None
    return Config.fromstring(text, file_format='.py')


def level_config(checkpoint: str, config: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 state: Optional[dict] = None) -> Tuple[Config, dict]:
    """``(config, checkpoint contents)`` of a level: its own config, else ``config``."""
    state = load_checkpoint_file(checkpoint) if state is None else state
    cfg = checkpoint_config(state)
    if cfg is None:
        if config is None:
            raise ValueError(
                f'{checkpoint} stores no config (it was not written by tools/train.py): '
                'name the config it was trained with (e.g. a hierarchy config, or '
                'config= in FrozenLevels)')
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg, state


def _shape_differences(model: nn.Module, weights: Dict) -> List[str]:
    expected = model.state_dict()
    lines = []
    for key, value in weights.items():
        if key in expected and tuple(expected[key].shape) != tuple(value.shape):
            lines.append(f'{key} is {list(value.shape)} in the file, '
                         f'{list(expected[key].shape)} in the model')
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    if missing:
        lines.append(f'{len(missing)} weights missing from the file (e.g. {missing[0]})')
    if unexpected:
        lines.append(f'{len(unexpected)} weights in the file the model lacks '
                     f'(e.g. {unexpected[0]})')
    return lines


def load_level(checkpoint: str, config: Optional[str] = None,
               cfg_options: Optional[dict] = None, what: str = 'level') -> nn.Module:
    """A trained level, frozen, in eval mode, built as its checkpoint describes.

    ``load_level_and_config`` also returns the config it was built from.
    """
    return load_level_and_config(checkpoint, config, cfg_options, what)[0]


def load_level_and_config(checkpoint: str, config: Optional[str] = None,
                          cfg_options: Optional[dict] = None,
                          what: str = 'level') -> Tuple[nn.Module, Config]:
    """``(level, its config)``: a trained level, frozen, in eval mode.

    Args:
        checkpoint: the level's ``.pth`` (weights-only loading).
        config: the config to build from when the checkpoint stores none.
        cfg_options: overrides applied to the level's config (as
            ``--cfg-options``; sampling options, not widths).
        what: how errors name the level, e.g. ``'level 1'``.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'checkpoint of {what} not found: {checkpoint}. Train the level first '
            '(python tools/train.py CONFIG) or pass the right path.')
    cfg, state = level_config(checkpoint, config, cfg_options)
    level = MODELS.build(cfg.model)
    weights = state.get('state_dict', state)
    differences = _shape_differences(level, weights)
    if differences:
        source = 'the config stored in it' if checkpoint_config(state) else config
        shown = '; '.join(differences[:3])
        more = f' (and {len(differences) - 3} more)' if len(differences) > 3 else ''
        raise ValueError(
            f'{checkpoint} ({what}) does not fit the model of {source}: {shown}{more}. '
            'It was trained with another width, or it is another level: pass the '
            "level's own checkpoint, or the config it was trained with.")
    level.load_state_dict(weights, strict=True)
    level.requires_grad_(False)
    return level.eval(), cfg
