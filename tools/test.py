"""Evaluate a trained hierarchy: IS / FID / FVD / PSD against real clips.

    python tools/test.py configs/hvg/hvg2_kinetics_48f_128.py \
        --checkpoints L1.pth L2.pth --metrics is fvd fid psd --num-samples 2048 \
        --i3d work_dirs/i3d/i3d_k400.pth [--fid-i3d i3d_k600.pth] \
        --data-root data/kinetics600 --out metrics.json

``--metrics grounding`` scores each upsampling level against its own input
(``level2/grounding_corr_mean``..., real pairs of the level's dataset the
ceiling, mismatched pairs the floor), ``class_consistency`` each
class-conditional level (``level1/class_consistency``, beside the real
held-out accuracy), and ``fvd`` adds ``level{l}/fvd`` for every level against
real clips at that level's resolution and frame rate (docs/metrics.md).

The paper's protocols: 48 frames unrolled (``--num-frames 48``, the default
length of the 2-level Kinetics model) and 12 frames from one random 6-frame
window (``--window``). Generated videos are quantised to uint8 and go through
the reference FVD protocol (docs/metrics.md). Real clips come from the final
level's dataset (its ``data_root`` / ``ann_file``, or ``--data-root`` /
``--ann-file``), at the generated length, resolution and the final level's
frame interval; their statistics are cached in an ``.npz`` keyed by the
dataset, clip length, resolution and network (``--real-stats FILE`` names it).

``tools/dist_test.sh CONFIG N ...`` splits generated and real clips across N
processes; with a fixed ``--seed`` the numbers are those of one process.
"""
import argparse
import datetime
import hashlib
import json
import os
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.dist import barrier, get_dist_info
from tqdm import tqdm

from hvg.apis import Hierarchy
from hvg.datasets.sample_clips import default_cache_dir
from hvg.evaluation import I3DExtractor, VideoSetStats, compute_video_metrics, plot_psd
from hvg.evaluation.level_scores import (LevelScores, levels_with_classes,
                                         real_class_consistency, real_grounding)
from hvg.evaluation.real_clips import eval_dataset_cfg, frame_interval_of, real_batches
from hvg.evaluation.video_stats import METRICS

