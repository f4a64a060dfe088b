"""Checks of a level config that need no data and no weights: run before any work.

The clip shape is said twice in a level config: by the data pipeline (what
the dataset decodes) and by the generator (what it makes). When they differ
the run would train silently on the wrong shape, or fail deep inside a
discriminator minutes later; ``check_clip_shape`` says so in the user's terms.
``check_train_config`` refuses a schedule that cannot run, and hook and loop
arguments (``train_cfg`` / ``val_cfg`` / ``test_cfg``) that no hook or loop
takes.
"""
import difflib
import inspect
from typing import Any, List, Optional

from hvg.registry import HOOKS, LOOPS


def _step(pipeline: List[dict], *types: str) -> Optional[dict]:
    for step in pipeline:
        if step.get('type') in types:
            return step
    return None


def clip_shape_mismatches(cfg: Any) -> List[str]:
    """What the training pipeline makes that the generator does not, as sentences."""
    model, loader = cfg.get('model', {}), cfg.get('train_dataloader') or {}
    generator = model.get('generator') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or []
    problems = []
    data_classes = (loader.get('dataset') or {}).get('num_classes')
    if data_classes is not None and data_classes != level_num_classes(model):
        problems.append(f'the dataset has num_classes={data_classes} but the level '
                        f'model.num_classes={level_num_classes(model)}')

    def compare(step: Optional[dict], key: str, what: str, expected: Any,
                gen_key: str) -> None:
        if step is not None and expected is not None and key in step \
                and step[key] != expected:
            problems.append(f'the pipeline\'s {step["type"]}.{key}={step[key]} ({what}) '
                            f'but model.generator.{gen_key}={expected}')

    frames = generator.get('num_frames')
    compare(_step(pipeline, 'SampleFrames'), 'clip_len', 'frames per clip', frames,
            'num_frames')
    compare(_step(pipeline, 'RandomCrop', 'CenterCrop'), 'size', 'frame size',
            generator.get('out_size'), 'out_size')
    lowres = _step(pipeline, 'LowResView')
    if 'in_size' in generator:  # an upsampling level: its input is the low-res view
        if lowres is None:
            problems.append('an upsampling level needs the low-res view of each clip: '
                            'add LowResView to the pipeline')
        compare(lowres, 'size', 'low-res frame size', generator.get('in_size'), 'in_size')
        compare(lowres, 'temporal_stride', 'low-res frame step',
                generator.get('temporal_factor'), 'temporal_factor')
    return problems


def level_num_classes(model_cfg: Any) -> int:
    """Classes of a level config: ``model.num_classes``, said once at the level
    (older configs said it on the generator)."""
    if model_cfg.get('num_classes') is not None:
        return int(model_cfg['num_classes'])
    return int((model_cfg.get('generator') or {}).get('num_classes') or 0)


def check_clip_shape(cfg: Any, name: str = 'the config') -> None:
    """Raise ``ValueError`` when the pipeline's clips do not fit the generator."""
    problems = clip_shape_mismatches(cfg)
    if problems:
        raise ValueError(f'{name}: the data and the model disagree: ' + '; '.join(problems)
                         + '. Set both to the same value (--cfg-options can change '
                         'either).')



# --- the training schedule and the hooks ------------------------------------------
# Both are read by mmengine long after the Runner is built: a misspelt hook
# argument is a TypeError at the first checkpoint (CheckpointHook forwards its
# unknown keyword arguments to Runner.save_checkpoint), and max_iters=-5 is a
# run that does nothing and exits 0.

# Hook arguments the Runner consumes itself (``Runner.register_hook``).
_RUNNER_HOOK_KEYS = frozenset({'type', 'priority'})


