"""Temporal subsampling against the source frame rate (SampleFrames base_fps):
videos of different fps give the same seconds per frame. Frames encode their
index in their colour, so the test reads which source frames were decoded."""
import numpy as np
import pytest
from mmengine.dataset import Compose
from video_fixtures import (capture_mmengine_warnings, decode_frame_indices,
                            write_synthetic_video)

from hvg.datasets.transforms import (DecordDecode, DecordInit, LowResView,
                                     SampleFrames)

NUM_FRAMES = 60


@pytest.fixture(scope='module')
def videos_by_fps(tmp_path_factory):
    root = tmp_path_factory.mktemp('fps_videos')
    return {fps: write_synthetic_video(root / f'fps{fps}.mp4', NUM_FRAMES, 48,
                                       64, fps=fps)
            for fps in (25, 30, 50)}


def decode(path, sampler):
    return Compose([DecordInit(), sampler, DecordDecode()])(
        dict(filename=str(path)))


@pytest.mark.parametrize('fps, expected_offsets', [
    (25, [0, 2, 4, 6, 8, 10]),  # the base rate: every 2nd source frame
    (50, [0, 4, 8, 12, 16, 20]),  # twice the rate: every 4th
    (30, [0, 2, 5, 7, 10, 12]),  # 2.4 source frames per clip frame, rounded
])
def test_source_frames_follow_the_frame_rate(videos_by_fps, fps,
                                             expected_offsets):
    sampler = SampleFrames(clip_len=6, frame_interval=2, base_fps=25,
                           random_offset=False)
    results = decode(videos_by_fps[fps], sampler)
    decoded = decode_frame_indices(results['imgs'])
    assert decoded == results['frame_inds'].tolist()
    start = decoded[0]
    assert [i - start for i in decoded] == expected_offsets
    # the same seconds per frame at every rate, to half a source frame
    seconds = np.array(decoded) / fps
    np.testing.assert_allclose(np.diff(seconds), 2 / 25, atol=1 / fps)
    assert abs((seconds[-1] - seconds[0]) - 5 * 2 / 25) <= 0.5 / fps
    assert results['seconds_per_frame'] == pytest.approx(0.08)
    # centred window (random_offset=False)
    assert start == (NUM_FRAMES - (expected_offsets[-1] + 1)) // 2


def test_random_windows_stay_inside_the_video(videos_by_fps):
    np.random.seed(0)
    sampler = SampleFrames(clip_len=8, frame_interval=3, base_fps=25)
    starts = set()
    for _ in range(200):
        results = sampler(dict(filename='v.mp4', total_frames=NUM_FRAMES,
                               avg_fps=30.0))
        inds = results['frame_inds']
        assert inds[0] >= 0 and inds[-1] < NUM_FRAMES
        starts.add(int(inds[0]))
    span = int(sampler.source_offsets(30.0)[-1]) + 1  # 7 * 3.6 -> 25, +1
    assert span == 26
    assert min(starts) == 0 and max(starts) == NUM_FRAMES - span


def test_level_pairs_stay_aligned_at_any_rate():
    """LowResView takes every 2nd frame of a level-2 clip: at any fps those
    are exactly the frames level 1 (twice the interval) would take."""
    level2 = SampleFrames(clip_len=12, frame_interval=4, base_fps=25)
    level1 = SampleFrames(clip_len=6, frame_interval=8, base_fps=25)
    for fps in (23.976, 25, 29.97, 30, 50, 60):
        np.testing.assert_array_equal(
            level2.source_offsets(fps)[::2], level1.source_offsets(fps))
    imgs = np.zeros((12, 8, 8, 3), np.uint8)
    results = LowResView(2, 4)(dict(
        imgs=imgs, frame_inds=level2.source_offsets(29.97) + 10))
    np.testing.assert_array_equal(results['lowres_frame_inds'],
                                  level1.source_offsets(29.97) + 10)


def test_without_base_fps_frame_interval_counts_source_frames(videos_by_fps):
    sampler = SampleFrames(clip_len=5, frame_interval=3, random_offset=False)
    for fps in (25, 50):
        decoded = decode_frame_indices(
            decode(videos_by_fps[fps], sampler)['imgs'])
        assert np.all(np.diff(decoded) == 3)


def test_short_video_rule_skip_or_pad(videos_by_fps):
    video = videos_by_fps[50]  # 60 frames = 1.2 s
    # 10 clip frames 4 apart at base 25 fps need 73 source frames at 50 fps
    long_clip = SampleFrames(clip_len=10, frame_interval=4, base_fps=25)
    with capture_mmengine_warnings() as warnings:
        skipped = dict(filename=str(video))
        assert Compose([DecordInit(), long_clip])(skipped) is None
    assert skipped['skip_kind'] == 'short'
    assert len(warnings) == 1 and 'needs 73' in warnings[0]
    assert '50 fps' in warnings[0]
    padded = decode(video, SampleFrames(clip_len=10, frame_interval=4,
                                        base_fps=25, short_video='pad'))
    # offsets 0, 8, ..., 72 at 50 fps; frames past 59 repeat the last one
    assert decode_frame_indices(padded['imgs']) == \
        [0, 8, 16, 24, 32, 40, 48, 56, 59, 59]


def test_bad_arguments_and_missing_fps():
    with pytest.raises(ValueError, match='must be an int'):
        SampleFrames(4, 2.5)
    with pytest.raises(ValueError, match='base_fps must be > 0'):
        SampleFrames(4, 2, base_fps=0)
    with pytest.raises(ValueError, match='short_video'):
        SampleFrames(4, 2, short_video='loop')
    with pytest.raises(KeyError, match='put DecordInit before it'):
        SampleFrames(4, 2, base_fps=25)(dict(filename='v', total_frames=40))
    unusable = dict(filename='v', total_frames=40, avg_fps=float('nan'))
    assert SampleFrames(4, 2, base_fps=25)(unusable) is None
    assert SampleFrames(4, 2.5, base_fps=25).frame_interval == 2.5
    assert repr(SampleFrames(4, 2, base_fps=25, short_video='pad')) == (
        'SampleFrames(clip_len=4, frame_interval=2, random_offset=True, '
        "base_fps=25, short_video='pad')")
