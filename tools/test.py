"""Evaluate a trained hierarchy: its metrics against real clips (docs/metrics.md).

    python tools/test.py [HIERARCHY_CONFIG] --checkpoints L1.pth L2.pth --metrics is fvd

``--metrics``: any registered metric (is, fid, fvd, psd, grounding, class_consistency,
yours); ``hvg.apis.evaluate_config`` does the work, ``tools/dist_test.sh`` splits it.
"""
import argparse
import json
import os
import time

import torch
from mmengine.dist import get_dist_info

from hvg.apis import evaluate_config
from hvg.apis.evaluate import metric_argument_errors
from hvg.utils.cli import DictAction, tool_parser, writable_file
from hvg.utils.cli import non_negative_float, non_negative_int as index, positive_int as count
from hvg.utils.dist import finish_launcher, init_launcher


def parse_args(argv=None) -> argparse.Namespace:
    p = tool_parser(description='Evaluate an HVG hierarchy')
    p.add_argument('config', nargs='?', help='hierarchy config (configs/hvg/hvg*.py)')
    p.add_argument('--checkpoints', nargs='+', help='one per level, level 1 first')
    p.add_argument('--metrics', nargs='+', default=['is', 'fvd'], help='registered metrics')
    p.add_argument('--num-samples', type=count, default=2048, help='generated videos')
    p.add_argument('--num-real', type=count, help='real clips (default: --num-samples)')
    p.add_argument('--num-frames', type=count, help='final frames (default: natural)')
    p.add_argument('--window', action='store_true', help="the paper's 12-frame protocol")
    p.add_argument('--i3d', help='Kinetics-400 I3D weights (tools/misc/prepare_i3d.py)')
    p.add_argument('--fid-i3d', help='Kinetics-600 I3D weights for FID (the paper)')
    p.add_argument('--data-root', help="real videos folder (else the config's)")
    p.add_argument('--ann-file', help="real videos list (else the config's)")
    p.add_argument('--real-stats', help='.npz of real statistics: read or written')
    p.add_argument('--classes', type=index, nargs='+', help='per-class IS / FID (appendix E)')
    p.add_argument('--heldout-every', type=count, default=4, help='class consistency split')
    p.add_argument('--class-levels', type=count, nargs='+', help='class consistency levels')
    p.add_argument('--psd-frames', type=count, nargs='+', help='1-based PSD frames')
    p.add_argument('--cov-ddof', type=int, default=1, choices=[0, 1])
    p.add_argument('--fvd-upsampled-input', action='store_true',
                   help="also the FVD of each upsampling level's input, frames repeated "
                   'and bilinearly upsampled (fvd_upsampled_input: what the level adds)')
    p.add_argument('--resize', default='tf_legacy', choices=['tf_legacy', 'half_pixel'])
    p.add_argument('--i3d-size', type=count, default=224, help='224: the protocol')
    p.add_argument('--bn-passes', type=count, help='BatchNorm passes (config default)')
    p.add_argument('--noise-std', type=non_negative_float, default=1.0)
    p.add_argument('--chunk-frames', type=count)
    for flag, default, kind in (('--batch-size', 8, count), ('--seed', 0, index), ('--is-splits',
                                10, count), ('--psd-sets', 3, count), ('--workers', 2, index)):
        p.add_argument(flag, type=kind, default=default)  # --workers: for the real clips
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', default='metrics.json', type=writable_file)  # checked now
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='hierarchy keys')
    args = p.parse_args(argv)
    # before any sampling: an unknown metric, a network without its weights, too few samples
    errors = metric_argument_errors(args.metrics, args.i3d, args.num_samples, args.is_splits)
    if errors or (args.config is None and not args.checkpoints):
        p.error('; '.join(errors) or 'pass a hierarchy config, --checkpoints, or both')
    return args


def metric_cfgs(args) -> list:
    """``--metrics`` with the options of each (a new metric needs none here)."""
    plot = os.path.splitext(args.out)[0] + '_psd.png'
    options = {'fvd': dict(cov_ddof=args.cov_ddof, upsampled_input=args.fvd_upsampled_input),
               'fid': dict(cov_ddof=args.cov_ddof, classes=args.classes),
               'is': dict(splits=args.is_splits, classes=args.classes),
               'psd': dict(frames=args.psd_frames, sets=args.psd_sets, plot=plot),
               'class_consistency': dict(heldout_every=args.heldout_every,
                                         only_levels=args.class_levels, classes=args.classes)}
    return [dict(type=m, **options.get(m, {})) for m in args.metrics]


def main(argv=None) -> None:
    args = parse_args(argv)
    args.device = init_launcher(args.launcher) or args.device
    start_time, (rank, world) = time.time(), get_dist_info()
    try:  # the I3D weights first: a missing file fails before the levels load
        report = evaluate_config(args.config, args.checkpoints, metric_cfgs(args), **{
            k: getattr(args, k) for k in (
                'num_samples', 'device', 'i3d', 'fid_i3d', 'resize', 'i3d_size', 'bn_passes',
                'batch_size', 'num_real', 'seed', 'noise_std', 'num_frames', 'window', 'classes',
                'chunk_frames', 'data_root', 'ann_file', 'workers', 'real_stats', 'cfg_options')})
    except (FileNotFoundError, ValueError, KeyError) as error:
        raise SystemExit(f'error: {error}')
    if rank == 0:
        result = dict(report, world_size=world, seconds=round(time.time() - start_time, 1),
                      **{k: getattr(args, k) for k in ('config', 'checkpoints', 'seed',
                         'num_samples', 'window', 'noise_std', 'is_splits', 'cov_ddof')})
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(json.dumps(report['metrics'], indent=2), f'\nwrote {args.out}')
    finish_launcher()


if __name__ == '__main__':
    main()
