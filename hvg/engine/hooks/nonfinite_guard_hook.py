"""Stops (or counts) non-finite training steps; never saves non-finite weights."""
import os.path as osp
from typing import Iterable, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from hvg.registry import HOOKS
from hvg.models.gans.base_level_gan import unwrap


class NonFiniteError(RuntimeError):
    """A training run met a non-finite loss, gradient or weight."""


def all_finite(tensors: Iterable[torch.Tensor]) -> bool:
    """One device sync for the whole state, not one per tensor."""
    flags = [torch.isfinite(t).all() for t in tensors if t.is_floating_point()]
    return bool(torch.stack(flags).all()) if flags else True


def _finite(tensor: torch.Tensor) -> bool:
    return not tensor.is_floating_point() or bool(torch.isfinite(tensor).all())


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Guards a GAN run against NaN/inf.

    The level models never apply a non-finite update (see ``BaseLevelGAN``);
    they report it in ``outputs['nonfinite']``. This hook then:

    - ``action='stop'`` (default): stops the run with an error that names the
      iteration and the last good checkpoint, and how to resume from it;
    - ``action='skip'``: logs a warning and goes on; the log's ``nonfinite``
      column counts the skipped steps.

    fp16 loss scaling (``--amp`` where bf16 is missing): a step whose scaled
    gradients overflowed while the loss was finite is skipped by the level
    model and the loss scale lowered (``outputs['overflow']``). Dynamic loss
    scaling expects a few of those (it starts high and backs off), so they
    are logged and counted (``num_overflows``), never stopped on, in either
    action.

    Whatever the action, the model's parameters and buffers are checked after
    every iteration and before any checkpoint is written (this hook runs
    before ``CheckpointHook``), so a checkpoint with NaN weights never
    replaces a good one. Non-finite state always stops the run, in skip mode
    too, and the message does not offer skip mode: a skipped step leaves the
    weights as they were, but BatchNorm running statistics are updated by the
    forward pass itself, before any step is accepted or rejected, so skipping
    cannot undo them.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'stop'):
        if action not in ('stop', 'skip'):
            raise ValueError(f"action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.num_skipped = 0
        self.num_overflows = 0  # fp16 steps the loss scaler skipped

    @staticmethod
    def last_checkpoint(runner) -> Optional[str]:
        path = runner.message_hub.get_info('last_ckpt')
        if path is None:
            record = osp.join(runner.work_dir, 'last_checkpoint')
            if osp.isfile(record):
                with open(record) as f:
                    path = f.read().strip() or None
        return path

    def _stop(self, runner, what: str, advice: Optional[str] = None) -> None:
        """Raise ``NonFiniteError``; ``advice`` replaces the default hint
        (lower the learning rates, or skip such steps)."""
        last = self.last_checkpoint(runner)
        where = (f'The last good checkpoint is {last}; resume from it with '
                 f'`python tools/train.py CONFIG --work-dir {runner.work_dir} --resume`'
                 if last else 'No checkpoint had been saved yet.')
        if advice is None:
            advice = ('Lower the learning rates, or set default_hooks.nonfinite_guard'
                      ".action='skip' to skip such steps instead.")
        message = (f'Training stopped at iteration {runner.iter + 1}: {what}. {where} '
                   f'({advice})')
        print_log(message, logger='current', level=40)
        raise NonFiniteError(message)

    def _check_state(self, runner) -> None:
        model = unwrap(runner.model)
        if all_finite(list(model.parameters()) + list(model.buffers())):
            return
        params = [n for n, t in model.named_parameters() if not _finite(t)]
        buffers = [n for n, t in model.named_buffers() if not _finite(t)]
        if params:
            self._stop(runner, f'the model holds non-finite parameters ({len(params)} '
                       f'tensors, first: {params[0]})', 'A non-finite update was applied: this cannot '
                       'be skipped. Lower the learning rates.')
        self._stop(
            runner, f'the model holds non-finite buffers ({len(buffers)} tensors, first: '
            f'{buffers[0]}): BatchNorm running statistics, poisoned by a forward pass '
            'on non-finite values', 'This is not a skippable step, and skip mode does not help: the '
            'forward pass updates running statistics before a step is accepted or '
            'skipped. Find where the non-finite activations come from (the data, the '
            'learning rates) and resume from the checkpoint.')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        overflows = 0 if outputs is None else int(float(outputs.get('overflow', 0)))
        if overflows > 0:
            self.num_overflows += overflows
            events = '; '.join(getattr(unwrap(runner.model), 'overflow_events', []))
            print_log(f'{events or "fp16 gradient overflow: step skipped"} '
                      f'({self.num_overflows} overflow steps so far)', logger='current')
        nonfinite = 0 if outputs is None else float(outputs.get('nonfinite', 0))
        if nonfinite > 0:
            events = '; '.join(getattr(unwrap(runner.model), 'nonfinite_events', []))
            if self.action == 'stop':
                self._stop(runner, events or 'non-finite loss or gradient')
            self.num_skipped += int(nonfinite)
            print_log(f'Skipped {events} ({self.num_skipped} skipped so far)',
                      logger='current', level=30)
        self._check_state(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        tensors = [v for v in checkpoint.get('state_dict', {}).values()
                   if isinstance(v, torch.Tensor)]
        if not all_finite(tensors):
            self._stop(runner, 'refusing to save a checkpoint with non-finite weights')
