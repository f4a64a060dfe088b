"""UpsamplingGenerator and its pieces: separable 3D blocks, low-res residuals, resampling."""
import pytest
import torch

from hvg.models import UpsamplingGenerator
from hvg.models.layers import (GenResBlock3dSeparable, SeparableConv3d, repeat_frames,
                               resize_frames)
from hvg.registry import MODELS

NOISE_DIM = 8
IN_FRAMES, FACTOR = 3, 2
OUT_FRAMES = IN_FRAMES * FACTOR
IN_SIZE, OUT_SIZE = 8, 32

# 4 units: 4 -> 8 -> 16 -> 32, the last one without upsampling
CONDITIONAL = dict(type='UpsamplingGenerator', num_frames=OUT_FRAMES, out_size=OUT_SIZE,
                   in_size=IN_SIZE, temporal_factor=FACTOR, base_channels=2,
                   channel_mults=(2, 2, 1, 1), noise_dim=NOISE_DIM, num_classes=5,
                   class_embed_dim=4)
UNCONDITIONAL = {**CONDITIONAL, 'num_classes': 0}
# (3D, 2D, 2D) per unit; the first 2D block of every unit but the last upsamples
BLOCK_RESOLUTIONS = [4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32]


def build(cfg: dict = CONDITIONAL, **overrides) -> UpsamplingGenerator:
    return MODELS.build({**cfg, **overrides})


def labels_for(generator: UpsamplingGenerator, batch_size: int):
    if generator.num_classes == 0:
        return None
    return torch.arange(batch_size) % generator.num_classes


def lowres_video(batch: int = 2, frames: int = IN_FRAMES, size: int = IN_SIZE):
    return torch.rand(batch, 3, frames, size, size) * 2 - 1


