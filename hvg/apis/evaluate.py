"""Evaluate a hierarchy: its metrics against real clips, in one call.

``evaluate_hierarchy`` is the one evaluation path (``tools/test.py``, the
demo and the analysis tools call it):

1. every metric (``hvg.evaluation.metrics``) is built once for each level it
   scores (``VideoMetric.levels``), and what it needs is checked: the I3D
   extractor, an upsampling or a class-conditional level;
2. one seeded sample prepares the unrolled lengths (the same per-frame
   BatchNorm statistics on every rank) and gives every level's shape;
3. real clips, level by level (``real_clips``): the metrics of a level share
   one pass over its clips (pairs ``x_l, T(S(x_l))`` for pairs metrics); the
   statistics of the metrics that cache them are read from, or written to,
   an ``.npz`` keyed by the dataset, length, resolution, count, seed and
   network;
4. generated videos, batch by batch, split across ranks (``hierarchy.sample``
   with ``indices``: video ``i`` comes from ``(seed, i)`` alone, so the numbers
   do not depend on the batch size, and N ranks give those of one process);
   every metric gets its level's output, input and labels;
5. every metric's result (statistics combined over ranks).
"""
import hashlib
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info

from hvg.datasets.sample_clips import default_cache_dir
from hvg.evaluation.extractor import I3DExtractor
from hvg.evaluation.metrics import VideoBatch, VideoMetric
from hvg.registry import METRICS
from hvg.models.batch_random import mix_seed
from hvg.utils.progress import progress
from .hierarchy import Hierarchy, video_labels
from .real_clips import eval_dataset_cfg, frame_interval_of, real_batches, save_arrays

MetricSpec = Union[str, dict]


def metric_class(name: str) -> type:
    """The registered ``VideoMetric`` of a name (``'fvd'``, ``'FVDMetric'``)."""
    cls = METRICS.get(name)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, VideoMetric)):
        names = sorted(k for k, v in METRICS.module_dict.items()
                       if isinstance(v, type) and issubclass(v, VideoMetric))
        raise ValueError(f'unknown metric {name!r}; registered: {", ".join(names)}')
    return cls


def metric_argument_errors(metrics: Sequence[str], i3d: Optional[str],
                           num_samples: int, is_splits: int) -> List[str]:
    """What makes these metrics impossible, found before any model loads.

    An unknown metric name; a metric that needs the I3D network without
    ``i3d`` weights; Inception Score over fewer samples than its splits
    (each split needs at least one sample).
    """
    errors, needing = [], []
    for name in metrics:
        try:
            cls = metric_class(name)
        except ValueError as error:
            errors.append(str(error))
            continue
        if cls.network and not i3d:
            needing.append(name)
        if cls is metric_class('is') and num_samples < is_splits:
            errors.append(f'Inception Score needs --num-samples >= --is-splits, got '
                          f'{num_samples} < {is_splits}')
    if needing:
        errors.append(f'--i3d is required for {", ".join(needing)} '
                      '(tools/misc/prepare_i3d.py)')
    return errors


def levels_to_score(cls: type, hierarchy: Hierarchy,
                    only_levels: Optional[Sequence[int]] = None,
                    name: Optional[str] = None) -> List[int]:
    """1-based levels a metric class scores in this hierarchy (``cls.levels``).

    ``name``: the metric as the user named it (for the errors).
    """
    name = name or cls.__name__
    num = len(hierarchy.levels)
    kinds = dict(final=[num], every=list(range(1, num + 1)),
                 upsampling=list(range(2, num + 1)),
                 class_conditional=[i + 1 for i, level in enumerate(hierarchy.levels)
                                    if getattr(level.generator, 'num_classes', 0)])
    if cls.levels not in kinds:
        raise ValueError(f'{cls.__name__}.levels must be one of {sorted(kinds)}')
    levels = kinds[cls.levels]
    kind = cls.levels.replace('_', '-')
    if not levels:
        raise ValueError(f'{name} scores {kind} levels: this hierarchy of {num} '
                         f'level(s) has none')
    if only_levels:
        levels = [i for i in levels if i in only_levels]
        if not levels:
            raise ValueError(f'{name} only_levels={list(only_levels)}: no such '
                             f'{kind} level in this hierarchy ({kinds[cls.levels]})')
    return levels


