"""Makes a resumed run continue the interrupted one exactly: RNG states travel
with the checkpoint, and the config's learning rates apply to the resumed optimizers."""
import random
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper, OptimWrapperDict

from hvg.registry import HOOKS

# checkpoint['resume_state']: plain containers and tensors only, so the
# checkpoint still loads with torch.load(weights_only=True)
KEY = 'resume_state'
VERSION = 1


def capture_rng_state() -> Dict[str, Any]:
    """This process's RNG states (Python, numpy, torch CPU, CUDA) as tensors and numbers."""
    py_version, py_state, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = {
        'python': {'version': int(py_version),
                   'state': torch.tensor(py_state, dtype=torch.int64),
                   'gauss': py_gauss},
        'numpy': {'kind': str(np_kind),
                  'keys': torch.from_numpy(np_keys.astype(np.int64)),
                  'pos': int(np_pos), 'has_gauss': int(np_has_gauss),
                  'gauss': float(np_gauss)},
        'torch': torch.get_rng_state(),
        'cuda': None,
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state().cpu()  # the rank's current device
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Puts back what ``capture_rng_state`` took (CUDA only where both have it)."""
    py = state['python']
    random.setstate((py['version'], tuple(py['state'].tolist()), py['gauss']))
    npy = state['numpy']
    np.random.set_state((npy['kind'], npy['keys'].numpy().astype(np.uint32),
                         npy['pos'], npy['has_gauss'], npy['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'].cpu())


class _RestoreAfterSkip:
    """Wraps the train loop's data iterator: after the ``skip`` batches that
    mmengine's ``IterBasedTrainLoop`` re-reads on resume, and before the next
    batch is read, restores the RNG states and puts the plain iterator back.

    Restoring there (not when the checkpoint is loaded) matters when the data
    pipeline runs in the main process (``num_workers=0``): re-reading the
    skipped batches draws from the global RNGs.
    """

    def __init__(self, loop, skip: int, state: Dict[str, Any]):
        self.loop = loop
        self.inner: Iterator = loop.dataloader_iterator
        self.skip = skip
        self.state = state
        self.served = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.served == self.skip:
            restore_rng_state(self.state)
            self.loop.dataloader_iterator = self.inner
        self.served += 1
        return next(self.inner)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """A run killed after a checkpoint and resumed ends with the weights of the
    uninterrupted run, bit for bit.

    What mmengine's checkpoints already carry: weights, optimizer states,
    the iteration (``meta['iter']``), the seed. On resume mmengine reseeds
    the RNGs, so the resumed iterations would draw the noise, augmentations
    and discriminator frames of iterations 1, 2, ... again. This hook:

    - ``after_train_iter`` of an iteration that ends with a checkpoint
      (as the run's ``CheckpointHook`` decides; every iteration when it has
      none), just before that hook: gathers every rank's RNG states (Python
      ``random``, numpy, torch CPU, CUDA where used) on every rank (mmengine
      saves on rank 0 only); ``before_save_checkpoint`` puts them in
      ``checkpoint['resume_state']`` (tensors and numbers: weights-only
      loading), with the world size;
    - ``after_load_checkpoint`` / ``before_train_epoch``: when the run resumes
      at the checkpoint's iteration, each rank gets its own states back,
      right after mmengine's ``IterBasedTrainLoop`` has re-read the
      ``iter`` batches it skips (the data position: ``InfiniteSampler`` is
      seeded by the run's seed, DataLoader workers by seed, rank and worker
      id, so the re-read batches, and the worker RNGs after them, are those
      of the first run);
    - ``before_train``: sets each resumed optimizer group's learning rate to
      the one built from this run's config (mmengine restores the
      checkpoint's), and logs the change; left alone when parameter
      schedulers own the learning rate.

    Loading weights with ``load_from`` (iteration 0) restores no RNG.
    Exactness needs the same world size, batch size and ``num_workers``
    (``hvg.engine.resume_check`` reports such config changes).
    """

    # after every other after_train_iter but the CheckpointHook's (VERY_LOW = 90):
    # the states are those the next iteration starts from
    priority = 80

    def __init__(self, apply_config_lr: bool = True):
        self.apply_config_lr = apply_config_lr
        self._loaded: Optional[Dict[str, Any]] = None
        self._config_lrs: Dict[str, List[float]] = {}
        self._gathered: Optional[List[Dict[str, Any]]] = None
        self._gathered_at = -1

    # saving -----------------------------------------------------------------

    @staticmethod
    def _checkpoint_due(runner) -> bool:
        """Whether a CheckpointHook saves after this iteration (True when unknown)."""
        savers = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
        if not savers:
            return True
        return any(not h.by_epoch and (
            h.every_n_train_iters(runner, h.interval, h.save_begin)
            or (h.save_last and h.is_last_train_iter(runner))) for h in savers)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self._checkpoint_due(runner):
            # a collective on every rank: Runner.save_checkpoint runs on rank 0 only
            self._gathered = all_gather_object(capture_rng_state())
            self._gathered_at = runner.iter + 1

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        it = int(checkpoint.get('meta', {}).get('iter', -1))
        states = self._gathered if self._gathered_at == it else None
        if states is None:  # a save outside the iteration flow: this rank's alone
            states = [capture_rng_state()]
        checkpoint[KEY] = {'version': VERSION, 'world_size': get_dist_info()[1],
                           'iter': it, 'rng': states}

    # resuming ---------------------------------------------------------------

    def before_run(self, runner) -> None:
        # optimizers are built from the config, not yet resumed
        self._config_lrs = self._group_lrs(runner)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get(KEY)

    def before_train_epoch(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        if loaded is None or runner.iter == 0:
            return  # a fresh run, or weights loaded with load_from
        rank, world_size = get_dist_info()
        states = loaded['rng']
        if loaded['iter'] != runner.iter:
            print_log(f'The RNG states in the checkpoint are of iteration '
                      f'{loaded["iter"]}, the run resumes at {runner.iter}: '
                      'not restored', logger='current', level=30)
            return
        if len(states) != world_size:
            print_log(f'The checkpoint holds the RNG states of {len(states)} rank(s), '
                      f'this run has {world_size}: every rank restores rank 0\'s; '
                      'the resumed run is not an exact continuation',
                      logger='current', level=30)
        state = states[rank] if len(states) == world_size else states[0]
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _RestoreAfterSkip(loop, runner.iter, state)
        else:
            restore_rng_state(state)
        print_log(f'Exact resume: RNG states of iteration {runner.iter} restored '
                  f'({len(states)} rank(s))', logger='current')

    def before_train(self, runner) -> None:
        if not self.apply_config_lr or not self._config_lrs:
            return
        if runner.param_schedulers:
            return  # the schedulers set the learning rate
        changes = []
        for name, wrapper in self._wrappers(runner).items():
            wanted = self._config_lrs.get(name, [])
            groups = wrapper.optimizer.param_groups
            if len(wanted) != len(groups):
                continue
            for i, (group, lr) in enumerate(zip(groups, wanted)):
                if group['lr'] != lr:
                    changes.append(f'{name} group {i}: {group["lr"]:g} -> {lr:g}')
                    group['lr'] = lr
        if changes:
            print_log('Resumed optimizers take the learning rates of the config: '
                      + '; '.join(changes), logger='current', level=30)

    @staticmethod
    def _wrappers(runner) -> Dict[str, Any]:
        """The built optimizer wrappers by name; none before they are built
        (a validation or test run calls ``before_run`` with a config dict)."""
        wrapper = getattr(runner, 'optim_wrapper', None)
        if isinstance(wrapper, OptimWrapperDict):
            return dict(wrapper.items())
        if isinstance(wrapper, OptimWrapper):
            return {'optimizer': wrapper}
        return {}

    def _group_lrs(self, runner) -> Dict[str, List[float]]:
        return {name: [g['lr'] for g in w.optimizer.param_groups]
                for name, w in self._wrappers(runner).items()}