def _accepted_kwargs(cls: type) -> Optional[set]:
    """Keyword arguments ``cls(...)`` accepts; ``None`` when it takes any."""
    params = inspect.signature(cls.__init__).parameters
    names = {n for n, p in params.items() if n != 'self' and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        from mmengine.hooks import CheckpointHook
        if not issubclass(cls, CheckpointHook):
            return None  # forwarded somewhere we cannot see: trust it
        # CheckpointHook passes **kwargs to Runner.save_checkpoint, whose
        # arguments it already passes all by name: any extra one is a TypeError.
    return names


def _argument_errors(where: str, kind: str, registry, args: dict,
                     name: Any, consumed: frozenset) -> List[str]:
    """Is ``name`` a registered ``kind`` (hook, loop) taking every key of ``args``?"""
    cls = name if isinstance(name, type) else registry.get(name)
    if cls is None:
        return [f'{where}: no {kind} type {name!r} is registered']
    accepted = _accepted_kwargs(cls)
    if accepted is None:
        return []
    errors = []
    for key in sorted(set(args) - consumed - accepted):
        close = difflib.get_close_matches(key, sorted(accepted), n=1)
        errors.append(f'{where}.{key}: {cls.__name__} has no argument {key!r}'
                      + (f' (did you mean {close[0]!r}?)' if close else ''))
    return errors


def hook_argument_errors(cfg: Any) -> List[str]:
    """Unknown hook types and arguments of ``default_hooks`` / ``custom_hooks``."""
    named = [(f'default_hooks.{k}', v) for k, v in (cfg.get('default_hooks') or {}).items()]
    named += [(f'custom_hooks[{i}]', v) for i, v in enumerate(cfg.get('custom_hooks') or [])]
    errors = []
    for where, hook in named:
        if not isinstance(hook, dict) or 'type' not in hook:
            continue  # None disables a default hook; a built hook object is checked by Python
        errors += _argument_errors(where, 'hook', HOOKS, hook, hook['type'], _RUNNER_HOOK_KEYS)
    return errors


# mmengine's defaults when a loop config names no ``type`` (``Runner.build_*_loop``)
_DEFAULT_LOOPS = {'train_cfg': 'IterBasedTrainLoop', 'val_cfg': 'ValLoop',
                  'test_cfg': 'TestLoop'}
# Arguments the Runner passes to a loop itself, or reads from its config.
_RUNNER_LOOP_KEYS = frozenset({'type', 'runner', 'dataloader', 'evaluator', 'by_epoch'})


def loop_argument_errors(cfg: Any) -> List[str]:
    """Unknown loop types and arguments of ``train_cfg`` / ``val_cfg`` / ``test_cfg``.

    mmengine builds the loops in ``Runner.train()``, after the model, the
    datasets and the hooks: a misspelt ``max_iter`` is a bare ``TypeError`` there.
    """
    errors = []
    for key, default in _DEFAULT_LOOPS.items():
        loop = cfg.get(key)
        if not isinstance(loop, dict):
            continue  # None: no such loop; a built loop object is checked by Python
        name = loop.get('type')
        if name is None:
            name = ('EpochBasedTrainLoop' if key == 'train_cfg' and loop.get('by_epoch')
                    else default)
        errors += _argument_errors(key, 'loop', LOOPS, loop, name, _RUNNER_LOOP_KEYS)
    return errors


def schedule_errors(cfg: Any) -> List[str]:
    """Non-positive lengths and intervals in ``train_cfg``."""
    train_cfg = cfg.get('train_cfg') or {}
    errors = []
    for key in ('max_iters', 'max_epochs', 'val_interval'):
        value = train_cfg.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            errors.append(f'train_cfg.{key} must be an integer >= 1, got {value!r}')
    return errors


def check_train_config(cfg: Any, name: str = 'the config') -> None:
    """Raise ``ValueError`` for a schedule, a hook or a loop the run would trip on later."""
    problems = schedule_errors(cfg) + hook_argument_errors(cfg) + loop_argument_errors(cfg)
    if problems:
        raise ValueError(f'{name}: ' + '; '.join(problems))