def build_metrics(metrics: Sequence[MetricSpec], hierarchy: Hierarchy,
                  extractor: Optional[I3DExtractor] = None) -> List[VideoMetric]:
    """One metric per (name or config, level it scores), each bound to its level.

    Raises:
        ValueError: an unknown metric, a metric needing the I3D network without
            ``extractor``, or no level of the kind it scores.
    """
    built = []
    for spec in metrics:
        cfg = dict(type=spec) if isinstance(spec, str) else dict(spec)
        cls = metric_class(cfg['type'])
        if cls.network is not None:
            if extractor is None:
                raise ValueError(f'{cfg["type"]} needs the I3D network (python '
                                 'tools/misc/prepare_i3d.py --out FILE)')
            cfg['extractor'] = extractor
        for level in levels_to_score(cls, hierarchy, cfg.get('only_levels'), cfg['type']):
            metric = METRICS.build(cfg)
            metric.level = level
            built.append(metric)
    return built


def generated_labels(num_classes: int, indices: Sequence[int], seed: int,
                     classes: Optional[Sequence[int]] = None) -> Optional[torch.Tensor]:
    """Labels of generated videos: ``classes`` cycled, else video ``i``'s own
    (``Hierarchy.sample``'s draw for ``(seed, i)``: the same whatever the batch)."""
    if classes:
        return torch.tensor([classes[i % len(classes)] for i in indices])
    return video_labels(num_classes, [mix_seed(seed, i) for i in indices])


def score_real_clips(metrics: Sequence[VideoMetric], dataset_cfg: dict, num_real: int,
                     seed: int, batch_size: int, workers: int = 0,
                     classes: Optional[Sequence[int]] = None) -> None:
    """Feed this rank's share of real clips to ``metrics`` and combine the ranks'."""
    rank, world = get_dist_info()
    batches = real_batches(dataset_cfg, num_real, seed, batch_size, workers, classes)
    with progress(total=len(range(rank, num_real, world)), desc='real clips',
                  unit='video') as bar:
        for batch in batches:
            videos, lowres = batch['video'], None
            if isinstance(videos, dict):  # pairs
                videos, lowres = videos['highres'], videos['lowres']
            real = VideoBatch(videos, batch['index'].tolist(), batch['label'].tolist(), lowres)
            for metric in metrics:
                metric.update('real', real)
            bar.update(len(real.indices))
    for metric in metrics:
        metric.finish_real()
        metric.mark_real_done()


def real_statistics(metrics: Sequence[VideoMetric], dataset_cfg: dict, key: dict,
                    path: Optional[str], num_real: int, seed: int, batch_size: int,
                    workers: int = 0, classes: Optional[Sequence[int]] = None) -> None:
    """The real side of one level's metrics: from the cache where its key matches.

    ``path``: the ``.npz`` the user named (a different key is then an error),
    or None for ``$HVG_CACHE_DIR/eval_stats/real_<digest of key>.npz``.
    """
    rank = get_dist_info()[0]
    cached = [m for m in metrics if m.real_on_disk]
    loaded = False
    if cached:
        key = dict(key, metrics={type(m).__name__: m.real_key() for m in cached})
        digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        named, path = path, path or str(default_cache_dir() / 'eval_stats' /
                                        f'real_{digest}.npz')
        if osp.isfile(path):
            with np.load(path, allow_pickle=False) as arrays:
                loaded = json.loads(str(arrays['key'])) == json.loads(
                    json.dumps(key, sort_keys=True)) and all(
                        m.load_real_arrays(arrays) for m in cached)
            if loaded:
                for metric in cached:
                    metric.mark_real_done()
                if rank == 0:
                    print(f'real statistics from {path}', flush=True)
            elif named:
                raise ValueError(f'{path} holds real statistics of another setting '
                                 '(dataset, length, resolution, network or count); '
                                 'delete it or name another file')
    todo = [m for m in metrics if not (loaded and m in cached)]
    if todo:
        score_real_clips(todo, dataset_cfg, num_real, seed, batch_size, workers, classes)
    if cached and not loaded and rank == 0:
        arrays = {}
        for metric in cached:
            arrays.update(metric.real_arrays())
        save_arrays(path, key, arrays)
        print(f'real statistics of {num_real} clips cached in {path}', flush=True)


