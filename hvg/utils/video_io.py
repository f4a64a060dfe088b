"""Turn generated video tensors into files a person can watch (MP4, GIF).

Models speak ``(B, C, T, H, W)`` floats in ``[-1, 1]``; video files want
``(T, H, W, 3)`` uint8 RGB. This module does that conversion once, tiles a
batch into one grid video, and writes it with the ffmpeg binary that ships in
``imageio-ffmpeg`` (so no system ffmpeg is needed) or with Pillow for GIFs.
"""
import math
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

PathLike = Union[str, os.PathLike]


def video_to_uint8(videos: Tensor) -> np.ndarray:
    """Convert model outputs to displayable frames.

    Args:
        videos: ``(B, C, T, H, W)`` float in ``[-1, 1]``, ``C`` is 1 or 3.
            Values outside the range are clamped (generators overshoot).

    Returns:
        ``(B, T, H, W, 3)`` uint8 RGB; grayscale is repeated to 3 channels.
    """
    if videos.dim() != 5:
        raise ValueError('videos must be (B, C, T, H, W), got shape '
                         f'{tuple(videos.shape)}')
    channels = videos.shape[1]
    if channels == 1:
        videos = videos.expand(-1, 3, -1, -1, -1)
    elif channels != 3:
        raise ValueError(f'videos must have 1 or 3 channels, got {channels}')
    pixels = ((videos.detach().float().clamp(-1, 1) + 1) * 127.5).round()
    return pixels.to(torch.uint8).permute(0, 2, 3, 4, 1).cpu().numpy()


def make_video_grid(videos: Tensor,
                    nrow: Optional[int] = None,
                    padding: int = 2,
                    min_size: int = 128) -> np.ndarray:
    """Tile a batch of videos into one video, like ``torchvision``'s grid.

    Generated clips are often 32x32, which a player shows as a smudge, so
    each tile is upscaled by an integer nearest-neighbour factor (pixels stay
    crisp and honest) until its short side is at least ``min_size``.

    Args:
        videos: ``(B, C, T, H, W)`` float in ``[-1, 1]``.
        nrow: tiles per row; defaults to ``ceil(sqrt(B))`` (a near-square
            grid).
        padding: black pixels between tiles and around the border, counted
            after upscaling.
        min_size: smallest short side of a tile after upscaling; frames
            already that large are not resized.

    Returns:
        ``(T, H', W', 3)`` uint8 grid video.
    """
    frames = video_to_uint8(videos)  # (B, T, H, W, 3)
    batch, num_frames, height, width, _ = frames.shape
    scale = max(1, math.ceil(min_size / min(height, width)))
    if scale > 1:
        frames = frames.repeat(scale, axis=2).repeat(scale, axis=3)
        height, width = height * scale, width * scale

    ncol = nrow if nrow is not None else math.ceil(math.sqrt(batch))
    nrows = math.ceil(batch / ncol)
    grid = np.zeros(
        (num_frames, padding + nrows * (height + padding), padding + ncol *
         (width + padding), 3),
        dtype=np.uint8)
    for index in range(batch):
        row, col = divmod(index, ncol)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        grid[:, top:top + height, left:left + width] = frames[index]
    return grid


def label_grid(grid: np.ndarray, nrow: int, nrows: int,
               column_titles: Sequence[Sequence[str]] = (),
               row_titles: Sequence[str] = (), padding: int = 2,
               font_size: int = 11) -> np.ndarray:
    """Add titles above the columns and left of the rows of a ``make_video_grid``.

    A grid without words makes a reader guess which tile is which level or
    class. ``column_titles[c]`` holds the titles of tile column ``c``; several
    titles share the tile's width equally (a side-by-side tile of levels gets
    one title per level). The same list is reused for every column when only
    one is given.

    Args:
        grid: ``(T, H, W, 3)`` uint8, from ``make_video_grid(..., padding)``.
        nrow, nrows: tiles per row and rows of tiles in ``grid``.
        column_titles: titles per tile column (or one list for all).
        row_titles: one title per row of tiles.
        padding: the grid's padding.
        font_size: text height in pixels (Pillow's bundled font).

    Returns:
        ``(T, H + header, W + margin, 3)`` uint8: black bands with white text.
    """
    font = ImageFont.load_default(size=font_size)
    frames, height, width = grid.shape[:3]
    tile_w = (width - padding) // nrow - padding
    tile_h = (height - padding) // nrows - padding
    header = font_size + 6 if column_titles else 0
    margin = (max(int(font.getlength(t)) for t in row_titles) + 8) if row_titles else 0
    band = Image.new('RGB', (width + margin, height + header))
    draw = ImageDraw.Draw(band)
    if column_titles:
        columns = (list(column_titles) * nrow if len(column_titles) == 1
                   else list(column_titles))
        for col, titles in enumerate(columns[:nrow]):
            left = margin + padding + col * (tile_w + padding)
            part = tile_w / max(len(titles), 1)
            for k, title in enumerate(titles):
                centre = left + part * (k + 0.5)
                draw.text((centre, header / 2), title, fill='white', font=font,
                          anchor='mm')
    for row, title in enumerate(row_titles[:nrows]):
        centre = header + padding + row * (tile_h + padding) + tile_h / 2
        draw.text((margin - 4, centre), title, fill='white', font=font, anchor='rm')
    canvas = np.asarray(band).copy()
    out = np.repeat(canvas[None], frames, axis=0)
    out[:, header:, margin:] = grid
    return out


def _check_frames(frames: np.ndarray) -> None:
    if (frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8
            or len(frames) == 0):
        raise ValueError('frames must be a non-empty (T, H, W, 3) uint8 '
                         f'array, got {frames.dtype} {frames.shape}')


def write_mp4(path: PathLike, frames: np.ndarray, fps: float) -> None:
    """Write an H.264 MP4 that common players (browsers included) open.

    ``yuv420p`` is the pixel format players support, and it needs even
    height and width, so odd frames are padded by repeating their last
    row/column rather than letting ffmpeg rescale them.

    Args:
        path: output file; parent folders are created.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frames per second.
    """
    _check_frames(frames)
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(
            frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode='edge')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        str(path), (frames.shape[2], frames.shape[1]),
        fps=float(fps),
        codec='libx264',
        pix_fmt_out='yuv420p',
        macro_block_size=1)
    writer.send(None)  # start the ffmpeg process
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def write_gif(path: PathLike, frames: np.ndarray, fps: float) -> None:
    """Write a looping GIF (for READMEs and issue threads).

    GIF stores frame durations in 1/100 s, so the rate is approximate, and
    Pillow merges consecutive identical frames into one longer frame.

    Args:
        path: output file; parent folders are created.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frames per second.
    """
    _check_frames(frames)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0)


def write_video(path: PathLike, frames: np.ndarray, fps: float) -> None:
    """Write ``frames`` as MP4 or GIF, chosen by the suffix of ``path``.

    Args:
        path: output file ending in ``.mp4`` or ``.gif``.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frames per second.
    """
    suffix = Path(path).suffix.lower()
    if suffix == '.mp4':
        write_mp4(path, frames, fps)
    elif suffix == '.gif':
        write_gif(path, frames, fps)
    else:
        raise ValueError(
            f'cannot write video {path}: suffix must be .mp4 or .gif')
