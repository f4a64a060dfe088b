"""Sample a trained hierarchy and write videos of every level.

    python tools/sample.py configs/hvg/hvg2_kinetics_48f_128.py \
        --checkpoints L1.pth L2.pth --num-samples 8 --out samples/
    python tools/sample.py --checkpoints L1.pth L2.pth --out samples/

Checkpoints written by ``tools/train.py`` store their run's config, so they
are enough; a hierarchy config adds its sampling options (``bn_passes``,
``fps``) and, without ``--checkpoints``, the checkpoints it names.

It writes to ``--out``, per sample ``i`` (``sample_0000`` ...), at the model's
resolution: ``sample_0000.mp4`` and ``.gif`` (the final output),
``sample_0000_levels.mp4`` (every level side by side, lower levels upscaled
nearest to the final size and frame count, upscaled for viewing, each level
titled), ``sample_0000_strip.png`` (the final frames in a row, gaps between,
upscaled) and, with ``--save-npy``, ``sample_0000_level{l}.npy`` (float32
(C, T, H, W) in [-1, 1], one per level). For the first ``--grid-samples``
samples it also writes the grids of ``tools/demo.py``: ``hierarchy_final.{mp4,gif}``
and ``levels_side_by_side.{mp4,gif,png}``, upscaled, levels titled, one row
per class (class names from the level-1 config, or ``--class-names``).
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from PIL import Image

from hvg.apis import Hierarchy
from hvg.apis.evaluate import generated_labels
from hvg.apis.sample_grids import (class_names_of, frame_strip, labelled_grids,
                                   labelled_levels_video, write_grids)
from hvg.utils.cli import (DictAction, check_labels, non_negative_float,
                           non_negative_int, positive_int, tool_parser, writable_dir)
from hvg.utils.progress import progress
from hvg.utils.video_io import video_to_uint8, write_video


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Sample an HVG hierarchy')
    parser.add_argument('config', nargs='?',
                        help='hierarchy config (configs/hvg/hvg*.py); optional with '
                        '--checkpoints')
    parser.add_argument('--checkpoints', nargs='+',
                        help='one checkpoint per level, level 1 first')
    parser.add_argument('--num-samples', type=positive_int, default=8)
    parser.add_argument('--num-frames', type=positive_int,
                        help='final frames (default: level 1 length x upsampling)')
    parser.add_argument('--window', action='store_true',
                        help="the paper's 12-frame protocol: upsample one random "
                        'window of the training length, not the whole input')
    parser.add_argument('--labels', type=non_negative_int, nargs='+',
                        help='class labels, cycled over the samples (default random)')
    parser.add_argument('--noise-std', type=non_negative_float, default=1.0)
    parser.add_argument('--chunk-frames', type=positive_int,
                        help='stream the upsampling levels and their BatchNorm-statistics '
                        'passes over windows keeping this many frames each (the same '
                        'videos, in memory that does not grow with --num-frames)')
    parser.add_argument('--bn-passes', type=positive_int,
                        help='dummy passes for BatchNorm statistics (config default)')
    parser.add_argument('--batch-size', type=positive_int, default=4)
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='names the videos: sample i of seed s is the same at any '
                        '--batch-size (and another seed gives other videos)')
    parser.add_argument('--grid-samples', type=non_negative_int, default=16,
                        help='the first this many samples also go into the labelled '
                        'grids (hierarchy_final, levels_side_by_side); 0: no grids')
    parser.add_argument('--class-names', nargs='+',
                        help='a name per class for the grid rows (default: from the '
                        "level-1 config's dataset, else 'class k')")
    parser.add_argument('--save-npy', action='store_true',
                        help='also write every level as float32 .npy')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out', required=True, type=writable_dir,
                        help='output folder (checked writable before any work)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of the hierarchy config, e.g. '
                        'hierarchy.fps=4')
    args = parser.parse_args(argv)
    if args.config is None and not args.checkpoints:
        parser.error('pass a hierarchy config, --checkpoints L1.pth L2.pth ..., or both')
    return args


def write_sample(out: str, index: int, outputs, fps: float, save_npy: bool) -> None:
    """One sample's files (see the module docstring); ``outputs``: (C, T, H, W) per level."""
    stem = osp.join(out, f'sample_{index:04d}')
    final = video_to_uint8(outputs[-1][None])[0]
    write_video(f'{stem}.mp4', final, fps)
    write_video(f'{stem}.gif', final, fps)
    write_video(f'{stem}_levels.mp4', labelled_levels_video(outputs), fps)
    Image.fromarray(frame_strip(outputs[-1])).save(f'{stem}_strip.png')
    if save_npy:
        for level, video in enumerate(outputs, start=1):
            np.save(f'{stem}_level{level}.npy', video.numpy().astype(np.float32))


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        hierarchy = Hierarchy.from_config(args.config, args.checkpoints, args.device,
                                          cfg_options=args.cfg_options,
                                          bn_passes=args.bn_passes)
        check_labels(args.labels, hierarchy.num_classes)  # before any sampling
        if args.class_names and len(args.class_names) != hierarchy.num_classes:
            raise ValueError(f'--class-names: {len(args.class_names)} names for the '
                             f"model's {hierarchy.num_classes} classes")
    except (ValueError, FileNotFoundError, KeyError) as error:
        raise SystemExit(f'error: {error}')
    os.makedirs(args.out, exist_ok=True)
    class_names = None
    if hierarchy.num_classes:
        class_names = args.class_names or class_names_of(
            hierarchy.configs[0] if hierarchy.configs else None, hierarchy.num_classes)
    grid_outputs, grid_labels = [], []
    written = 0
    with progress(total=args.num_samples, desc='sampling', unit='video') as bar:
        for start in range(0, args.num_samples, args.batch_size):
            num = min(args.batch_size, args.num_samples - start)
            indices = range(start, start + num)
            # --labels cycled, else each video's own draw (what sample() would use)
            batch_labels = generated_labels(hierarchy.num_classes, indices, args.seed,
                                            args.labels)
            outputs = hierarchy.sample(
                num, labels=batch_labels, noise_std=args.noise_std, seed=args.seed,
                indices=indices, num_frames=args.num_frames, window=args.window,
                chunk_frames=args.chunk_frames)
            outputs = [o.float().cpu() for o in outputs]
            for i in range(num):
                write_sample(args.out, start + i, [o[i] for o in outputs],
                             hierarchy.fps, args.save_npy)
                written += 1
                bar.update(1)
            keep = max(0, min(num, args.grid_samples - start))
            if keep:
                grid_outputs.append([o[:keep] for o in outputs])
                if batch_labels is not None:
                    grid_labels += batch_labels[:keep].tolist()
    if grid_outputs:
        levels = [torch.cat(parts) for parts in zip(*grid_outputs)]
        grids = labelled_grids(levels, grid_labels or None, class_names)
        write_grids(grids, args.out, hierarchy.fps)
    shapes = ', '.join('x'.join(map(str, o.shape[2:])) for o in outputs)
    grids = (f'; grids of the first {min(written, args.grid_samples)}: hierarchy_final.mp4, '
             'levels_side_by_side.mp4' if grid_outputs else '')
    print(f'Wrote {written} samples (levels T x H x W: {shapes}) to '
          f'{osp.abspath(args.out)}{grids}')


if __name__ == '__main__':
    main()
