"""The FVD protocol: uint8 quantisation, TF-legacy bilinear resize, [-1, 1]."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hvg.evaluation import i3d_input, quantize_videos
from hvg.evaluation.protocol import as_uint8_bcthw, resize_tf_legacy


def tf_legacy_reference(image: np.ndarray, size: int) -> np.ndarray:
    """TF1 resize_bilinear(align_corners=False) written out pixel by pixel."""
    in_h, in_w = image.shape
    out = np.zeros((size, size), np.float64)
    for y in range(size):
        sy = y * in_h / size
        y0, fy = math.floor(sy), sy - math.floor(sy)
        y1 = min(y0 + 1, in_h - 1)
        for x in range(size):
            sx = x * in_w / size
            x0, fx = math.floor(sx), sx - math.floor(sx)
            x1 = min(x0 + 1, in_w - 1)
            top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
            bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
            out[y, x] = top * (1 - fy) + bottom * fy
    return out


@pytest.mark.parametrize('shape', [(5, 7), (20, 30), (12, 12)])
def test_tf_legacy_resize_matches_the_definition(shape):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=shape).astype(np.float32)
    ours = resize_tf_legacy(torch.from_numpy(image)[None, None], 12)[0, 0].numpy()
    np.testing.assert_allclose(ours, tf_legacy_reference(image, 12), atol=1e-3)


def test_legacy_and_half_pixel_differ_but_agree_at_224():
    video = torch.randint(0, 256, (1, 3, 2, 16, 16), dtype=torch.uint8)
    legacy = i3d_input(video, 'tf_legacy', size=40)
    half = i3d_input(video, 'half_pixel', size=40)
    flat = video.permute(0, 2, 1, 3, 4).reshape(2, 3, 16, 16).float()
    expected = F.interpolate(flat, size=(40, 40), mode='bilinear', align_corners=False)
    torch.testing.assert_close(half[0].permute(1, 0, 2, 3), expected / 127.5 - 1)
    assert (legacy - half).abs().max() > 0.01  # the legacy grid is shifted
    # the legacy grid starts at the first pixel exactly
    torch.testing.assert_close(legacy[..., 0, 0], video[..., 0, 0].float() / 127.5 - 1)
    native = torch.randint(0, 256, (1, 3, 2, 24, 24), dtype=torch.uint8)
    assert torch.equal(i3d_input(native, 'tf_legacy', 24), i3d_input(native, 'half_pixel', 24))


def test_i3d_input_range_and_layout():
    video = torch.tensor([0, 255], dtype=torch.uint8).repeat(1, 3, 4, 4, 4)[..., :4]
    out = i3d_input(video, size=8)
    assert out.shape == (1, 3, 4, 8, 8) and out.min() == -1 and out.max() == 1
    with pytest.raises(ValueError, match='quantize_videos'):
        i3d_input(video.float())
    with pytest.raises(ValueError, match='resize must be one of'):
        i3d_input(video, resize='nearest')


def test_quantize_rounds_like_written_videos():
    videos = torch.tensor([-1.5, -1.0, 0.0, 0.999, 1.0]).reshape(1, 1, 1, 1, 5)
    assert quantize_videos(videos).flatten().tolist() == [0, 0, 128, 255, 255]
    array = np.zeros((2, 4, 8, 8, 3), np.uint8)
    assert as_uint8_bcthw(array).shape == (2, 3, 4, 8, 8)
    with pytest.raises(ValueError, match='uint8'):
        as_uint8_bcthw(array.astype(np.float32))