LEVEL_METRICS = ('grounding', 'class_consistency')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate an HVG hierarchy')
    parser.add_argument('config', help='hierarchy config (configs/hvg/hvg*.py)')
    parser.add_argument('--checkpoints', nargs='+', help='one per level, level 1 first')
    parser.add_argument('--metrics', nargs='+', default=['is', 'fvd'],
                        choices=METRICS + LEVEL_METRICS)
    parser.add_argument('--num-samples', type=int, default=2048,
                        help='generated videos (paper: 10k-50k)')
    parser.add_argument('--num-real', type=int, help='real clips (default: --num-samples)')
    parser.add_argument('--num-frames', type=int, help='final frames (default: natural)')
    parser.add_argument('--window', action='store_true',
                        help="the paper's 12-frame protocol: upsample one random window")
    parser.add_argument('--i3d', help='Kinetics-400 I3D weights (python '
                        'tools/misc/prepare_i3d.py --out FILE); every metric but '
                        'grounding needs it')
    parser.add_argument('--fid-i3d', help='Kinetics-600 I3D weights for FID (the '
                        "paper's); without it FID uses K400 features (recorded)")
    parser.add_argument('--data-root', help='real videos folder (else the config\'s)')
    parser.add_argument('--ann-file', help='real videos list (else the config\'s)')
    parser.add_argument('--real-stats', help='.npz of real statistics: read if it '
                        'matches, written if missing')
    parser.add_argument('--classes', type=int, nargs='+',
                        help='per-class IS / FID (appendix E): generate these classes '
                        '(cycled) and score each one')
    parser.add_argument('--heldout-every', type=int, default=4,
                        help='class consistency: every n-th real clip is held out')
    parser.add_argument('--class-levels', type=int, nargs='+',
                        help='class consistency: these levels (1-based; default: '
                        'every class-conditional level)')
    parser.add_argument('--psd-frames', type=int, nargs='+',
                        help='1-based frames for the PSD (default: first, middle, last)')
    parser.add_argument('--psd-sets', type=int, default=3)
    parser.add_argument('--is-splits', type=int, default=10)
    parser.add_argument('--cov-ddof', type=int, default=1, choices=[0, 1],
                        help='1: unbiased covariance (TF FVD); 0: StyleGAN-V')
    parser.add_argument('--resize', default='tf_legacy', choices=['tf_legacy', 'half_pixel'])
    parser.add_argument('--i3d-size', type=int, default=224,
                        help='I3D frame size; 224 is the protocol (less: tests only)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--noise-std', type=float, default=1.0)
    parser.add_argument('--bn-passes', type=int, help='BatchNorm passes (config default)')
    parser.add_argument('--chunk-frames', type=int)
    parser.add_argument('--workers', type=int, default=2, help='real-clip loader workers')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out', default='metrics.json')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.i3d is None and set(args.metrics) - {'grounding'}:
        parser.error('--i3d is required for ' + ', '.join(
            m for m in args.metrics if m != 'grounding') +
            ' (python tools/misc/prepare_i3d.py --out work_dirs/i3d/i3d_k400.pth)')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def init_distributed(args: argparse.Namespace) -> None:
    """torchrun's process group: NCCL on GPUs, gloo on CPUs.

    Started here, not by mmengine's ``init_dist``, which calls
    ``torch.cuda.set_device`` and so fails without CUDA.
    """
    if args.launcher != 'pytorch':
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
        args.device = f'cuda:{os.environ["LOCAL_RANK"]}'
    torch.distributed.init_process_group(
        backend='nccl' if torch.cuda.is_available() else 'gloo',
        timeout=datetime.timedelta(minutes=60))


# --- real clips ------------------------------------------------------------------
def real_stats(args, extractor, set_kwargs, level_config, num_frames, size,
               path=None) -> VideoSetStats:
    """Real statistics of a level: from the cache when its key matches, else computed."""
    rank, world = get_dist_info()
    dataset_cfg = eval_dataset_cfg(level_config, num_frames, size, args.data_root,
                                   args.ann_file)
    num_real = args.num_real or args.num_samples
    metrics = set_kwargs['metrics']
    key = dict(dataset={k: dataset_cfg.get(k) for k in
                        ('type', 'data_root', 'ann_file', 'clips', 'short_side')},
               num_frames=num_frames, frame_interval=frame_interval_of(level_config),
               size=size, num_real=num_real, seed=args.seed, classes=args.classes,
               psd=[set_kwargs['psd_frames'], args.psd_sets] if 'psd' in metrics
               else None, network=extractor.describe())
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = path or args.real_stats or str(default_cache_dir() / 'eval_stats' /
                                          f'real_{digest}.npz')
    stats = VideoSetStats(**set_kwargs)
    if osp.isfile(path):
        if stats.load(path, key):
            if rank == 0:
                print(f'real statistics from {path}', flush=True)
            return stats
        if args.real_stats:
            raise SystemExit(f'{path} holds real statistics of another setting (dataset, '
                             'length, resolution, network or count); delete it or '
                             'name another --real-stats file')
    batches = real_batches(dataset_cfg, num_real, args.seed, args.batch_size, args.workers,
                           args.classes)
    with tqdm(total=len(range(rank, num_real, world)), desc='real clips', unit='video',
              disable=rank != 0) as bar:
        for batch in batches:
            stats.update(extractor(batch['video']), batch['video'],
                         batch['index'].tolist(), batch['label'].tolist())
            bar.update(len(batch['index']))
    stats.all_reduce()
    if rank == 0:
        stats.save(path, key)
        print(f'real statistics of {stats.count} clips cached in {path}', flush=True)
    return stats


