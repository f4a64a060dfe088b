"""Spatial, temporal and grouped discriminators: outputs, frame sampling, labels."""
import pytest
import torch

from hvg.models import DiscriminatorGroup, SpatialDiscriminator, TemporalDiscriminator
from hvg.registry import MODELS

SPATIAL = dict(type='SpatialDiscriminator', base_channels=2, channel_mults=(1, 2, 2),
               num_sampled_frames=3)
# two 3D blocks of two 3x3x3 convs each: a score sees 4 frames on either side
TEMPORAL = dict(type='TemporalDiscriminator', base_channels=2, channel_mults=(1, 2, 2),
                num_3d_blocks=2, input_downsample=2)
RECEPTIVE_RADIUS = 4


def build(cfg: dict, **overrides):
    """In eval mode: spectral norm then runs no power iteration per call, so two
    calls compare exactly (frames are still sampled at random)."""
    return MODELS.build({**cfg, **overrides}).eval()


def frame_index_video(batch: int, frames: int, size: int = 4) -> torch.Tensor:
    """(B, 3, T, H, W) whose frame t of video b is filled with 100 * b + t."""
    values = 100 * torch.arange(batch).view(batch, 1) + torch.arange(frames)
    return values.float().view(batch, 1, frames, 1, 1).expand(
        -1, 3, -1, size, size).clone()


# --- spatial --------------------------------------------------------------------
@pytest.mark.parametrize('frames, expected', [(5, 3), (3, 3), (2, 2)])
def test_spatial_scores_min_k_t_frames(frames, expected):
    d = build(SPATIAL)
    scores = d(torch.randn(2, 3, frames, 16, 16))
    assert scores.shape == (2, expected)
    assert torch.isfinite(scores).all()


def test_spatial_samples_real_frames_without_duplicates():
    d = build(SPATIAL, num_sampled_frames=3)
    B, T = 4, 6
    video = frame_index_video(B, T)
    seen = set()
    for _ in range(20):
        sampled = d.sample_frames(video)
        assert sampled.shape == (B, 3, 3, 4, 4)
        for b in range(B):
            indices = []
            for j in range(3):
                frame = sampled[b, :, j]
                t = int(frame[0, 0, 0].item()) - 100 * b
                assert 0 <= t < T, 'a frame from another video or no frame at all'
                assert torch.equal(frame, video[b, :, t])
                indices.append(t)
            assert len(set(indices)) == 3, f'duplicate frames {indices}'
            seen.add((b, tuple(indices)))
    # frames are drawn at random, independently per video: over 20 draws every
    # frame of every video turns up, in many different combinations
    for b in range(B):
        assert {t for vb, idx in seen if vb == b for t in idx} == set(range(T))
    assert len({idx for _, idx in seen}) > 10


def test_spatial_takes_every_frame_of_a_short_video():
    d = build(SPATIAL, num_sampled_frames=8)
    video = frame_index_video(2, 5)
    sampled = d.sample_frames(video)
    assert sampled.shape == (2, 3, 5, 4, 4)
    for b in range(2):
        values = sorted(int(v) - 100 * b for v in sampled[b, 0, :, 0, 0])
        assert values == list(range(5))


def test_spatial_scores_each_frame_on_its_own():
    """A video of one frame repeated gets the same score for every sampled frame."""
    d = build(SPATIAL)
    frame = torch.randn(2, 3, 1, 16, 16)
    scores = d(frame.expand(-1, -1, 5, -1, -1))
    torch.testing.assert_close(scores, scores[:, :1].expand(-1, 3))
    assert not torch.allclose(scores[0], scores[1])


# --- temporal -------------------------------------------------------------------
def test_temporal_scores_every_frame():
    d = build(TEMPORAL)
    scores = d(torch.randn(2, 3, 7, 16, 16))
    assert scores.shape == (2, 7)
    assert torch.isfinite(scores).all()


@pytest.mark.parametrize('t0', [0, 6, 11])
def test_temporal_scores_depend_on_neighbouring_frames_only(t0):
    d = build(TEMPORAL)
    T = 12
    video = torch.randn(2, 3, T, 16, 16)
    changed = video.clone()
    changed[:, :, t0] = torch.randn_like(changed[:, :, t0])
    before, after = d(video), d(changed)
    for t in range(T):
        if abs(t - t0) <= 1:
            assert not torch.allclose(before[:, t], after[:, t]), f'frame {t}'
        elif abs(t - t0) > RECEPTIVE_RADIUS:
            torch.testing.assert_close(before[:, t], after[:, t], atol=1e-6, rtol=0)


