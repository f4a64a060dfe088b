"""Writes a grid of fixed-noise samples as GIF and MP4 while a level trains."""
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from hvg.registry import HOOKS
from hvg.models.gans.base_level_gan import unwrap
from hvg.utils.video_io import make_video_grid, write_video


@HOOKS.register_module()
class VideoSamplesHook(Hook):
    """Every ``interval`` iterations (and at the end), sample and save a grid.

    The noise (and, for class-conditional models, the labels: classes in
    turn) is fixed by ``seed``, so successive grids show the same samples
    improving. Files go to ``{work_dir}/{out_dir}/iter_{N:06d}.{gif,mp4}``, and
    the grid's middle frame to the runner's visualizer (every vis backend of
    the config: TensorBoard's Images tab with ``tools/train.py --vis-backends
    tensorboard``).
    What is shown is the level's ``preview``: samples for level 1, input
    beside output for an upsampling level. Sampling uses the model in eval
    mode (running BatchNorm statistics), as a user sampling the checkpoint
    would, then restores the training mode.

    Args:
        interval: iterations between grids; 0 writes only the final grid.
        num_samples: videos in the grid.
        nrow: videos per grid row (default: about square).
        noise_std: noise scale (appendix H: below 1 for prettier samples).
        fps: frame rate of the written files.
        formats: any of 'gif', 'mp4'.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, num_samples: int = 16,
                 nrow: Optional[int] = None, noise_std: float = 1.0, seed: int = 0,
                 fps: float = 8.0, out_dir: str = 'samples',
                 formats: Sequence[str] = ('gif', 'mp4')):
        unknown = set(formats) - {'gif', 'mp4'}
        if unknown:
            raise ValueError(f'unknown sample formats {sorted(unknown)}; use gif, mp4')
        self.interval = interval
        self.num_samples = num_samples
        self.nrow = nrow
        self.noise_std = noise_std
        self.seed = seed
        self.fps = fps
        self.out_dir = out_dir
        self.formats = tuple(formats)
        self._last_written = -1

    def _labels(self, model) -> Optional[torch.Tensor]:
        num_classes = getattr(unwrap(model.generator), 'num_classes', 0)
        if not num_classes:
            return None
        return torch.arange(self.num_samples) % num_classes

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.interval > 0 and self.every_n_train_iters(runner, self.interval):
            # runner.iter is incremented after the hooks: name files by iterations done
            self._write_at(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        self._write_at(runner, runner.iter)

    def _write_at(self, runner, iteration: int) -> None:
        if not is_main_process() or self._last_written == iteration:
            return
        model = unwrap(runner.model)
        was_training = model.training
        model.eval()
        try:
            videos = model.preview(self.num_samples, labels=self._labels(model),
                                   noise_std=self.noise_std, seed=self.seed)
        finally:
            model.train(was_training)
        grid = make_video_grid(videos.cpu(), nrow=self.nrow)
        stem = osp.join(runner.work_dir, self.out_dir, f'iter_{iteration:06d}')
        paths = [f'{stem}.{fmt}' for fmt in self.formats]
        for path in paths:
            write_video(path, grid, self.fps)
        self._last_written = iteration
        # the middle frame of the grid to every vis backend (LocalVisBackend:
        # vis_data/vis_image/; TensorBoard: the Images tab), beside the scalars
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is not None:
            visualizer.add_image(self.out_dir, grid[len(grid) // 2], step=iteration)
        print_log(f'Samples after {iteration} iterations: {", ".join(paths)}',
                  logger='current')
