"""Compare the config of a resumed run with the one its checkpoint stores.

mmengine's Runner stores the run's resolved config in every checkpoint
(``meta['cfg']``). ``tools/train.py --resume`` calls ``check_resume`` before it
builds the Runner, so that a resume which cannot continue the run is refused
before any file in the work dir is touched:

- a model whose parameter shapes differ from the checkpoint's (a width, a
  frame count, a size, the classes) is refused (``ResumeConfigError``),
  naming the keys that changed and the first shapes that differ;
- a changed learning rate (``optim_wrapper.<net>.optimizer.lr``) is applied
  to the resumed optimizers by ``ExactResumeHook`` and reported;
- any other difference is reported (logged with both values): the resumed
  run is then not an exact continuation;
- the schedule length (``train_cfg.max_iters``), hooks, logging, the work
  dir and the launcher may change freely.

A run whose config leaves the seed unset (``randomness.seed=None``) resumes
with the checkpoint's seed: the sampler and the DataLoader workers are seeded
before mmengine reads the checkpoint, so the seed must be in the config.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

from hvg.models.level_loading import checkpoint_config
from hvg.registry import MODELS
from .hooks.safe_checkpoint_hook import find_resumable_checkpoint

# Keys a resume may change without a word: how long, how it is watched, where
# it writes, how it is launched (tools/train.py sets the last two itself).
FREE_KEYS = ('train_cfg.max_iters', 'default_hooks', 'custom_hooks', 'log_processor',
             'log_level', 'work_dir', 'launcher', 'resume', 'load_from', 'visualizer',
             'experiment_name', 'env_cfg.dist_cfg', 'model_wrapper_cfg.device_ids')
LR_KEY = re.compile(r'^optim_wrapper\.(\w+)\.optimizer\.lr$')
_MISSING = '<not set>'


class ResumeConfigError(ValueError):
    """The config cannot continue the checkpoint's run (another model shape)."""


@dataclass
class ResumeReport:
    """What differs between a checkpoint's config and the resuming one."""

    checkpoint: str
    differences: List[Tuple[str, Any, Any]] = field(default_factory=list)
    learning_rates: List[Tuple[str, Any, Any]] = field(default_factory=list)
    seed: Optional[int] = None  # the checkpoint's seed, adopted by the config

    def message(self) -> str:
        """Lines for the log; empty when the run continues as it was."""
        lines = []
        if self.seed is not None:
            lines.append(f'Resuming {self.checkpoint} with its seed {self.seed} '
                         '(the config sets none)')
        if self.learning_rates:
            lines.append('Learning rates changed since the checkpoint; the resumed '
                         'optimizers take the config\'s:')
            lines += [f'  {key}: {old!r} -> {new!r}' for key, old, new in self.learning_rates]
        if self.differences:
            lines.append(f'The config differs from the one stored in {self.checkpoint} '
                         '(checkpoint -> now); the resumed run is not an exact '
                         'continuation:')
            lines += [f'  {key}: {old!r} -> {new!r}' for key, old, new in self.differences]
        return '\n'.join(lines)


def resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint a resume continues from: the one ``SafeCheckpointHook``
    picks (``last_checkpoint``, or the newest that loads when it does not)."""
    return find_resumable_checkpoint(work_dir)[0]


def flatten(obj: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a': {'b': [1, 2]}}`` -> ``{'a.b.0': 1, 'a.b.1': 2}`` (empty containers kept)."""
    if isinstance(obj, dict) and obj:
        items = obj.items()
    elif isinstance(obj, (list, tuple)) and obj:
        items = enumerate(obj)
    else:
        return {prefix: obj}
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return flat


def _free(key: str) -> bool:
    return any(key == k or key.startswith(k + '.') for k in FREE_KEYS)


def config_differences(old: Config, new: Config) -> List[Tuple[str, Any, Any]]:
    """``(key, old value, new value)`` for every dotted key that differs, free keys aside."""
    before, after = flatten(old.to_dict()), flatten(new.to_dict())
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k, _MISSING), after.get(k, _MISSING)) for k in keys
            if not _free(k) and before.get(k, _MISSING) != after.get(k, _MISSING)]


def _model_shapes(model_cfg) -> Dict[str, Tuple[int, ...]]:
    """Parameter and buffer shapes of the model a config builds (no file read)."""
    try:
        with torch.device('meta'):  # shapes only: no memory, no initialisation cost
            model = MODELS.build(model_cfg)
    except Exception:  # an init that meta tensors do not support
        model = MODELS.build(model_cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _shape_changes(model_cfg, weights: Dict[str, torch.Tensor]) -> List[str]:
    shapes = _model_shapes(model_cfg)
    lines = [f'{k} is {list(v.shape)} in the checkpoint, {list(shapes[k])} now'
             for k, v in weights.items()
             if isinstance(v, torch.Tensor) and k in shapes
             and tuple(v.shape) != shapes[k]]
    missing = [k for k in shapes if k not in weights]
    unexpected = [k for k in weights if k not in shapes]
    if missing:
        lines.append(f'{len(missing)} weights the checkpoint lacks (e.g. {missing[0]})')
    if unexpected:
        lines.append(f'{len(unexpected)} weights in the checkpoint the model lacks '
                     f'(e.g. {unexpected[0]})')
    return lines


def _load(path: str) -> dict:
    try:  # mmap: the shapes and the config, without reading every weight
        return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except RuntimeError:  # not a zip-format file: mmap unsupported
        return torch.load(path, map_location='cpu', weights_only=True)


def check_resume(cfg: Config, checkpoint: Optional[str] = None) -> Optional[ResumeReport]:
    """Check that ``cfg`` can resume ``checkpoint`` (default: the work dir's last).

    Adopts the checkpoint's seed when ``cfg`` sets none (changes ``cfg``).
    Returns None when there is nothing to compare (no checkpoint yet, or one
    without a stored config), else the report to log.

    Raises:
        ResumeConfigError: the model's parameter shapes differ from the
            checkpoint's; nothing has been written.
    """
    checkpoint = checkpoint or resume_checkpoint(cfg.work_dir)
    if checkpoint is None or not osp.isfile(checkpoint):
        return None
    state = _load(checkpoint)
    stored = checkpoint_config(state)
    report = ResumeReport(checkpoint)
    seed = (state.get('meta') or {}).get('seed')
    if seed is not None and cfg.get('randomness', {}).get('seed') is None:
        cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
        report.seed = seed
    if stored is None:
        return report
    if seed is not None and stored.get('randomness', {}).get('seed') is None:
        stored.randomness = dict(stored.get('randomness', {}), seed=seed)

    differences = config_differences(stored, cfg)
    model_keys = [d for d in differences if d[0] == 'model' or d[0].startswith('model.')]
    if model_keys:
        changes = _shape_changes(cfg.model, state.get('state_dict', {}))
        if changes:
            keys = '; '.join(f'{k}: {old!r} in the checkpoint, {new!r} now'
                             for k, old, new in model_keys[:5])
            more = f' (and {len(model_keys) - 5} more keys)' if len(model_keys) > 5 else ''
            shapes = '; '.join(changes[:3])
            more_shapes = f' (and {len(changes) - 3} more)' if len(changes) > 3 else ''
            raise ResumeConfigError(
                f'cannot resume {checkpoint}: the model differs from the one it was '
                f'trained with ({keys}{more}), and its weights do not fit ({shapes}'
                f'{more_shapes}). Resume with the checkpoint\'s model settings, or '
                'start a new run in another --work-dir.')
    for difference in differences:
        target = report.learning_rates if LR_KEY.match(difference[0]) else report.differences
        target.append(difference)
    return report
