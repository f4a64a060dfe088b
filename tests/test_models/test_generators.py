"""Level1Generator: shapes and range, config checks, labels and noise."""
import pytest
import torch

from hvg.models import Level1Generator
from hvg.registry import MODELS

NOISE_DIM = 8
NUM_FRAMES = 3

CONDITIONAL_32 = dict(type='Level1Generator', num_frames=NUM_FRAMES, out_size=32,
                      base_channels=2, channel_mults=(2, 2, 1, 1),
                      noise_dim=NOISE_DIM, num_classes=5, class_embed_dim=4)
UNCONDITIONAL_64 = dict(type='Level1Generator', num_frames=NUM_FRAMES, out_size=64,
                        base_channels=2, channel_mults=(2, 2, 2, 1, 1),
                        noise_dim=NOISE_DIM, num_classes=0)


def build(cfg: dict, **overrides) -> Level1Generator:
    return MODELS.build({**cfg, **overrides})


def labels_for(generator: Level1Generator, batch_size: int):
    if generator.num_classes == 0:
        return None
    return torch.arange(batch_size) % generator.num_classes


@pytest.mark.parametrize('cfg', [CONDITIONAL_32, UNCONDITIONAL_64],
                         ids=['conditional-32x32-4units', 'unconditional-64x64-5units'])
def test_output_is_a_video_in_range(cfg):
    generator = build(cfg)
    assert len(generator.grus) == len(cfg['channel_mults'])
    noise = torch.randn(2, NOISE_DIM)
    video = generator(noise, labels_for(generator, 2))
    size = cfg['out_size']
    assert video.shape == (2, 3, NUM_FRAMES, size, size)
    assert torch.isfinite(video).all()
    assert video.min() >= -1 and video.max() <= 1
    # not a constant image, and not one image repeated over time
    assert video.std() > 0
    assert not torch.allclose(video[:, :, 0], video[:, :, 1])


def test_eval_mode_generates_the_same_shape():
    generator = build(CONDITIONAL_32).eval()
    video = generator(torch.randn(1, NOISE_DIM), torch.tensor([3]))
    assert video.shape == (1, 3, NUM_FRAMES, 32, 32)
    assert video.abs().max() <= 1


@pytest.mark.parametrize('out_size, channel_mults', [(64, (2, 2, 1, 1)),
                                                     (32, (2, 2, 2, 1, 1))])
def test_out_size_must_match_the_number_of_units(out_size, channel_mults):
    with pytest.raises(ValueError, match=f'out_size={out_size}'):
        build(CONDITIONAL_32, out_size=out_size, channel_mults=channel_mults)


def test_conditional_generator_needs_labels():
    generator = build(CONDITIONAL_32)
    with pytest.raises(ValueError, match='class-conditional'):
        generator(torch.randn(2, NOISE_DIM))


def test_unconditional_generator_refuses_labels():
    generator = build(UNCONDITIONAL_64)
    with pytest.raises(ValueError, match='unconditional'):
        generator(torch.randn(2, NOISE_DIM), torch.tensor([0, 1]))


def test_labels_change_the_video_for_the_same_noise():
    generator = build(CONDITIONAL_32)
    noise = torch.randn(1, NOISE_DIM).expand(2, -1)
    different = generator(noise, torch.tensor([0, 1]))
    assert (different[0] - different[1]).abs().max() > 1e-3
    # control: with the same label the two samples coincide
    same = generator(noise, torch.tensor([1, 1]))
    torch.testing.assert_close(same[0], same[1])
    # also in eval mode, where samples do not share batch statistics
    generator.eval()
    a = generator(noise[:1], torch.tensor([0]))
    b = generator(noise[:1], torch.tensor([1]))
    assert (a - b).abs().max() > 1e-3


def test_noise_changes_the_video():
    generator = build(UNCONDITIONAL_64).eval()
    a = generator(torch.randn(1, NOISE_DIM))
    b = generator(torch.randn(1, NOISE_DIM))
    assert (a - b).abs().max() > 1e-3


@pytest.mark.parametrize('shape', [(2, NOISE_DIM + 1), (2, NOISE_DIM, 1), (NOISE_DIM, )])
def test_noise_must_be_batch_by_noise_dim(shape):
    generator = build(CONDITIONAL_32)
    with pytest.raises(ValueError, match=f'noise must be \\(B, {NOISE_DIM}\\)'):
        generator(torch.randn(shape), torch.tensor([0, 1]))


@pytest.mark.parametrize('mode', ['reflect', 'replicate'])
def test_padding_mode_pads_every_3x3_conv_of_level1(mode):
    """ConvGRU, blocks and output convolution: all of them, or the edges of
    the frame would still see a border of zeros somewhere."""
    generator = build(CONDITIONAL_32, padding_mode=mode)
    padded = [m for m in generator.modules()
              if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    # per unit: 2 ConvGRU convs + 2 blocks x 2 convs; plus the output conv
    assert len(padded) == 6 * len(CONDITIONAL_32['channel_mults']) + 1
    assert all(m.padding_mode == mode for m in padded)
    video = generator(torch.randn(2, NOISE_DIM), labels_for(generator, 2))
    assert video.shape == (2, 3, NUM_FRAMES, 32, 32) and torch.isfinite(video).all()
    assert all(m.padding_mode == 'zeros' for m in build(CONDITIONAL_32).modules()
               if isinstance(m, torch.nn.Conv2d))


def test_unknown_padding_mode_is_refused():
    with pytest.raises(ValueError, match='padding_mode must be one of'):
        build(CONDITIONAL_32, padding_mode='circular')
