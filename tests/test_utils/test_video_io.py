"""Writing watchable videos: tensor -> uint8, grids, MP4 and GIF files."""
import decord
import numpy as np
import pytest
import torch
from PIL import Image
from video_fixtures import decode_frame_indices, synthetic_frames

from hvg.utils.video_io import (make_video_grid, video_to_uint8, write_gif,
                                write_mp4, write_video)


def test_video_to_uint8_range_and_layout():
    videos = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).view(1, 1, 5, 1, 1)
    frames = video_to_uint8(videos.expand(1, 3, 5, 2, 4))
    assert frames.dtype == np.uint8 and frames.shape == (1, 5, 2, 4, 3)
    assert frames[0, :, 0, 0, 0].tolist() == [0, 0, 128, 255, 255]
    # Grayscale is repeated, channels go last.
    rgb = video_to_uint8(torch.rand(2, 1, 3, 4, 5) * 2 - 1)
    assert rgb.shape == (2, 3, 4, 5, 3)
    assert np.all(rgb[..., 0] == rgb[..., 2])
    colour = torch.zeros(1, 3, 1, 1, 1)
    colour[0, 0] = 1
    assert video_to_uint8(colour)[0, 0, 0, 0].tolist() == [255, 128, 128]


@pytest.mark.parametrize('shape', [(1, 2, 3, 4, 4), (3, 4, 4, 4)])
def test_video_to_uint8_rejects_bad_shapes(shape):
    with pytest.raises(ValueError):
        video_to_uint8(torch.zeros(shape))


def test_grid_upscales_small_tiles_by_an_integer_factor():
    videos = torch.rand(4, 3, 5, 32, 32) * 2 - 1
    grid = make_video_grid(videos, padding=2)
    # 2x2 grid of 128x128 tiles (32 * 4) with 2-pixel padding.
    assert grid.shape == (5, 2 + 2 * 130, 2 + 2 * 130, 3)
    assert grid.dtype == np.uint8
    tiles = video_to_uint8(videos)
    # Tile 3 (row 1, col 1), nearest upscaling: each pixel a 4x4 block.
    tile = grid[:, 132:260, 132:260]
    np.testing.assert_array_equal(tile[:, ::4, ::4], tiles[3])
    np.testing.assert_array_equal(tile[:, 3::4, 3::4], tiles[3])
    assert np.all(grid[:, :2] == 0) and np.all(grid[:, 130:132] == 0)


def test_grid_layout_and_large_frames():
    videos = torch.zeros(3, 3, 2, 160, 200)
    assert make_video_grid(videos).shape == (2, 2 + 2 * 162, 2 + 2 * 202, 3)
    assert make_video_grid(videos, nrow=3, padding=0).shape == (2, 160, 600, 3)
    # Non-square: the short side reaches min_size (20 * 4 = 80 >= 64).
    small = make_video_grid(
        torch.zeros(1, 3, 2, 20, 30), min_size=64, padding=0)
    assert small.shape == (2, 80, 120, 3)


def test_mp4_reads_back_with_decord(tmp_path):
    # Odd sizes are padded to even. (Width 48 would trip a decord 0.6 bug
    # when reading back: widths 16, 24, 48, 72 fail to convert.)
    frames = synthetic_frames(20, 33, 45)
    path = tmp_path / 'nested' / 'dir' / 'clip.mp4'
    write_mp4(path, frames, fps=12)
    reader = decord.VideoReader(str(path))
    assert len(reader) == 20
    assert reader.get_avg_fps() == pytest.approx(12)
    decoded = reader.get_batch(list(range(20))).asnumpy()
    assert decoded.shape == (20, 34, 46, 3)
    assert decode_frame_indices(decoded) == list(range(20))
    error = np.abs(decoded[:, :33, :45].astype(int) - frames.astype(int))
    assert error.max() <= 8


def test_gif_loops_with_every_frame(tmp_path):
    frames = synthetic_frames(6, 16, 24)
    path = tmp_path / 'out' / 'clip.gif'
    write_gif(path, frames, fps=10)
    with Image.open(path) as gif:
        assert gif.n_frames == 6
        assert gif.info['loop'] == 0
        assert gif.info['duration'] == 100
        gif.seek(5)
        last = np.asarray(gif.convert('RGB'))
    assert decode_frame_indices(last[None]) == [5]


def test_write_video_dispatches_on_suffix(tmp_path):
    grid = make_video_grid(torch.rand(2, 3, 4, 8, 8) * 2 - 1, min_size=32)
    write_video(tmp_path / 'grid.mp4', grid, fps=8)
    write_video(tmp_path / 'grid.GIF', grid, fps=8)
    reader = decord.VideoReader(str(tmp_path / 'grid.mp4'))
    assert len(reader) == 4 and reader[0].shape == grid.shape[1:]
    with Image.open(tmp_path / 'grid.GIF') as gif:
        assert gif.n_frames == 4
    with pytest.raises(ValueError, match='.mp4 or .gif'):
        write_video(tmp_path / 'grid.avi', grid, fps=8)


def test_bad_frames_are_rejected(tmp_path):
    with pytest.raises(ValueError, match='uint8'):
        write_mp4(tmp_path / 'x.mp4', np.zeros((2, 8, 8, 3)), fps=8)


def test_label_grid_adds_titles_in_bands_around_the_grid():
    import numpy as np
    import torch

    from hvg.utils.video_io import label_grid, make_video_grid
    videos = torch.zeros(6, 3, 2, 8, 16)  # 2 rows x 3 columns of grey tiles
    grid = make_video_grid(videos, nrow=3, min_size=32)
    out = label_grid(grid, 3, 2, [['level 1', 'level 2']], ['bikes', 'carphone'])
    frames, height, width = grid.shape[:3]
    assert out.shape[0] == frames and out.shape[1] > height and out.shape[2] > width
    header, margin = out.shape[1] - height, out.shape[2] - width
    assert np.array_equal(out[:, header:, margin:], grid)  # the grid is untouched
    assert out[0, :header].max() > 200  # white text in the header band
    assert out[0, header:, :margin].max() > 200  # and in the row-title margin
    assert np.array_equal(out[0], out[-1])
    plain = label_grid(grid, 3, 2)
    assert np.array_equal(plain, grid)