# --- resampling helpers --------------------------------------------------------
def test_repeat_frames_is_nearest_in_time():
    video = torch.arange(3.).view(1, 1, 3, 1, 1).expand(2, 3, -1, 2, 2)
    repeated = repeat_frames(video, 6)
    assert repeated.shape == (2, 3, 6, 2, 2)
    for j in range(6):
        assert torch.equal(repeated[:, :, j], video[:, :, j // 2])
    assert repeat_frames(video, 3) is video


def test_resize_frames_nearest_downsampling_picks_pixels():
    video = torch.randn(2, 3, 4, 8, 8)
    small = resize_frames(video, 4, mode='nearest')
    assert small.shape == (2, 3, 4, 4, 4)
    torch.testing.assert_close(small, video[..., ::2, ::2], rtol=0, atol=0)
    # layout-agnostic: frames-major input gives the same frames
    torch.testing.assert_close(
        resize_frames(video.transpose(1, 2), 4, mode='nearest'), small.transpose(1, 2))


# --- separable 3D block -------------------------------------------------------
def frames_changed(before: torch.Tensor, after: torch.Tensor):
    """Indices t of the frames-major outputs (B, T, ...) that differ."""
    diff = (before - after).abs().flatten(2).amax(dim=(0, 2))
    return [t for t, d in enumerate(diff.tolist()) if d > 1e-6]


def test_separable_conv_is_temporal_then_spatial():
    conv = SeparableConv3d(2, 3, use_spectral_norm=False)
    assert conv.temporal.kernel_size == (3, 1, 1)
    assert conv.spatial.kernel_size == (3, 3)
    x = torch.randn(2, 7, 2, 5, 5)
    y = conv(x)
    assert y.shape == (2, 7, 3, 5, 5)
    changed = x.clone()
    changed[:, 3] += 1
    # one temporal kernel of size 3: the neighbours only
    assert frames_changed(y, conv(changed)) == [2, 3, 4]
    # zero 'same' padding in time: the first frame only sees frames 0 and 1
    changed = x.clone()
    changed[:, 0] += 1
    assert frames_changed(y, conv(changed)) == [0, 1]


def test_separable_block_shapes_and_temporal_receptive_field():
    block = GenResBlock3dSeparable(3, 4, num_frames=7, cond_dim=5).eval()
    cond = torch.randn(2, 5)
    x = torch.randn(2, 7, 3, 6, 6)
    y = block(x, cond)
    assert y.shape == (2, 7, 4, 6, 6)
    assert block.shortcut is not None
    assert GenResBlock3dSeparable(4, 4, 7, 5).shortcut is None
    changed = x.clone()
    changed[:, 3] += 1
    # two separable convs of temporal kernel 3: two frames on either side
    assert frames_changed(y, block(changed, cond)) == [1, 2, 3, 4, 5]


# --- generator ------------------------------------------------------------------
@pytest.mark.parametrize('cfg', [CONDITIONAL, UNCONDITIONAL],
                         ids=['conditional', 'unconditional'])
def test_output_is_an_upsampled_video_in_range(cfg):
    generator = build(cfg)
    assert (generator.num_frames, generator.in_size, generator.out_size,
            generator.temporal_factor) == (OUT_FRAMES, IN_SIZE, OUT_SIZE, FACTOR)
    video = generator(torch.randn(2, NOISE_DIM), lowres_video(),
                      labels_for(generator, 2))
    assert video.shape == (2, 3, OUT_FRAMES, OUT_SIZE, OUT_SIZE)
    assert torch.isfinite(video).all()
    assert video.min() >= -1 and video.max() <= 1
    assert video.std() > 0
    assert not torch.allclose(video[:, :, 0], video[:, :, 1])


def test_residuals_exactly_at_resolutions_up_to_the_input_size():
    generator = build()
    slots = generator.slots
    assert [slot.resolution for slot in slots] == BLOCK_RESOLUTIONS
    assert generator.residual_resolutions == [4, 8, 8, 8]
    for slot in slots:
        assert (slot.residual is not None) == (slot.resolution <= IN_SIZE)
    # the declared resolutions are those the blocks really output
    seen = []
    hooks = [slot.block.register_forward_hook(
        lambda m, i, out: seen.append(out.shape[-1])) for slot in slots]
    generator(torch.randn(2, NOISE_DIM), lowres_video(), labels_for(generator, 2))
    for hook in hooks:
        hook.remove()
    assert seen == BLOCK_RESOLUTIONS
    # with a larger input, more blocks are conditioned
    assert build(in_size=16).residual_resolutions == [4, 8, 8, 8, 16, 16, 16]


def cell_pixels(video: torch.Tensor, resolution: int, mode: str) -> torch.Tensor:
    """(..., H, W) -> (..., r, r): each r-grid cell's top-left pixel, or its mean."""
    k = video.shape[-1] // resolution
    cells = video.unflatten(-1, (resolution, k)).unflatten(-3, (resolution, k))
    # (..., r, k, r, k): cell (i, j) is [..., i, :, j, :]
    return cells[..., 0, :, 0] if mode == 'nearest' else cells.mean(dim=(-3, -1))


@pytest.mark.parametrize('mode', ['nearest', 'area'])
def test_residuals_see_the_resized_repeated_lowres(mode):
    generator = build(residual_resize=mode).eval()
    lowres = lowres_video()
    inputs = {}

    def record(key):
        def hook(module, args, out):
            inputs[key] = args[0]
        return hook

    hooks = [slot.residual.register_forward_hook(record((k, slot.resolution)))
             for k, slot in enumerate(generator.slots) if slot.residual is not None]
    generator(torch.randn(2, NOISE_DIM), lowres, labels_for(generator, 2))
    for hook in hooks:
        hook.remove()
    assert len(inputs) == 4
    repeated = repeat_frames(lowres, OUT_FRAMES)
    for (_, resolution), seen in inputs.items():
        # per_frame folds (B, T) into the batch: (B * T, C, r, r)
        expected = cell_pixels(repeated, resolution, mode).transpose(1, 2)
        torch.testing.assert_close(seen, expected.reshape(-1, 3, resolution, resolution))


def test_area_residuals_weigh_the_corner_pixel_like_any_other():
    """Nearest: the top-left location of every residual is the corner pixel."""
    corner = torch.zeros(1, 3, IN_FRAMES, IN_SIZE, IN_SIZE)
    corner[..., 0, 0] = 1
    for mode, expected in [('nearest', 1.0), ('area', (4 / IN_SIZE)**2)]:
        generator = build(residual_resize=mode)
        for slot in generator.slots:
            if slot.residual is not None and slot.resolution == 4:
                seen = resize_frames(corner, 4, mode=slot.resize)
                assert seen[..., 0, 0].max().item() == pytest.approx(expected)


@pytest.mark.parametrize('mode', ['reflect', 'replicate'])
def test_padding_mode_pads_every_spatial_conv_and_never_time(mode):
    generator = build(padding_mode=mode)
    convs = [m for m in generator.modules() if isinstance(m, torch.nn.Conv2d)]
    padded = [m for m in convs if m.kernel_size == (3, 3)]
    assert padded and all(m.padding_mode == mode for m in padded)
    assert all(m.padding_mode == 'zeros' for m in generator.modules()
               if isinstance(m, torch.nn.Conv3d))
    assert all(m.padding_mode == 'zeros' for m in build().modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d)))


