"""MatchingDiscriminator and the DiscriminatorGroup of an upsampling level."""
import pytest
import torch

from hvg.models import DiscriminatorGroup, MatchingDiscriminator, TemporalDiscriminator
from hvg.models.layers import repeat_frames, resize_frames
from hvg.registry import MODELS

MATCHING = dict(type='MatchingDiscriminator', base_channels=2, channel_mults=(1, 2, 2))
SPATIAL = dict(type='SpatialDiscriminator', base_channels=2, channel_mults=(1, 2, 2),
               num_sampled_frames=3)
TEMPORAL = dict(type='TemporalDiscriminator', base_channels=2, channel_mults=(1, 2, 2))
B, T, T_IN, SIZE, IN_SIZE = 2, 6, 3, 32, 8


def build(cfg: dict = MATCHING, **overrides):
    """Eval mode: spectral norm runs no power iteration, so calls compare exactly."""
    return MODELS.build({**cfg, **overrides}).eval()


def videos():
    return torch.randn(B, 3, T, SIZE, SIZE), torch.randn(B, 3, T_IN, IN_SIZE, IN_SIZE)


def test_defaults_are_the_temporal_architecture_on_pairs():
    d = build()
    assert isinstance(d, TemporalDiscriminator)
    assert (d.in_channels, d.input_downsample) == (6, 1)
    assert d.blocks[0].conv1.in_channels == 6
    assert [block.dims for block in d.blocks] == [3, 3, 2]


def test_scores_one_per_high_res_frame():
    d = build()
    video, lowres = videos()
    scores = d(video, lowres=lowres)
    assert scores.shape == (B, T)
    assert torch.isfinite(scores).all()


def test_the_pair_is_repeated_lowres_then_downsampled_video():
    d = build()
    video, lowres = videos()
    pair = d.make_pair(video, lowres)
    assert pair.shape == (B, 6, T, IN_SIZE, IN_SIZE)
    # low-res first, repeated in time (nearest): frame j is low-res frame j // 2
    for j in range(T):
        assert torch.equal(pair[:, :3, j], lowres[:, :, j // 2])
    # then the paper's S: bilinear, antialiased, frame by frame
    expected = resize_frames(video, IN_SIZE, mode='bilinear', antialias=True)
    torch.testing.assert_close(pair[:, 3:], expected)
    torch.testing.assert_close(
        pair, torch.cat([repeat_frames(lowres, T), expected], dim=1))
    # a frame of constant colour t stays t: no mixing over time or channels
    constant = torch.arange(T * 3.).view(1, 3, T, 1, 1).expand(B, -1, -1, SIZE, SIZE)
    torch.testing.assert_close(d.make_pair(constant, lowres)[:, 3:],
                               constant[..., :IN_SIZE, :IN_SIZE])
    # the trunk scores exactly that pair
    torch.testing.assert_close(d(video, lowres=lowres),
                               TemporalDiscriminator.forward(d, pair))


def test_scores_depend_on_the_pairing():
    d = build()
    video, lowres = videos()
    other = torch.randn_like(lowres)
    assert (d(video, lowres=lowres) - d(video, lowres=other)).abs().max() > 1e-4
    torch.testing.assert_close(d(video, lowres=lowres), d(video, lowres=lowres))


@pytest.mark.parametrize('video_shape, lowres_shape, match', [
    ((B, 3, 7, SIZE, SIZE), (B, 3, T_IN, IN_SIZE, IN_SIZE), 'not a multiple'),
    ((B, 3, T, SIZE, SIZE), (B + 1, 3, T_IN, IN_SIZE, IN_SIZE), 'batch'),
    ((B, 6, T, SIZE, SIZE), (B, 3, T_IN, IN_SIZE, IN_SIZE), r'\(B, 3, T, H, W\)'),
    ((B, 3, T, SIZE, SIZE), (B, 3, IN_SIZE, IN_SIZE), r'\(B, 3, T, H, W\)'),
])
def test_mismatched_inputs_are_refused(video_shape, lowres_shape, match):
    with pytest.raises(ValueError, match=match):
        build()(torch.randn(*video_shape), lowres=torch.randn(*lowres_shape))


def test_class_conditional_matching_needs_labels():
    d = build(num_classes=4)
    video, lowres = videos()
    assert d(video, torch.tensor([0, 3]), lowres).shape == (B, T)
    with pytest.raises(ValueError, match='class-conditional'):
        d(video, lowres=lowres)


# --- group -----------------------------------------------------------------------
def test_group_concatenates_spatial_temporal_matching():
    group = build(dict(type='DiscriminatorGroup', spatial=SPATIAL, temporal=TEMPORAL,
                       matching=MATCHING))
    video, lowres = videos()
    scores = group(video, None, lowres=lowres)
    assert scores.shape == (B, 3 + T + T)
    # in that order: the matching scores are the last T, the temporal ones before
    torch.testing.assert_close(scores[:, -T:], group.matching(video, lowres=lowres))
    torch.testing.assert_close(scores[:, 3:3 + T], group.temporal(video))
    with pytest.raises(ValueError, match='lowres'):
        group(video)


def test_group_without_matching_ignores_lowres():
    group = build(dict(type='DiscriminatorGroup', temporal=TEMPORAL))
    video, lowres = videos()
    torch.testing.assert_close(group(video), group(video, None, lowres=lowres))
    assert group.matching is None


def test_group_of_only_a_matching_discriminator():
    group = DiscriminatorGroup(matching=MATCHING).eval()
    assert isinstance(group.matching, MatchingDiscriminator)
    assert group(*videos()[:1], lowres=videos()[1]).shape == (B, T)


def test_a_new_discriminator_kind_is_a_registered_class_and_a_config_line():
    """The group takes any named member with the one call signature."""
    from hvg.registry import MODELS

    @MODELS.register_module(force=True)
    class MeanFrameDiscriminator(torch.nn.Module):
        """A toy member: one score per frame, its mean intensity."""

        def forward(self, video, labels=None, lowres=None):
            return video.mean(dim=(1, 3, 4))

    group = build(dict(type='DiscriminatorGroup', temporal=TEMPORAL,
                       frame_mean=dict(type='MeanFrameDiscriminator')))
    video, lowres = videos()
    scores = group(video, None, lowres)
    assert group.names == ['temporal', 'frame_mean']
    assert scores.shape == (B, T + T)
    torch.testing.assert_close(scores[:, T:], video.mean(dim=(1, 3, 4)))
    assert group.matching is None