# --- generated clips --------------------------------------------------------------
def level_scores(args, hierarchy, extractor, level_configs, outputs):
    """Per-level scores: the real side now, the generated side in ``fake_stats``.

    ``outputs``: every level's output of the prepared sample (their shapes).
    """
    num = len(hierarchy.levels)
    num_real = args.num_real or args.num_samples
    fvd_levels = range(num - 1) if 'fvd' in args.metrics else ()
    grounding_levels = range(1, num) if 'grounding' in args.metrics else ()
    cc_levels = levels_with_classes(hierarchy.levels) if 'class_consistency' in \
        args.metrics else ()
    if args.class_levels:
        cc_levels = [i for i in cc_levels if i + 1 in args.class_levels]
    real_fvd, real_pairs, consistency = {}, {}, {}
    for i in fvd_levels:
        path = args.real_stats and f'{osp.splitext(args.real_stats)[0]}_level{i + 1}.npz'
        real_fvd[i] = real_stats(args, extractor, dict(metrics=('fvd', ),
                                                       logit_dim=extractor.num_classes),
                                 level_configs[i], outputs[i].shape[2],
                                 outputs[i].shape[-1], path)
    for i in grounding_levels:
        factor = hierarchy.levels[i].generator.temporal_factor
        cfg = eval_dataset_cfg(level_configs[i], outputs[i].shape[2], outputs[i].shape[-1],
                               args.data_root, args.ann_file,
                               lowres=(factor, outputs[i - 1].shape[-1]))
        real_pairs[i] = real_grounding(cfg, num_real, args.seed, args.batch_size,
                                       args.workers)
    for i in cc_levels:
        cfg = eval_dataset_cfg(level_configs[i], outputs[i].shape[2], outputs[i].shape[-1],
                               args.data_root, args.ann_file)
        consistency[i] = real_class_consistency(
            extractor, cfg, num_real, args.seed, args.batch_size, args.workers,
            args.heldout_every, args.classes or list(range(hierarchy.num_classes)))
    levels = LevelScores(extractor, num, fvd_levels, grounding_levels, consistency)
    return levels, real_fvd, real_pairs


