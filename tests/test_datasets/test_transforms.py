"""Video transforms: the right frames, the right shapes, skips not crashes."""
import decord
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from torch.utils.data import default_collate
from video_fixtures import (capture_mmengine_warnings, decode_frame_indices,
                            synthetic_frames)

from hvg.datasets.transforms import (CenterCrop, DecordDecode, DecordInit,
                                     Flip, PackVideoInputs, RandomCrop, Resize,
                                     SampleFrames)
from hvg.datasets.transforms.loading import DecodedVideo
from hvg.registry import TRANSFORMS

NUM_FRAMES = 40  # of the synthetic videos (conftest)


def decode_clip(filename, clip_len, frame_interval, random_offset=True):
    pipeline = Compose([
        DecordInit(),
        SampleFrames(clip_len, frame_interval, random_offset),
        DecordDecode()
    ])
    return pipeline(dict(filename=str(filename)))


def clip_results(num_frames=4, height=48, width=64):
    return dict(
        filename='clip.mp4',
        imgs=synthetic_frames(num_frames, height, width),
        frame_inds=np.arange(num_frames, dtype=np.int64),
        label=2)


def test_build_from_registry_with_default_scope():
    init_default_scope('hvg')
    transform = TRANSFORMS.build(
        dict(type='SampleFrames', clip_len=8, frame_interval=2))
    assert isinstance(transform, SampleFrames)
    for name in ('DecordInit', 'DecordDecode', 'Flip', 'PackVideoInputs'):
        assert TRANSFORMS.get(name) is not None
    assert isinstance(
        TRANSFORMS.build(dict(type='Resize', short_side=32)), Resize)


@pytest.mark.parametrize('clip_len,frame_interval', [(8, 1), (6, 3), (5, 8)])
def test_sample_frames_stride_and_start_bounds(clip_len, frame_interval):
    np.random.seed(0)
    sampler = SampleFrames(clip_len, frame_interval)
    span = (clip_len - 1) * frame_interval + 1
    starts = set()
    for _ in range(300):
        results = sampler(dict(filename='v.mp4', total_frames=NUM_FRAMES))
        inds = results['frame_inds']
        assert inds.dtype == np.int64 and len(inds) == clip_len
        assert np.all(np.diff(inds) == frame_interval)
        assert inds[-1] - inds[0] + 1 == span
        assert 0 <= inds[0] and inds[-1] < NUM_FRAMES
        starts.add(int(inds[0]))
    # Uniform over [0, total - span]: both ends are reached.
    assert min(starts) == 0 and max(starts) == NUM_FRAMES - span
    assert results['clip_len'] == clip_len
    assert results['frame_interval'] == frame_interval


def test_sample_frames_centre_without_random_offset_or_in_test_mode():
    expected = (NUM_FRAMES - 15) // 2 + np.arange(8) * 2
    fixed = SampleFrames(8, 2, random_offset=False)
    np.testing.assert_array_equal(
        fixed(dict(filename='v', total_frames=NUM_FRAMES))['frame_inds'],
        expected)
    random = SampleFrames(8, 2)
    results = random(
        dict(filename='v', total_frames=NUM_FRAMES, test_mode=True))
    np.testing.assert_array_equal(results['frame_inds'], expected)


def test_sample_frames_exact_fit_starts_at_zero():
    results = SampleFrames(5, 8)(dict(filename='v', total_frames=33))
    np.testing.assert_array_equal(results['frame_inds'], [0, 8, 16, 24, 32])


def test_decoded_frames_are_the_requested_ones(synthetic_video_root):
    np.random.seed(1)
    video = synthetic_video_root / 'video_0.mp4'
    for clip_len, frame_interval in [(8, 1), (6, 3), (4, 8), (40, 1)]:
        for _ in range(3):
            results = decode_clip(video, clip_len, frame_interval)
            assert results['imgs'].shape == (clip_len, 48, 64, 3)
            assert results['imgs'].dtype == np.uint8
            assert decode_frame_indices(results['imgs']) == \
                results['frame_inds'].tolist()
    assert 'video_reader' not in results
    assert results['total_frames'] == NUM_FRAMES
    assert results['original_shape'] == (48, 64)
    assert results['img_shape'] == (48, 64)
    assert results['avg_fps'] == pytest.approx(25)


