"""Minibatch standard deviation: the statistic, its groups, its discriminators."""
import pytest
import torch

from hvg.models.layers import MinibatchStd
from hvg.registry import MODELS

TEMPORAL = dict(type='TemporalDiscriminator', base_channels=2, channel_mults=(1, 2, 2),
                num_3d_blocks=2, input_downsample=2)
SPATIAL = dict(type='SpatialDiscriminator', base_channels=2, channel_mults=(1, 2, 2),
               num_sampled_frames=3)


def folded(video: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B * T, C, H, W), video-major, as frame_scores folds."""
    B, C, T, H, W = video.shape
    return video.transpose(1, 2).reshape(B * T, C, H, W)


def test_the_channel_is_the_mean_feature_std_over_the_group():
    video = torch.randn(4, 3, 2, 5, 5)
    out = MinibatchStd(group_size=4, eps=0.0)(video, 4)
    assert out.shape == (4, 4, 2, 5, 5)
    assert torch.equal(out[:, :3], video)
    expected = video.reshape(4, -1).std(dim=0, unbiased=False).mean()
    torch.testing.assert_close(out[:, 3], expected.expand(4, 2, 5, 5))


def test_identical_videos_give_zero_and_different_ones_do_not():
    same = torch.randn(1, 3, 2, 4, 4).expand(4, -1, -1, -1, -1)
    layer = MinibatchStd(group_size=4, eps=0.0)
    assert layer(same, 4)[:, 3].abs().max() == 0
    assert (layer(same + torch.randn_like(same), 4)[:, 3] > 0.5).all()


def test_groups_are_videos_a_batch_over_group_apart():
    # group 2 in a batch of 4: videos {0, 2} and {1, 3}
    a, b = torch.randn(2, 1, 3, 2, 4, 4)
    video = torch.cat([a, b, a, b + 10 * torch.randn_like(b)])
    channel = MinibatchStd(group_size=2, eps=0.0)(video, 4)[:, 3]
    assert channel[0].abs().max() == 0 and channel[2].abs().max() == 0
    assert (channel[1] > 1).all() and torch.equal(channel[1], channel[3])


def test_frame_folded_input_gets_the_same_per_video_channel():
    video = torch.randn(6, 3, 4, 2, 2)
    layer = MinibatchStd(group_size=3)
    from_video = layer(video, 6)
    from_frames = layer(folded(video), 6)
    assert from_frames.shape == (24, 4, 2, 2)
    torch.testing.assert_close(from_frames, folded(from_video))


@pytest.mark.parametrize('batch, group', [(6, 4), (3, 4), (1, 4)])
def test_a_group_that_does_not_divide_the_batch_uses_their_common_divisor(batch, group):
    video = torch.randn(batch, 3, 2, 4, 4)
    out = MinibatchStd(group_size=group, eps=0.0)(video, batch)
    # gcd(4, 6) = 2: groups {0, 3}, {1, 4}, {2, 5}; gcd(4, 3) = gcd(4, 1) = 1: zeros
    if batch == 6:
        expected = (video[0] - video[3]).abs().mean() / 2
        torch.testing.assert_close(out[0, 3], expected.expand(2, 4, 4))
    else:
        assert out[:, 3].abs().max() == 0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match='group_size'):
        MinibatchStd(group_size=0)
    with pytest.raises(ValueError, match='whole number'):
        MinibatchStd()(torch.randn(7, 3, 4, 4), 2)


def test_with_it_a_videos_score_depends_on_the_other_videos():
    torch.manual_seed(0)
    video = torch.randn(4, 3, 6, 16, 16)
    changed = video.clone()
    changed[1:] = torch.randn_like(changed[1:])
    for group, depends in [(0, False), (4, True)]:
        d = MODELS.build(dict(TEMPORAL, minibatch_std_group=group)).eval()
        with torch.no_grad():
            moved = (d(video)[0] - d(changed)[0]).abs().max()
        assert (moved > 1e-6) == depends, (group, moved)


def test_spatial_discriminator_takes_the_option():
    d = MODELS.build(dict(SPATIAL, minibatch_std_group=2, num_classes=3)).eval()
    scores = d(torch.randn(4, 3, 5, 16, 16), torch.tensor([0, 1, 2, 0]))
    assert scores.shape == (4, 3) and torch.isfinite(scores).all()
    # the last block gets the extra channel, and only when the option is on
    assert d.blocks[-1].conv1.in_channels == 2 * 2 + 1
    assert MODELS.build(SPATIAL).blocks[-1].conv1.in_channels == 2 * 2