def fake_stats(args, hierarchy, extractor, set_kwargs, levels=None) -> VideoSetStats:
    rank, world = get_dist_info()
    stats = VideoSetStats(**set_kwargs)
    num_batches = -(-args.num_samples // args.batch_size)
    mine = list(range(rank, num_batches, world))
    mine_total = sum(min(args.batch_size, args.num_samples - b * args.batch_size)
                     for b in mine)
    with tqdm(total=mine_total, desc='generated (this rank)', unit='video',
              disable=rank != 0) as bar:
        for b in mine:
            start = b * args.batch_size
            num = min(args.batch_size, args.num_samples - start)
            indices = list(range(start, start + num))
            labels = None
            if args.classes:
                labels = torch.tensor([args.classes[i % len(args.classes)] for i in indices])
            elif hierarchy.num_classes:
                rng = torch.Generator().manual_seed(args.seed * 7919 + b)
                labels = torch.randint(hierarchy.num_classes, (num, ), generator=rng)
            outputs, inputs = hierarchy.sample(
                num, labels=labels, noise_std=args.noise_std, seed=args.seed + 1 + b,
                num_frames=args.num_frames, window=args.window,
                chunk_frames=args.chunk_frames, return_inputs=True)
            videos = outputs[-1].cpu()
            # the final output's I3D pass only when a video metric needs it
            embeddings = extractor(videos) if set_kwargs['metrics'] else None
            if embeddings is not None:
                stats.update(embeddings, videos, indices,
                             None if labels is None else labels.tolist())
            if levels is not None:
                levels.update(outputs, inputs, labels, embeddings)
            bar.update(num)
    stats.all_reduce()
    return stats


def main(argv=None) -> None:
    args = parse_args(argv)
    init_distributed(args)
    rank, world = get_dist_info()
    start_time = time.time()
    # the weights first: a missing file fails before minutes of sampling
    try:
        extractor = I3DExtractor(args.i3d, args.fid_i3d, args.device, args.resize,
                                 args.batch_size, args.i3d_size) if args.i3d else None
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}')
    hierarchy = Hierarchy.from_config(args.config, args.checkpoints, args.device,
                                      bn_passes=args.bn_passes)
    if 'grounding' in args.metrics and len(hierarchy.levels) < 2:
        raise SystemExit('error: grounding scores upsampling levels: the hierarchy has one')
    if 'class_consistency' in args.metrics and not levels_with_classes(hierarchy.levels):
        raise SystemExit('error: class_consistency needs a class-conditional level')
    if args.class_levels and not set(args.class_levels) & {
            i + 1 for i in levels_with_classes(hierarchy.levels)}:
        raise SystemExit(f'error: --class-levels {args.class_levels}: no such '
                         'class-conditional level in this hierarchy')
    # Same per-frame BatchNorm statistics on every rank: prepare the unrolled
    # lengths with one seeded sample before any rank-specific batch.
    outputs = hierarchy.sample(1, seed=args.seed, num_frames=args.num_frames,
                               window=args.window, chunk_frames=args.chunk_frames)
    num_frames, size = outputs[-1].shape[2], outputs[-1].shape[-1]
    psd_frames = args.psd_frames or sorted({1, (num_frames + 1) // 2, num_frames})
    set_kwargs = dict(metrics=[m for m in args.metrics if m in METRICS],
                      logit_dim=extractor.num_classes if extractor else 0,
                      psd_frames=psd_frames, psd_sets=args.psd_sets,
                      classes=args.classes or ())

    real = None  # real clips first: a data problem shows before the long sampling
    level_configs = [lvl['config'] for lvl in Config.fromfile(args.config).hierarchy['levels']]
    if set(args.metrics) & {'fvd', 'fid', 'psd'}:
        real = real_stats(args, extractor, set_kwargs, level_configs[-1], num_frames, size)
    levels, real_fvd, real_pairs = level_scores(args, hierarchy, extractor, level_configs,
                                                outputs)
    fake = fake_stats(args, hierarchy, extractor, set_kwargs, levels)
    level_values = levels.result(real_fvd, real_pairs, args.cov_ddof)  # every rank
    if rank == 0:
        values = compute_video_metrics(real, fake, set_kwargs['metrics'], args.is_splits,
                                       args.cov_ddof)
        if 'fvd' in values:
            values[f'level{len(hierarchy.levels)}/fvd'] = values['fvd']
        values.update(level_values)
        result = dict(
            metrics=values,
            config=args.config, checkpoints=args.checkpoints, seed=args.seed,
            num_samples=args.num_samples, num_real=None if real is None else real.count,
            num_frames=num_frames, resolution=size, window=args.window,
            noise_std=args.noise_std, world_size=world, is_splits=args.is_splits,
            cov_ddof=args.cov_ddof,
            protocol=extractor.describe() if extractor else None,
            seconds=round(time.time() - start_time, 1))
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        if 'psd' in args.metrics:
            plot = osp.splitext(args.out)[0] + '_psd.png'
            try:
                plot_psd(real.psd, fake.psd, plot)
                result['psd_plot'] = plot
            except Exception as error:  # a figure never costs the numbers
                print(f'warning: PSD plot not written ({error!r})', flush=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(json.dumps(values, indent=2))
        fid = f'; FID on {extractor.fid_network}' if 'fid' in args.metrics else ''
        print(f'wrote {args.out} ({args.num_samples} generated videos of {num_frames}x'
              f'{size}x{size}{fid})')
    if world > 1:
        barrier()
        torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main()