def test_too_short_video_is_skipped_with_one_warning(synthetic_video_root):
    video = str(synthetic_video_root / 'video_1.mp4')
    pipeline = Compose([DecordInit(), SampleFrames(8, 6), DecordDecode()])
    with capture_mmengine_warnings() as warnings:
        assert pipeline(dict(filename=video)) is None
        assert pipeline(dict(filename=video)) is None  # warned once only
    assert len(warnings) == 1
    assert video in warnings[0] and '40 frames' in warnings[0]
    assert 'needs 43' in warnings[0]


@pytest.mark.parametrize('name', ['corrupt.mp4', 'does_not_exist.mp4'])
def test_unreadable_video_is_skipped_with_one_warning(synthetic_video_root,
                                                      name):
    init = DecordInit()
    filename = str(synthetic_video_root / name)
    with capture_mmengine_warnings() as warnings:
        assert init(dict(filename=filename)) is None
        assert init(dict(filename=filename)) is None
    assert len(warnings) == 1 and filename in warnings[0]


def test_cached_decode_gives_the_same_clips_without_rereading(
        synthetic_video_root, monkeypatch):
    video = str(synthetic_video_root / 'video_0.mp4')
    plain = Compose([DecordInit(), SampleFrames(6, 3), DecordDecode()])
    init = DecordInit(cache_mib=1)  # 40 x 48 x 64 x 3 bytes = 0.35 MiB
    cached = Compose([init, SampleFrames(6, 3), DecordDecode()])
    np.random.seed(3)
    expected = [plain(dict(filename=video)) for _ in range(5)]
    np.random.seed(3)
    first = cached(dict(filename=video))

    def no_reads(*args, **kwargs):
        raise AssertionError('a cached video was opened again')

    monkeypatch.setattr(decord, 'VideoReader', no_reads)
    got = [first] + [cached(dict(filename=video)) for _ in range(4)]
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have['imgs'], want['imgs'])
        assert have['imgs'].flags.writeable  # a copy: the cache stays intact
        for key in ('frame_inds', 'total_frames', 'original_shape', 'img_shape'):
            assert np.all(have[key] == want[key]), key
        assert have['avg_fps'] == pytest.approx(want['avg_fps'])
        assert 'video_reader' not in have
    assert init._cache_bytes == NUM_FRAMES * 48 * 64 * 3


def test_cache_keeps_to_its_budget_and_off_by_default(synthetic_video_root):
    videos = [str(synthetic_video_root / name) for name in
              ('video_0.mp4', 'video_1.mp4', 'sub/video_2.mp4')]
    init = DecordInit(cache_mib=0.8)  # room for two videos of 0.35 MiB
    readers = [init(dict(filename=video))['video_reader'] for video in videos]
    assert [isinstance(r, DecodedVideo) for r in readers] == [True, True, False]
    assert len(readers[2]) == NUM_FRAMES  # read from disk as usual
    assert init._cache_bytes <= 0.8 * 2**20
    off = DecordInit()
    assert not isinstance(off(dict(filename=videos[0]))['video_reader'],
                          DecodedVideo)
    assert off._cache_bytes == 0
    with pytest.raises(ValueError, match='cache_mib'):
        DecordInit(cache_mib=-1)


def test_cached_init_still_skips_unreadable_videos(synthetic_video_root):
    init = DecordInit(cache_mib=64)
    filename = str(synthetic_video_root / 'corrupt.mp4')
    with capture_mmengine_warnings() as warnings:
        assert init(dict(filename=filename)) is None
        assert init(dict(filename=filename)) is None
    assert len(warnings) == 1 and filename in warnings[0]
    assert init._cache_bytes == 0


