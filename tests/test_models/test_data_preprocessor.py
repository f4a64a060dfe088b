"""VideoDataPreprocessor: uint8 (B, C, T, H, W) -> float [-1, 1], nothing guessed."""
import pytest
import torch

from hvg.registry import MODELS


@pytest.fixture
def preprocessor():
    return MODELS.build(dict(type='VideoDataPreprocessor'))


def test_maps_0_to_minus_1_and_255_to_1_exactly(preprocessor):
    video = torch.zeros(1, 3, 2, 2, 2, dtype=torch.uint8)
    video[:, :, 1] = 255
    out = preprocessor(dict(inputs=video))['inputs']
    assert out.dtype == torch.float32
    assert torch.equal(out[:, :, 0], torch.full_like(out[:, :, 0], -1.0))
    assert torch.equal(out[:, :, 1], torch.full_like(out[:, :, 1], 1.0))


def test_every_value_maps_linearly(preprocessor):
    values = torch.arange(256, dtype=torch.uint8).view(1, 1, 1, 16, 16)
    out = preprocessor(dict(inputs=values))['inputs']
    expected = torch.arange(256, dtype=torch.float64) / 127.5 - 1
    torch.testing.assert_close(out.flatten().double(), expected, atol=1e-6, rtol=0)
    assert (out.flatten().diff() > 0).all()


@pytest.mark.parametrize('training', [False, True])
def test_keeps_the_layout(preprocessor, training):
    """(B, C, T, H, W) with all sizes distinct: no axis is moved."""
    video = torch.randint(0, 256, (2, 3, 4, 5, 6), dtype=torch.uint8)
    out = preprocessor(dict(inputs=video), training)['inputs']
    assert out.shape == (2, 3, 4, 5, 6)
    torch.testing.assert_close(out, video.float() / 127.5 - 1)


def test_accepts_grey_videos(preprocessor):
    video = torch.full((2, 1, 3, 4, 4), 255, dtype=torch.uint8)
    out = preprocessor(dict(inputs=video))['inputs']
    assert out.shape == (2, 1, 3, 4, 4)
    assert (out == 1).all()


def test_passes_data_samples_through(preprocessor):
    labels = torch.tensor([3, 1])
    data = dict(inputs=torch.zeros(2, 3, 2, 4, 4, dtype=torch.uint8),
                data_samples=dict(label=labels))
    out = preprocessor(data, True)
    assert torch.equal(out['data_samples']['label'], labels)
    assert preprocessor(dict(inputs=data['inputs']))['data_samples'] is None


def test_converts_every_view_of_a_dict_input(preprocessor):
    low = torch.zeros(2, 3, 3, 8, 8, dtype=torch.uint8)
    high = torch.full((2, 3, 6, 16, 16), 255, dtype=torch.uint8)
    out = preprocessor(dict(inputs=dict(low=low, high=high)))['inputs']
    assert set(out) == {'low', 'high'}
    assert out['low'].shape == (2, 3, 3, 8, 8) and (out['low'] == -1).all()
    assert out['high'].shape == (2, 3, 6, 16, 16) and (out['high'] == 1).all()


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.int64])
def test_rejects_non_uint8_input(preprocessor, dtype):
    video = torch.zeros(2, 3, 2, 4, 4, dtype=dtype)
    with pytest.raises(TypeError, match='expected a uint8 video batch'):
        preprocessor(dict(inputs=video))


def test_rejects_non_uint8_view_of_a_dict_input(preprocessor):
    views = dict(low=torch.zeros(1, 3, 2, 4, 4, dtype=torch.uint8),
                 high=torch.zeros(1, 3, 2, 4, 4))
    with pytest.raises(TypeError, match='uint8'):
        preprocessor(dict(inputs=views))


@pytest.mark.parametrize('shape', [(3, 2, 4, 4), (2, 3, 2, 4, 4, 1), (2, 2, 4, 4, 3),
                                   (2, 4, 3, 4, 4)],
                         ids=['4d', '6d', 'two-channels', 'four-channels'])
def test_rejects_wrong_shapes(preprocessor, shape):
    with pytest.raises(ValueError, match=r'expected a video batch \(B, C, T, H, W\)'):
        preprocessor(dict(inputs=torch.zeros(shape, dtype=torch.uint8)))
