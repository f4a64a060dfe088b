"""Labelled, upscaled grids of sampled hierarchies: what ``tools/sample.py`` and
``tools/demo.py`` write for people to look at.

Generated clips are small (32x32 at level 1), so the grids are upscaled
(integer nearest factor, ``make_video_grid``), the levels shown side by side
carry a title each (frames and size), and a class-conditional model's grid has
one row per class, named. The per-sample files of ``tools/sample.py`` stay at
the model's resolution: they are data (for ``tools/analysis/compare_folders.py``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from hvg.utils.video_io import label_grid, make_video_grid, write_video
from .hierarchy import levels_side_by_side

GRID_PADDING = 2


def level_titles(outputs: Sequence[Tensor]) -> List[str]:
    """``'level 1: 12 x 32x32'`` per level: frames, then height x width."""
    return [f'level {i + 1}: {v.shape[2]} x {v.shape[-2]}x{v.shape[-1]}'
            for i, v in enumerate(outputs)]


def class_names_of(cfg, num_classes: int) -> List[str]:
    """The class names of a level's training config, without reading any video.

    From ``SampleClipsDataset`` (its clips), a ``classes`` list, or a classes
    file (one name per line, relative to ``data_root``) when it is on disk;
    otherwise (or when the count disagrees) ``'class 0'``, ``'class 1'``...
    """
    from hvg.datasets.kinetics import read_class_names
    from hvg.datasets.sample_clips import SAMPLE_CLIPS
    fallback = [f'class {k}' for k in range(num_classes)]
    dataset = ((cfg or {}).get('train_dataloader') or {}).get('dataset') or {}
    while 'dataset' in dataset:  # wrappers (RepeatDataset, ...)
        dataset = dataset['dataset']
    names = None
    classes = dataset.get('classes')
    if dataset.get('type') == 'SampleClipsDataset':
        names = list(dataset.get('clips') or SAMPLE_CLIPS)
    elif isinstance(classes, (list, tuple)):
        names = [str(c) for c in classes]
    elif isinstance(classes, str):
        root = dataset.get('data_root') or ''
        try:
            names = list(read_class_names(classes if osp.isabs(classes)
                                          else osp.join(root, classes)))
        except (OSError, ValueError):
            names = None
    return names if names is not None and len(names) == num_classes else fallback


def _by_class(videos: Tensor, labels: Sequence[int]) -> tuple:
    """``videos`` regrouped one row per class (label order), black tiles pad short rows.

    Returns ``(batch, ncol, row labels)``.
    """
    present = sorted(set(labels))
    rows = [[i for i, label in enumerate(labels) if label == c] for c in present]
    ncol = max(len(r) for r in rows)
    black = torch.full_like(videos[0], -1.0)
    tiles = [videos[r[k]] if k < len(r) else black for r in rows for k in range(ncol)]
    return torch.stack(tiles), ncol, present


def labelled_grids(outputs: Sequence[Tensor], labels: Optional[Sequence[int]] = None,
                   class_names: Optional[Sequence[str]] = None,
                   nrow: Optional[int] = None) -> Dict[str, np.ndarray]:
    """The final output and every level side by side, as labelled grid videos.

    Args:
        outputs: each level's ``(N, C, T, H, W)`` in [-1, 1], level 1 first.
        labels: the N samples' classes (a class-conditional model): one grid
            row per class, titled with ``class_names``; None: about square.
        class_names: a name per label (default ``'class k'``).
        nrow: tiles per row when there are no labels.

    Returns:
        ``{'hierarchy_final': (T, H, W, 3) uint8, 'levels_side_by_side': ...}``.
    """
    titles = level_titles(outputs)
    videos = {'hierarchy_final': outputs[-1].float().cpu(),
              'levels_side_by_side': levels_side_by_side(
                  [o.float().cpu() for o in outputs])}
    grids = {}
    for name, batch in videos.items():
        row_titles: List[str] = []
        ncol = nrow or int(np.ceil(np.sqrt(len(batch))))
        if labels is not None:
            batch, ncol, present = _by_class(batch, [int(x) for x in labels])
            row_titles = [class_names[c] if class_names else f'class {c}' for c in present]
        grid = make_video_grid(batch, nrow=ncol, padding=GRID_PADDING)
        nrows = -(-len(batch) // ncol)
        column = [titles[-1]] if name == 'hierarchy_final' else titles
        grids[name] = label_grid(grid, ncol, nrows, [column], row_titles,
                                 padding=GRID_PADDING)
    return grids


def write_grids(grids: Dict[str, np.ndarray], out_dir: str, fps: float) -> List[str]:
    """Each grid as MP4 and GIF, and a PNG of the side-by-side's first, middle and
    last frames (a still to open without a player). Returns the paths."""
    paths = []
    for name, frames in grids.items():
        for ext in ('mp4', 'gif'):
            paths.append(osp.abspath(osp.join(out_dir, f'{name}.{ext}')))
            write_video(paths[-1], frames, fps=fps)
    frames = grids['levels_side_by_side']
    still = np.concatenate([frames[i] for i in (0, len(frames) // 2, len(frames) - 1)], 0)
    paths.append(osp.abspath(osp.join(out_dir, 'levels_side_by_side.png')))
    Image.fromarray(still).save(paths[-1])
    return paths


def labelled_levels_video(outputs: Sequence[Tensor]) -> np.ndarray:
    """One sample's levels side by side (upscaled), each titled: ``(T, H, W, 3)`` uint8.

    ``outputs``: each level's ``(C, T, H, W)``.
    """
    tile = levels_side_by_side([o[None].float() for o in outputs])
    grid = make_video_grid(tile, nrow=1, padding=GRID_PADDING)
    return label_grid(grid, 1, 1, [level_titles([o[None] for o in outputs])],
                      padding=GRID_PADDING)


def frame_strip(video: Tensor, gap: int = 4) -> np.ndarray:
    """A video's frames in a row with black gaps, upscaled like the grids.

    ``video``: ``(C, T, H, W)`` in [-1, 1]; returns ``(H', W', 3)`` uint8.
    """
    frames = video.float().transpose(0, 1)[:, :, None]  # T videos of one frame
    return make_video_grid(frames, nrow=frames.shape[0], padding=gap)[0]
