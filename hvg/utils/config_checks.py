"""Checks of a level config that need no data and no weights: run before any work.

The clip shape is said twice in a level config: by the data pipeline (what
the dataset decodes) and by the generator (what it makes). When they differ
the run would train silently on the wrong shape, or fail deep inside a
discriminator minutes later; ``check_clip_shape`` says so in the user's terms.
"""
from typing import Any, List, Optional


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

