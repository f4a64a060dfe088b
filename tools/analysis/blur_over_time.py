"""Sharpness at every frame of every level: where does a hierarchy blur, and why?

    python tools/analysis/blur_over_time.py configs/hvg/hvg2_demo_clips.py \
        --checkpoints work_dirs/demo/level1/iter_600.pth work_dirs/demo/level2/iter_300.pth

The paper's appendix D asks whether an unrolled video blurs over time, from
the power spectrum of a few frames (``tools/test.py --metrics psd``). This
tool follows one number, the mean power in the upper half of the spatial
frequencies (``hvg.evaluation.high_frequency_power``, the PSD metric's
``psd_high_power_frame{f}``), at *every* frame and level, for three series:

- ``generated``: level ``l``'s output in the unrolled hierarchy (every
  upsampling level over the whole video below it, as ``tools/sample.py``);
- ``real``: real clips of level ``l``'s dataset at its length and size;
- ``on_real_input`` (upsampling levels): level ``l`` over the *real* low-res
  version of those clips (the paper's operators, as grounding's real pairs),
  through ``Hierarchy.upsample``: the level's own blur, without the errors of
  the levels below.

A frame that is blurrier in ``generated`` but not in ``on_real_input`` gets
its blur from the levels below. Each series is also shown relative to its own
mean over frames, so the shape over time compares across levels and sizes.
Writes ``OUT.csv`` (``level,series,frame,hf_power,relative``) and ``OUT.png``
(one panel per level) and prints a summary per series.
"""
import argparse
import csv
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
import torch
from tqdm import tqdm

import hvg  # noqa: F401
from hvg.apis import Hierarchy
from hvg.apis.real_clips import eval_dataset_cfg, real_batches
from hvg.evaluation import high_frequency_power, quantize_videos
from hvg.utils.cli import (DictAction, non_negative_int, positive_int, tool_parser,
                           writable_file)

Series = Dict[Tuple[int, str], np.ndarray]  # (level, series) -> (T,) power


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='High-frequency power at every frame of every level')
    parser.add_argument('config', help='a hierarchy config (configs/hvg/hvg*.py)')
    parser.add_argument('--checkpoints', nargs='+', help="the levels' checkpoints, level 1 "
                        "first (default: the config's)")
    parser.add_argument('--num-samples', type=positive_int, default=48,
                        help='generated videos, and real clips per level')
    parser.add_argument('--num-frames', type=positive_int,
                        help='final frames (default: level 1 at its training length); '
                        'other lengths unroll level 1 too, as tools/test.py --num-frames')
    parser.add_argument('--batch-size', type=positive_int, default=8)
    parser.add_argument('--bn-passes', type=positive_int,
                        help="BatchNorm-statistics passes (default: the config's)")
    parser.add_argument('--seed', type=non_negative_int, default=0)
    parser.add_argument('--out', type=writable_file,
                        default='work_dirs/blur_over_time/blur_over_time.csv',
                        help='the CSV; the plot goes beside it (.png)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help="override the hierarchy config's keys, as tools/test.py "
                        '--cfg-options (say hierarchy.bn_batch_size=4)')
    return parser.parse_args(argv)


def weighted_mean(parts: List[Tuple[np.ndarray, int]]) -> np.ndarray:
    total = sum(n for _, n in parts)
    return sum(p * n for p, n in parts) / total


def generated_power(hierarchy: Hierarchy, args) -> Series:
    parts: Dict[int, list] = {}
    starts = range(0, args.num_samples, args.batch_size)
    for start in tqdm(starts, desc='generated', unit='batch'):
        num = min(args.batch_size, args.num_samples - start)
        outputs = hierarchy.sample(num, seed=args.seed, indices=range(start, start + num),
                                   num_frames=args.num_frames)
        for level, videos in enumerate(outputs):
            parts.setdefault(level, []).append(
                (high_frequency_power(quantize_videos(videos.cpu())), num))
    return {(level, 'generated'): weighted_mean(p) for level, p in parts.items()}


def real_power(hierarchy: Hierarchy, shapes, args) -> Series:
    """Real clips per level and, for upsampling levels, the level on their low-res view."""
    series: Series = {}
    for level, (_, frames, size, _) in enumerate(shapes):
        lowres = None
        if level:
            lowres = (hierarchy.levels[level].generator.temporal_factor, shapes[level - 1][-1])
        dataset = eval_dataset_cfg(hierarchy.configs[level], frames, size, lowres=lowres)
        real, upsampled = [], []
        batches = real_batches(dataset, args.num_samples, args.seed, args.batch_size)
        done = 0
        for batch in tqdm(batches, desc=f'level {level + 1} real clips', unit='batch'):
            video = batch['video']
            highres = video['highres'] if level else video
            real.append((high_frequency_power(highres), len(highres)))
            if level:
                inputs = video['lowres'].float() / 127.5 - 1
                labels = batch['label'] if hierarchy.num_classes else None
                out = hierarchy.upsample(level, inputs, labels, seed=args.seed,
                                         indices=range(done, done + len(inputs)))
                upsampled.append((high_frequency_power(quantize_videos(out.cpu())),
                                  len(inputs)))
            done += len(highres)
        series[(level, 'real')] = weighted_mean(real)
        if level:
            series[(level, 'on_real_input')] = weighted_mean(upsampled)
    return series


def write_csv(series: Series, path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['level', 'series', 'frame', 'hf_power', 'relative'])
        for (level, name), power in sorted(series.items()):
            for frame, (value, rel) in enumerate(zip(power, power / power.mean()), 1):
                writer.writerow([level + 1, name, frame, f'{value:.6g}', f'{rel:.4f}'])


def plot(series: Series, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    levels = sorted({level for level, _ in series})
    fig, axes = plt.subplots(1, len(levels), figsize=(4.5 * len(levels), 3.4), squeeze=False)
    styles = dict(real=('tab:blue', '-'), generated=('tab:orange', '-'),
                  on_real_input=('tab:green', '--'))
    for ax, level in zip(axes[0], levels):
        for name, (color, style) in styles.items():
            power = series.get((level, name))
            if power is not None:
                ax.plot(np.arange(1, len(power) + 1), power / power.mean(), style,
                        color=color, marker='.', label=name.replace('_', ' '))
        ax.axhline(1.0, color='grey', lw=0.5)
        ax.set_title(f'level {level + 1}')
        ax.set_xlabel('frame')
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel('high-frequency power / its mean over frames')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> None:
    args = parse_args(argv)
    hierarchy = Hierarchy.from_config(args.config, args.checkpoints,
                                      cfg_options=args.cfg_options, bn_passes=args.bn_passes)
    torch.manual_seed(args.seed)
    shapes = [tuple(out.shape[1:]) for out in
              hierarchy.sample(1, seed=args.seed, num_frames=args.num_frames)]
    series = generated_power(hierarchy, args)
    series.update(real_power(hierarchy, shapes, args))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_csv(series, args.out)
    figure = osp.splitext(args.out)[0] + '.png'
    plot(series, figure)
    print(f'{"level":>5}  {"series":<14} {"mean power":>10}  {"frame 1 / mean":>14}  '
          f'{"lowest frame":>12}  {"last / first":>12}')
    for (level, name), power in sorted(series.items()):
        rel = power / power.mean()
        print(f'{level + 1:>5}  {name:<14} {power.mean():>10.5f}  {rel[0]:>14.3f}  '
              f'{int(rel.argmin()) + 1:>5} ({rel.min():.3f})  {power[-1] / power[0]:>12.3f}')
    print(f'wrote {args.out}\nwrote {figure}')


if __name__ == '__main__':
    main()