def test_video_whose_whole_decode_fails_is_read_clip_by_clip(
        synthetic_video_root, monkeypatch):
    """One bad frame must not cost the file: its clips are decoded as usual."""
    video = str(synthetic_video_root / 'video_0.mp4')
    real_reader = decord.VideoReader

    class FailsWholeDecode:
        def __init__(self, *args, **kwargs):
            self._reader = real_reader(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self._reader, name)

        def __getitem__(self, index):
            return self._reader[index]

        def __len__(self):
            return len(self._reader)

        def get_batch(self, indices):
            if len(indices) == len(self._reader):
                raise decord.DECORDError('[h264] error while decoding MB 3 2')
            return self._reader.get_batch(indices)

    monkeypatch.setattr(decord, 'VideoReader', FailsWholeDecode)
    init = DecordInit(cache_mib=64)
    pipeline = Compose([init, SampleFrames(4, 2), DecordDecode()])
    for _ in range(2):
        results = pipeline(dict(filename=video))
        assert decode_frame_indices(results['imgs']) == \
            results['frame_inds'].tolist()
    assert init._cache_bytes == 0 and video in init._not_cached


@pytest.mark.parametrize('error', [RuntimeError, decord.DECORDError])
def test_decode_error_is_skipped_with_one_warning(error):

    class BrokenReader:
        """Stands in for a file whose frames fail mid-stream."""

        def get_batch(self, indices):
            raise error('[h264] error while decoding MB 3 2')

    results = dict(
        filename='broken.mp4',
        video_reader=BrokenReader(),
        frame_inds=np.arange(4))
    with capture_mmengine_warnings() as warnings:
        assert DecordDecode()(results) is None
    assert len(warnings) == 1
    assert 'broken.mp4' in warnings[0] and 'cannot decode' in warnings[0]


def test_resize_scale_and_short_side_shapes():
    results = Resize(scale=(32, 32))(clip_results())
    assert results['imgs'].shape == (4, 32, 32, 3)
    assert results['imgs'].dtype == np.uint8
    assert results['img_shape'] == (32, 32)
    results = Resize(short_side=32)(clip_results())  # 48x64 keeps 3:4
    assert results['imgs'].shape == (4, 32, 43, 3)
    assert results['img_shape'] == (32, 43)


def test_resize_is_antialiased_bilinear():
    # A flat frame stays exactly flat: the frame code survives resizing.
    results = Resize(scale=(12, 16))(clip_results(num_frames=5))
    assert decode_frame_indices(results['imgs']) == [0, 1, 2, 3, 4]
    assert np.all(results['imgs'] == results['imgs'][:, :1, :1])
    # A 4x downsample of a one-pixel checkerboard averages it to grey;
    # without antialiasing bilinear sampling would keep 0/255 extremes.
    checker = ((np.indices((64, 64)).sum(0) % 2) * 255).astype(np.uint8)
    imgs = np.repeat(checker[None, :, :, None], 3, axis=3)
    out = Resize(scale=(16, 16))(dict(imgs=imgs))['imgs']
    assert np.abs(out.astype(int) - 128).max() <= 2


def test_resize_needs_exactly_one_size():
    with pytest.raises(ValueError, match='exactly one'):
        Resize()
    with pytest.raises(ValueError, match='exactly one'):
        Resize(scale=32, short_side=32)


def test_random_crop_takes_one_window_for_all_frames():
    np.random.seed(0)
    imgs = np.arange(2 * 10 * 12 * 3, dtype=np.int64).reshape(2, 10, 12, 3)
    imgs = (imgs % 251).astype(np.uint8)
    tops_lefts = set()
    for _ in range(50):
        out = RandomCrop((4, 6))(dict(imgs=imgs.copy()))
        assert out['imgs'].shape == (2, 4, 6, 3)
        assert out['img_shape'] == (4, 6)
        # Locate the window from frame 0, check frame 1 uses the same one.
        matches = [(t, l) for t in range(7) for l in range(7)
                   if np.array_equal(imgs[0, t:t + 4,
                                          l:l + 6], out['imgs'][0])]
        assert len(matches) == 1
        top, left = matches[0]
        np.testing.assert_array_equal(out['imgs'][1], imgs[1, top:top + 4,
                                                           left:left + 6])
        tops_lefts.add(matches[0])
    assert len(tops_lefts) > 10