def test_temporal_discriminator_sees_the_order_of_frames():
    """Per-frame 2D scoring would just permute with the frames; 3D blocks do not."""
    d = build(TEMPORAL)
    video = torch.randn(1, 3, 6, 16, 16)
    reversed_scores = d(video.flip(2))
    assert not torch.allclose(reversed_scores, d(video).flip(1), atol=1e-4)


def test_temporal_rejects_more_3d_blocks_than_blocks():
    with pytest.raises(ValueError, match='num_3d_blocks'):
        build(TEMPORAL, num_3d_blocks=4)


# --- projection term --------------------------------------------------------------
def still_video_pair() -> torch.Tensor:
    """Two identical videos of one frame repeated: any frame sample is the same."""
    return torch.randn(1, 3, 1, 16, 16).expand(2, -1, 4, -1, -1)


@pytest.mark.parametrize('cfg', [SPATIAL, TEMPORAL], ids=['spatial', 'temporal'])
def test_labels_change_the_score_of_a_conditional_discriminator(cfg):
    d = build(cfg, num_classes=4)
    video = still_video_pair()
    different = d(video, torch.tensor([0, 3]))
    same = d(video, torch.tensor([3, 3]))
    torch.testing.assert_close(same[0], same[1])
    torch.testing.assert_close(different[1], same[1])
    assert (different[0] - different[1]).abs().max() > 1e-4


@pytest.mark.parametrize('cfg', [SPATIAL, TEMPORAL], ids=['spatial', 'temporal'])
def test_conditional_discriminator_needs_labels(cfg):
    d = build(cfg, num_classes=4)
    with pytest.raises(ValueError, match='class-conditional'):
        d(torch.randn(2, 3, 4, 16, 16))


def test_unconditional_discriminator_has_no_projection():
    d = build(TEMPORAL)
    assert d.head.embed is None


# --- group ----------------------------------------------------------------------
def test_group_concatenates_spatial_then_temporal_scores():
    group = build(dict(type='DiscriminatorGroup', spatial=SPATIAL, temporal=TEMPORAL))
    video = torch.randn(2, 3, 5, 16, 16)
    torch.manual_seed(3)
    scores = group(video)
    assert scores.shape == (2, 3 + 5)
    torch.manual_seed(3)
    torch.testing.assert_close(scores[:, :3], group.spatial(video))
    torch.testing.assert_close(scores[:, 3:], group.temporal(video))


def test_group_passes_labels_to_both_discriminators():
    group = DiscriminatorGroup(spatial={**SPATIAL, 'num_classes': 3},
                               temporal={**TEMPORAL, 'num_classes': 3}).eval()
    video = still_video_pair()
    same = group(video, torch.tensor([2, 2]))
    torch.testing.assert_close(same[0], same[1])
    scores = group(video, torch.tensor([0, 2]))
    assert scores.shape == (2, 3 + 4)
    assert (scores[0, :3] - scores[1, :3]).abs().max() > 1e-4
    assert (scores[0, 3:] - scores[1, 3:]).abs().max() > 1e-4


def test_group_with_one_discriminator():
    group = DiscriminatorGroup(temporal=TEMPORAL)
    assert group.spatial is None
    assert group(torch.randn(2, 3, 5, 16, 16)).shape == (2, 5)


def test_group_needs_a_discriminator():
    with pytest.raises(ValueError, match='at least one'):
        DiscriminatorGroup()


# --- input checks ------------------------------------------------------------------
@pytest.mark.parametrize('make', [
    lambda: SpatialDiscriminator(base_channels=2, channel_mults=(1, 2, 2)),
    lambda: TemporalDiscriminator(base_channels=2, channel_mults=(1, 2, 2)),
    lambda: DiscriminatorGroup(spatial=SPATIAL, temporal=TEMPORAL),
], ids=['spatial', 'temporal', 'group'])
@pytest.mark.parametrize('shape', [
    (2, 3, 16, 16),  # an image batch
    (2, 4, 16, 16, 3),  # frames-major (B, T, C, H, W)
    (2, 1, 4, 16, 16),  # wrong channels
], ids=['4d', 'frames-major', 'grey'])
def test_bad_input_shapes_are_rejected(make, shape):
    d = make()
    with pytest.raises(ValueError, match=r'expected a video \(B, 3, T, H, W\)'):
        d(torch.randn(shape))
