"""Where in the frame an upsampling level gets its real inputs wrong.

    python tools/analysis/error_map.py work_dirs/demo/level2/iter_300.pth \
        [OTHER_LEVEL2.pth ...] --num-real 24 --out work_dirs/error_map

Each checkpoint (an upsampling level; its config comes from the checkpoint)
upsamples real low-res windows ``x_{l-1}`` of its own dataset (the evaluation
pipeline: centre crops, every ``temporal_factor``-th frame bilinearly
downsampled, as in training), and its output is compared with the real
``x_l`` those windows came from, pixel by pixel: the mean absolute error
over the clips, frames and channels, in the [-1, 1] range. A level that
upsamples well makes a flat, low map; an artefact tied to a place in the
frame (a corner, an edge) shows as a bright patch, which a frame-averaged
metric (grounding, FVD) hides.

Printed and written to ``OUT/error_map.json``: per checkpoint the mean error,
the mean over each ``--corner`` x ``--corner`` corner, over the first and last
rows and columns and inside them; first, the same for a reference that
knows nothing: the real low-res windows upsampled bilinearly (frames
repeated), whose map is the data's own difficulty. ``OUT/error_map.png``
draws the maps side by side on one colour scale. Every clip has its own
noise (seed ``--seed * 1000003 + clip index``), so two checkpoints see the
same clips and the same noise. docs/quality.md ("The top-left spot") has the
demo's figures.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Tuple

import torch
from torch import Tensor

import hvg  # noqa: F401
from hvg.apis.real_clips import real_batches, training_pairs_cfg
from hvg.models.layers import repeat_frames, resize_frames
from hvg.models.level_loading import load_level_and_config
from hvg.utils.cli import non_negative_int, positive_int, tool_parser, writable_dir
from hvg.utils.config_checks import level_num_classes

CORNERS = ('top_left', 'top_right', 'bottom_left', 'bottom_right')
EDGES = ('first_row', 'last_row', 'first_column', 'last_column', 'interior')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Per-pixel error of upsampling levels on real inputs')
    parser.add_argument('checkpoints', nargs='+', help='upsampling-level checkpoints')
    parser.add_argument('--num-real', type=positive_int, default=24,
                        help='real windows to upsample')
    parser.add_argument('--corner', type=positive_int, default=6,
                        help='side of the corner squares reported, in output pixels')
    parser.add_argument('--seed', type=non_negative_int, default=0)
    parser.add_argument('--batch-size', type=positive_int, default=8)
    parser.add_argument('--out', type=writable_dir, default='work_dirs/error_map',
                        help='folder for error_map.json and error_map.png')
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        if not osp.isfile(path):
            parser.error(f'checkpoint not found: {path}')
    return args


def error_map(fake: Tensor, real: Tensor) -> Tensor:
    """Mean absolute error per pixel: (N, C, T, H, W) twice -> (H, W)."""
    if fake.shape != real.shape:
        raise ValueError(f'fake {tuple(fake.shape)} and real {tuple(real.shape)} differ')
    return (fake.float() - real.float()).abs().mean(dim=(0, 1, 2))


def region_means(errors: Tensor, side: int) -> Dict[str, float]:
    """The map's mean, its mean over each ``side`` x ``side`` corner, over its
    first and last rows and columns, and inside them."""
    if not 0 < side <= min(errors.shape) // 2:
        raise ValueError(f'corner side {side} must be in [1, {min(errors.shape) // 2}]')
    s = side
    squares = (errors[:s, :s], errors[:s, -s:], errors[-s:, :s], errors[-s:, -s:])
    edges = (errors[0], errors[-1], errors[:, 0], errors[:, -1], errors[1:-1, 1:-1])
    return dict(mean=errors.mean().item(),
                **{name: sq.mean().item() for name, sq in zip(CORNERS, squares)},
                **{name: e.mean().item() for name, e in zip(EDGES, edges)})


def bilinear_upsampling(lowres: Tensor, factor: int, size: int) -> Tensor:
    """The reference upsampler: frames repeated ``factor`` times, bilinear in space."""
    return resize_frames(repeat_frames(lowres, lowres.shape[2] * factor), size,
                         mode='bilinear')


def level_error_maps(path: str, args) -> Tuple[Tensor, Tensor]:
    """``(the level's map, the bilinear reference's)`` on ``args.num_real`` real
    windows of the level's dataset: the same windows for both."""
    level, cfg = load_level_and_config(path, what='upsampling level')
    if cfg.model.type != 'UpsamplingLevelGAN':
        raise SystemExit(f'error: {path} is a {cfg.model.type}, not an upsampling '
                         'level (this tool upsamples real low-res windows)')
    gen = cfg.model.generator
    dataset = training_pairs_cfg(cfg)
    factor = gen.get('temporal_factor', 2)
    conditional = level_num_classes(cfg.model) > 0
    totals, count = [0.0, 0.0], 0
    for batch in real_batches(dataset, args.num_real, args.seed, args.batch_size):
        lowres = batch['video']['lowres'].float() / 127.5 - 1
        highres = batch['video']['highres'].float() / 127.5 - 1
        seeds = [args.seed * 1000003 + int(i) for i in batch['index']]
        fake = level.sample(lowres, labels=batch['label'] if conditional else None,
                            seed=seeds)
        reference = bilinear_upsampling(lowres, factor, gen.out_size)
        n = len(seeds)
        totals = [t + error_map(v, highres) * n for t, v in zip(totals, (fake, reference))]
        count += n
    return totals[0] / count, totals[1] / count


def plot(maps: List[Tensor], names: List[str], stats: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    top = max(m.max().item() for m in maps)
    fig, axes = plt.subplots(1, len(maps), figsize=(3.4 * len(maps) + 0.8, 3.6),
                             squeeze=False)
    for ax, m, name, s in zip(axes[0], maps, names, stats):
        image = ax.imshow(m.numpy(), cmap='magma', vmin=0, vmax=top)
        ax.set_title(f'{name}\nmean {s["mean"]:.3f}, top-left {s["top_left"]:.3f}',
                     fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8,
                 label='mean |output - real| ([-1, 1] range)')
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(name: str, values: dict, side: int) -> None:
    print(f'{name}: mean {values["mean"]:.3f}; corners ({side} px) '
          + ', '.join(f'{c} {values[c]:.3f}' for c in CORNERS) + '; edges '
          + ', '.join(f'{e} {values[e]:.3f}' for e in EDGES), flush=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    maps, stats, names = [], [], []
    for path in args.checkpoints:
        errors, reference = level_error_maps(path, args)
        if not maps:  # the reference, on the first checkpoint's real windows
            values = region_means(reference, args.corner)
            report('bilinear upsampling (reference)', values, args.corner)
            maps.append(reference)
            stats.append(dict(checkpoint=None, upsampler='bilinear', **values))
            names.append('bilinear upsampling (reference)')
        values = region_means(errors, args.corner)
        report(path, values, args.corner)
        maps.append(errors)
        stats.append(dict(checkpoint=path, upsampler='level', **values))
        names.append(osp.join(osp.basename(osp.dirname(path)), osp.basename(path)))
    with open(osp.join(args.out, 'error_map.json'), 'w') as f:
        json.dump(dict(num_real=args.num_real, seed=args.seed, corner=args.corner,
                       levels=stats), f, indent=2)
    try:
        plot(maps, names, stats, osp.join(args.out, 'error_map.png'))
    except ImportError as error:  # matplotlib is optional: the JSON is the result
        print(f'no plot ({error}); pip install matplotlib')
    print(f'wrote {osp.join(args.out, "error_map.json")}')


if __name__ == '__main__':
    main()