def test_center_crop_window():
    imgs = np.random.default_rng(0).integers(
        0, 256, (3, 10, 12, 3), dtype=np.uint8)
    out = CenterCrop(4)(dict(imgs=imgs))
    np.testing.assert_array_equal(out['imgs'], imgs[:, 3:7, 4:8])
    assert out['img_shape'] == (4, 4)


@pytest.mark.parametrize('crop', [RandomCrop, CenterCrop])
def test_crop_larger_than_frame_is_a_clear_error(crop):
    with pytest.raises(ValueError, match='48x64, smaller than the crop 56x56'):
        crop(56)(clip_results())


def test_flip_mirrors_every_frame():
    imgs = np.random.default_rng(0).integers(
        0, 256, (3, 8, 10, 3), dtype=np.uint8)
    out = Flip(flip_ratio=1.0)(dict(imgs=imgs.copy()))
    assert out['flip'] is True
    np.testing.assert_array_equal(out['imgs'], imgs[:, :, ::-1])
    out = Flip(flip_ratio=0.0)(dict(imgs=imgs.copy()))
    assert out['flip'] is False
    np.testing.assert_array_equal(out['imgs'], imgs)
    np.random.seed(0)
    flips = [Flip()(dict(imgs=imgs))['flip'] for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_pack_layout_and_collate():
    results = clip_results(num_frames=4, height=6, width=5)
    packed = PackVideoInputs()(dict(results))
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8 and inputs.is_contiguous()
    assert inputs.shape == (3, 4, 6, 5)  # (C, T, H, W)
    assert torch.equal(inputs,
                       torch.from_numpy(results['imgs']).permute(3, 0, 1, 2))
    samples = packed['data_samples']
    assert samples['label'].dtype == torch.long and samples['label'] == 2
    assert samples['filename'] == 'clip.mp4'
    assert samples['frame_inds'].dtype == torch.long

    batch = default_collate([packed, PackVideoInputs()(clip_results(4, 6, 5))])
    assert batch['inputs'].shape == (2, 3, 4, 6, 5)
    assert batch['data_samples']['label'].tolist() == [2, 2]
    assert batch['data_samples']['filename'] == ['clip.mp4', 'clip.mp4']
    assert batch['data_samples']['frame_inds'].shape == (2, 4)


def test_pack_missing_label_is_unconditional_and_missing_key_raises():
    results = clip_results()
    del results['label']
    assert PackVideoInputs()(results)['data_samples']['label'] == -1
    with pytest.raises(KeyError, match='avg_fps'):
        PackVideoInputs(meta_keys=('avg_fps', ))(clip_results())


def test_reprs():
    assert repr(DecordInit()) == 'DecordInit(num_threads=1, timeout=60.0)'
    assert repr(SampleFrames(8, 2, False)) == (
        'SampleFrames(clip_len=8, frame_interval=2, random_offset=False)')
    assert repr(DecordDecode()) == 'DecordDecode(timeout=60.0)'
    assert repr(Resize(short_side=32)) == 'Resize(scale=None, short_side=32)'
    assert repr(Resize(scale=16)) == 'Resize(scale=(16, 16), short_side=None)'
    assert repr(RandomCrop((4, 6))) == 'RandomCrop(size=(4, 6))'
    assert repr(CenterCrop(32)) == 'CenterCrop(size=(32, 32))'
    assert repr(Flip(0.3)) == 'Flip(flip_ratio=0.3)'
    assert repr(PackVideoInputs(
        ('label', ))) == ("PackVideoInputs(meta_keys=('label',))")