@pytest.mark.parametrize('mode, flat_edges', [('zeros', False), ('reflect', True),
                                              ('replicate', True)])
def test_only_zero_padding_makes_a_border_out_of_a_flat_image(mode, flat_edges):
    """Why the option: a 3x3 conv of a flat image is flat up to its edges unless
    the padding brings in values the image does not have."""
    from hvg.models.layers.spectral import conv2d
    conv = conv2d(3, 4, use_spectral_norm=False, padding_mode=mode)
    with torch.no_grad():
        out = conv(torch.full((1, 3, 8, 8), 0.7))
    spread = (out - out[..., 4:5, 4:5]).abs().amax().item()
    assert (spread < 1e-6) == flat_edges


def test_lowres_flows_into_the_output_only_through_the_residuals():
    """Eval mode: spectral norm runs no power iteration, so calls compare exactly."""
    generator = build().eval()
    noise, labels = torch.randn(2, NOISE_DIM), torch.tensor([1, 2])
    first, second = lowres_video(), lowres_video()
    out = generator(noise, first, labels)
    assert (out - generator(noise, second, labels)).abs().max() > 1e-3
    torch.testing.assert_close(out, generator(noise, first, labels))
    # with every residual zeroed the generator ignores its input
    hooks = [slot.residual.register_forward_hook(lambda m, i, out: out * 0)
             for slot in generator.slots if slot.residual is not None]
    torch.testing.assert_close(generator(noise, first, labels),
                               generator(noise, second, labels))
    for hook in hooks:
        hook.remove()


def test_one_lowres_frame_only_reaches_nearby_output_frames():
    """Temporal locality: low-res frame 5 is output frames 10 and 11 (repeated);
    its residual after unit 0's 3D block is spread by unit 1's separable 3D block
    (radius 2), every other residual is added after the spatial-only 2D blocks."""
    generator = build(num_frames=24, out_size=8, in_size=8,
                      channel_mults=(1, 1)).eval()
    lowres = lowres_video(1, frames=12, size=8)
    noise, labels = torch.randn(1, NOISE_DIM), torch.tensor([0])
    out = generator(noise, lowres, labels)
    changed = lowres.clone()
    changed[:, :, 5] += 0.5
    diff = (out - generator(noise, changed, labels)).abs().amax(dim=(0, 1, 3, 4))
    affected = [t for t, d in enumerate(diff.tolist()) if d > 1e-6]
    assert affected == list(range(8, 14))


@pytest.mark.parametrize('shape', [
    (2, 3, IN_FRAMES + 1, IN_SIZE, IN_SIZE),   # wrong T_in
    (2, 3, OUT_FRAMES, IN_SIZE, IN_SIZE),      # already at the output length
    (2, 3, IN_FRAMES, 2 * IN_SIZE, 2 * IN_SIZE),  # wrong size
    (2, 1, IN_FRAMES, IN_SIZE, IN_SIZE),       # wrong channels
    (3, 3, IN_FRAMES, IN_SIZE, IN_SIZE),       # batch differs from the noise
    (2, 3, IN_SIZE, IN_SIZE),                  # not a video
])
def test_wrong_lowres_shape_is_refused(shape):
    generator = build()
    with pytest.raises(ValueError, match=r'lowres must be .*\(2, 3, 3, 8, 8\)'):
        generator(torch.randn(2, NOISE_DIM), torch.randn(*shape), torch.tensor([0, 1]))


@pytest.mark.parametrize('overrides, match', [
    (dict(out_size=64), 'out_size=64'),
    (dict(num_frames=7), 'multiple of temporal_factor'),
    (dict(in_size=2), 'in_size=2'),
    (dict(in_size=64), 'in_size=64'),
    (dict(residual_resize='bilinear'), "residual_resize must be 'nearest' or 'area'"),
    (dict(padding_mode='circular'), 'padding_mode must be one of'),
])
def test_inconsistent_configs_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        build(**overrides)


def test_conditional_generator_needs_labels():
    with pytest.raises(ValueError, match='class-conditional'):
        build()(torch.randn(2, NOISE_DIM), lowres_video())
