"""Write a config's real training clips as videos, to check its data pipeline.

    python tools/analysis/browse_dataset.py configs/hvg/demo_l2_clips.py \
        --num-clips 6 --out work_dirs/browse

The clips go through the config's own ``train_pipeline`` (random windows,
crops and flips included), as the model sees them. For an upsampling level
each clip is the training pair: ``x_{l-1}`` (upscaled, nearest, in space
and time) beside ``x_l``, so a misaligned ``LowResView`` shows as a pair
that does not match. Writes ``clips.mp4`` and ``clips.gif`` (a labelled grid,
one clip per row, titled with its class) and ``clips.png`` (the first,
middle and last frames of the grid).
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.registry import init_default_scope
from PIL import Image

import hvg.datasets  # noqa: F401 (registers)
from hvg.apis.hierarchy import levels_side_by_side
from hvg.registry import DATASETS
from hvg.utils.cli import (DictAction, load_config, non_negative_int, positive_float,
                           positive_int, tool_parser, writable_dir)
from hvg.utils.video_io import label_grid, make_video_grid, write_video


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='level config')
    parser.add_argument('--num-clips', type=positive_int, default=6)
    parser.add_argument('--fps', type=positive_float, default=6.0)
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='seeds the random windows')
    parser.add_argument('--out', default='work_dirs/browse_dataset', type=writable_dir,
                        help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. '
                        'train_dataloader.dataset.data_root=data/kinetics600')
    return parser.parse_args(argv)


def to_float(video: torch.Tensor) -> torch.Tensor:
    return video.float() / 127.5 - 1


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    os.makedirs(args.out, exist_ok=True)
    init_default_scope('hvg')
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    try:
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    classes = (dataset.metainfo or {}).get('classes')
    tiles, titles = [], []
    for index in range(min(args.num_clips, len(dataset))):
        item = dataset[index]
        inputs, label = item['inputs'], item['data_samples'].get('label', -1)
        if isinstance(inputs, dict):  # (x_l, x_{l-1}) pairs
            tiles.append(levels_side_by_side([to_float(inputs['lowres'])[None],
                                              to_float(inputs['highres'])[None]])[0])
        else:
            tiles.append(to_float(inputs))
        titles.append(classes[label] if classes and label >= 0 else f'clip {index}')
    pairs = isinstance(inputs, dict)
    # one clip per row, titled with its class
    grid = make_video_grid(torch.stack(tiles), nrow=1)
    column = ['x_{l-1}', 'x_l'] if pairs else ['clip']
    frames = label_grid(grid, 1, len(tiles), [column], titles)
    for ext in ('mp4', 'gif'):
        write_video(osp.join(args.out, f'clips.{ext}'), frames, args.fps)
    still = np.concatenate([frames[i] for i in (0, len(frames) // 2, len(frames) - 1)], 0)
    Image.fromarray(still).save(osp.join(args.out, 'clips.png'))
    shape = 'x'.join(map(str, tiles[0].shape[1:]))
    print(f'wrote {len(tiles)} {"pairs" if pairs else "clips"} ({shape} per tile) to '
          f'{osp.abspath(args.out)}/clips.{{mp4,gif,png}}')


if __name__ == '__main__':
    main()