def evaluate_hierarchy(hierarchy: Hierarchy, metrics: Sequence[MetricSpec],
                       level_configs: Sequence[str], num_samples: int, *,
                       extractor: Optional[I3DExtractor] = None,
                       num_real: Optional[int] = None, batch_size: int = 8, seed: int = 0,
                       noise_std: float = 1.0, num_frames: Optional[int] = None,
                       window: bool = False, chunk_frames: Optional[int] = None,
                       classes: Optional[Sequence[int]] = None,
                       data_root: Optional[str] = None, ann_file: Optional[str] = None,
                       workers: int = 2, real_stats: Optional[str] = None) -> dict:
    """Score a hierarchy's samples with ``metrics`` (module docstring).

    Args:
        hierarchy: the trained levels (``Hierarchy.from_config``).
        metrics: registered names (``'fvd'``) or configs
            (``dict(type='PSDMetric', frames=[1, 48])``).
        level_configs: each level's training config (its real clips).
        num_samples: generated videos (all ranks together).
        extractor: the I3D network of every metric that needs one.
        num_real: real clips per level (default ``num_samples``).
        batch_size: videos per sampling batch and real batch.
        seed: the seed of the generated videos and of the real clips.
        noise_std, num_frames, window, chunk_frames: ``Hierarchy.sample``'s.
        classes: generate these labels (cycled) and take real clips of them.
        data_root, ann_file: real videos instead of each level config's.
        workers: real-clip loader processes.
        real_stats: the final level's real-statistics ``.npz`` (lower levels:
            ``{stem}_level{l}.npz``); None: cached by digest.

    Returns:
        ``dict(metrics={key: value}, num_real, num_frames, resolution)`` and
        the files metrics wrote (``psd_plot``). Keys: a ``'final'`` metric's
        as it names them (``fvd``), others ``level{l}/{key}``.
    """
    metrics = build_metrics(metrics, hierarchy, extractor)
    num, num_real = len(hierarchy.levels), num_real or num_samples
    # Same per-frame BatchNorm statistics on every rank: prepare the unrolled
    # lengths with one seeded sample before any rank-specific batch.
    shapes = [tuple(out.shape[1:]) for out in hierarchy.sample(
        1, seed=seed, num_frames=num_frames, window=window, chunk_frames=chunk_frames)]
    for metric in metrics:
        metric.prepare(shapes[metric.level - 1])

    # real clips first: a data problem shows before the long sampling
    for level in range(num, 0, -1):
        for pairs in (False, True):
            group = [m for m in metrics
                     if m.needs_real and m.level == level and m.pairs == pairs]
            if not group:
                continue
            (_, frames, size, _), config = shapes[level - 1], level_configs[level - 1]
            lowres = None
            if pairs:
                lowres = (hierarchy.levels[level - 1].generator.temporal_factor,
                          shapes[level - 2][-1])
            dataset_cfg = eval_dataset_cfg(config, frames, size, data_root, ann_file, lowres)
            key = dict(dataset={k: dataset_cfg.get(k) for k in
                                ('type', 'data_root', 'ann_file', 'clips', 'short_side')},
                       num_frames=frames, frame_interval=frame_interval_of(config),
                       size=size, num_real=num_real, seed=seed, classes=classes,
                       network=extractor.describe() if extractor is not None and any(
                           m.network for m in group) else None)
            path = real_stats and (real_stats if level == num else
                                   f'{osp.splitext(real_stats)[0]}_level{level}.npz')
            # real pairs of every class: how well T(S(x)) is matched is no class's
            real_statistics(group, dataset_cfg, key, path, num_real, seed, batch_size,
                            workers, None if pairs else classes)

    rank, world = get_dist_info()
    mine = range(rank, -(-num_samples // batch_size), world)
    with progress(total=sum(min(batch_size, num_samples - b * batch_size) for b in mine),
                  desc='generated (this rank)', unit='video') as bar:
        for b in mine:
            indices = list(range(b * batch_size, min((b + 1) * batch_size, num_samples)))
            labels = generated_labels(hierarchy.num_classes, indices, seed, classes)
            outputs, inputs = hierarchy.sample(
                len(indices), labels=labels, noise_std=noise_std, seed=seed, indices=indices,
                num_frames=num_frames, window=window, chunk_frames=chunk_frames,
                return_inputs=True)
            labels = [-1] * len(indices) if labels is None else labels.tolist()
            batches: Dict[int, VideoBatch] = {}
            for metric in metrics:
                level = metric.level
                if level not in batches:
                    lowres = inputs[level - 1]
                    batches[level] = VideoBatch(outputs[level - 1].cpu(), indices, labels,
                                                None if lowres is None else lowres.cpu())
                metric.update('fake', batches[level])
            bar.update(len(indices))

    values: Dict[str, float] = {}
    artifacts: Dict[str, str] = {}
    for metric in metrics:  # every rank: the results combine the ranks' statistics
        result = metric.result()
        if metric.levels == 'final' or (metric.levels == 'every' and metric.level == num):
            values.update(result)
        if metric.levels != 'final':
            values.update({f'level{metric.level}/{k}': v for k, v in result.items()})
        artifacts.update(metric.artifacts)
    uses_real = any(m.needs_real and m.level == num for m in metrics)
    return dict(metrics=values, num_real=num_real if uses_real else None,
                num_frames=shapes[-1][1], resolution=shapes[-1][-1], **artifacts)


def evaluate_config(config: Optional[str], checkpoints: Optional[Sequence[str]],
                    metrics: Sequence[MetricSpec], num_samples: int, *, device: str = 'cpu',
                    i3d: Optional[str] = None, fid_i3d: Optional[str] = None,
                    resize: str = 'tf_legacy', i3d_size: int = 224,
                    bn_passes: Optional[int] = None, batch_size: int = 8,
                    cfg_options: Optional[dict] = None, **kwargs) -> dict:
    """``evaluate_hierarchy`` of a hierarchy config and its checkpoints.

    The I3D extractor is built first (a missing weights file fails before the
    levels load), then the hierarchy; the report adds ``protocol``, what
    produced the features (None without ``i3d``).

    Args:
        config, checkpoints, cfg_options: ``Hierarchy.from_config``'s (the
            config is optional: checkpoints of tools/train.py describe their
            levels, datasets included).
        metrics, num_samples, batch_size, **kwargs: ``evaluate_hierarchy``'s.
        device: where the levels and the I3D run.
        i3d, fid_i3d, resize, i3d_size: ``I3DExtractor``'s weights and protocol.
        bn_passes: BatchNorm passes (None: the config's).
    """
    extractor = I3DExtractor(i3d, fid_i3d, device, resize, batch_size,
                             i3d_size) if i3d else None
    hierarchy = Hierarchy.from_config(config, checkpoints, device, cfg_options=cfg_options,
                                      bn_passes=bn_passes)
    report = evaluate_hierarchy(hierarchy, metrics, hierarchy.configs, num_samples,
                                extractor=extractor, batch_size=batch_size, **kwargs)
    return dict(report, protocol=extractor.describe() if extractor else None)
