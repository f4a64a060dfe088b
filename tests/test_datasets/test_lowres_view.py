"""Upsampling-level pairs: x_{l-1} = T(S(x_l)) cut from one decoded clip."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from torch.utils.data import default_collate
from video_fixtures import (decode_frame_indices, synthetic_frames,
                            write_synthetic_video)

from hvg.datasets.transforms import PackVideoInputs, Resize
from hvg.datasets.transforms.processing import LowResView
from hvg.registry import DATASETS, TRANSFORMS

CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'hvg'
NUM_FRAMES = 80
PAIR_KEYS = dict(highres='imgs', lowres='lowres_imgs')

# config -> (clip_len, frame_interval, crop, low-res size, batch_size)
L2_CONFIGS = {
    'l2_kinetics_6f.py': (12, 4, 128, 32, 8),
    'l2_kinetics_3f.py': (6, 4, 128, 32, 8),
    'l2_bdd_128.py': (12, 4, 128, 64, 4),
    'l3_bdd_256.py': (12, 2, 256, 128, 4),
    'demo_l2_clips.py': (8, 2, 64, 32, 4),
}


@pytest.fixture(scope='module')
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 frames, 64x80 (a width decord reads), frame ``i`` encodes ``i``."""
    return write_synthetic_video(
        tmp_path_factory.mktemp('lowres_view') / 'long.mp4', NUM_FRAMES, 64,
        80)


def load_config(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def shrunk_kinetics_l2_pipeline() -> Compose:
    """``l2_kinetics_6f.py``'s pipeline at 32 -> 8 pixels, from the
    registry."""
    init_default_scope('hvg')
    pipeline = load_config('l2_kinetics_6f.py').train_pipeline
    for step in pipeline:
        if step['type'] == 'Resize':
            step['short_side'] = 32
        elif step['type'] == 'RandomCrop':
            step['size'] = 32
        elif step['type'] == 'LowResView':
            step['size'] = 8
    return Compose(pipeline)


def test_real_pipeline_views_are_aligned_in_time(long_video):
    pipeline = shrunk_kinetics_l2_pipeline()
    starts = set()
    np.random.seed(0)
    for _ in range(3):
        # Stop before packing to read the decoded frames themselves.
        results = dict(filename=str(long_video))
        for transform in pipeline.transforms[:-1]:
            results = transform(results)
        high, low = results['imgs'], results['lowres_imgs']
        assert high.shape == (12, 32, 32, 3) and high.dtype == np.uint8
        assert low.shape == (6, 8, 8, 3) and low.dtype == np.uint8

        high_inds = decode_frame_indices(high)
        low_inds = decode_frame_indices(low)
        assert high_inds == results['frame_inds'].tolist()
        assert np.all(np.diff(high_inds) == 4)  # frame_interval
        # Low-res frame i is high-res frame 2i: source interval 8 (level 1).
        assert low_inds == high_inds[::2]
        assert np.all(np.diff(low_inds) == 8)
        assert results['lowres_frame_inds'].tolist() == low_inds
        starts.add(high_inds[0])

        packed = pipeline.transforms[-1](results)
        assert packed['inputs']['highres'].shape == (3, 12, 32, 32)
        assert packed['inputs']['lowres'].shape == (3, 6, 8, 8)
    assert len(starts) > 1  # random windows, aligned every time


def test_lowres_is_resize_of_subsampled_frames_so_aligned_in_space():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (6, 16, 20, 3), dtype=np.uint8)
    out = LowResView(temporal_stride=3, size=(4, 5))(
        dict(imgs=imgs, frame_inds=np.arange(10, 16, dtype=np.int64)))
    expected = Resize(scale=(4, 5))(dict(imgs=imgs[::3]))['imgs']
    np.testing.assert_array_equal(out['lowres_imgs'], expected)
    assert out['lowres_imgs'].flags['C_CONTIGUOUS']
    assert out['lowres_frame_inds'].tolist() == [10, 13]
    assert out['imgs'] is imgs  # the high-res view is left alone


def test_out_key_same_size_and_no_frame_inds():
    imgs = synthetic_frames(4, 8, 8)
    out = LowResView(2, 8, out_key='x_prev')(dict(imgs=imgs))
    np.testing.assert_array_equal(out['x_prev'], imgs[::2])
    assert out['x_prev'].flags['C_CONTIGUOUS']
    assert 'lowres_frame_inds' not in out and 'lowres_imgs' not in out


def test_errors():
    imgs = synthetic_frames(5, 16, 16)
    with pytest.raises(ValueError, match='5 frames are not divisible'):
        LowResView(2, 8)(dict(imgs=imgs))
    with pytest.raises(ValueError, match='32x8 is larger than'):
        LowResView(1, (32, 8))(dict(imgs=imgs))
    with pytest.raises(ValueError, match='size .* is required'):
        LowResView(2)
    with pytest.raises(ValueError, match='temporal_stride'):
        LowResView(0, 8)
    with pytest.raises(ValueError, match='uint8'):
        LowResView(1, 8)(dict(imgs=imgs.astype(np.float32)))


def test_pack_pair_collates_into_dict_of_batches():
    pack = PackVideoInputs(input_keys=PAIR_KEYS)
    samples = []
    for start in (0, 1):
        results = dict(
            filename='clip.mp4',
            imgs=synthetic_frames(8, 16, 16),
            frame_inds=np.arange(start, start + 8, dtype=np.int64),
            label=1)
        samples.append(pack(LowResView(2, 4)(results)))
    batch = default_collate(samples)
    assert set(batch['inputs']) == {'highres', 'lowres'}
    assert batch['inputs']['highres'].shape == (2, 3, 8, 16, 16)
    assert batch['inputs']['lowres'].shape == (2, 3, 4, 4, 4)
    assert all(v.dtype == torch.uint8 for v in batch['inputs'].values())
    assert batch['data_samples']['frame_inds'].shape == (2, 8)
    assert repr(pack) == ("PackVideoInputs(meta_keys=('filename', "
                          "'frame_inds', 'label'), input_keys={'highres': "
                          "'imgs', 'lowres': 'lowres_imgs'})")
    with pytest.raises(KeyError, match='lowres_imgs'):
        pack(dict(imgs=synthetic_frames(2, 4, 4), filename='a',
                  frame_inds=np.arange(2)))
    with pytest.raises(ValueError, match='input_keys'):
        PackVideoInputs(input_keys={})


def test_pack_default_unchanged():
    imgs = synthetic_frames(4, 6, 5)
    packed = PackVideoInputs()(
        dict(filename='c', imgs=imgs, frame_inds=np.arange(4), label=0))
    assert isinstance(packed['inputs'], torch.Tensor)
    assert torch.equal(packed['inputs'],
                       torch.from_numpy(imgs).permute(3, 0, 1, 2))
    assert repr(PackVideoInputs()) == (
        "PackVideoInputs(meta_keys=('filename', 'frame_inds', 'label'))")


def test_repr():
    assert repr(LowResView(2, 32)) == (
        "LowResView(temporal_stride=2, size=(32, 32), "
        "out_key='lowres_imgs')")


@pytest.mark.parametrize('name', sorted(L2_CONFIGS))
def test_base_configs_load_and_build(name):
    init_default_scope('hvg')
    cfg = load_config(name)
    clip_len, interval, crop, low, batch_size = L2_CONFIGS[name]
    steps = {step['type']: step for step in cfg.train_pipeline}
    assert steps['SampleFrames']['clip_len'] == clip_len
    assert steps['SampleFrames']['frame_interval'] == interval
    assert steps['Resize']['short_side'] == crop
    assert steps['RandomCrop']['size'] == crop
    assert steps['LowResView']['size'] == low
    assert clip_len % steps['LowResView']['temporal_stride'] == 0
    assert steps['PackVideoInputs']['input_keys'] == PAIR_KEYS
    # After every spatial transform, so the two views match in space too.
    order = [step['type'] for step in cfg.train_pipeline]
    assert order[-2:] == ['LowResView', 'PackVideoInputs']

    loader = cfg.train_dataloader
    assert loader.batch_size == batch_size
    assert loader.sampler.type == 'InfiniteSampler'
    assert loader.collate_fn.type == 'default_collate'
    if loader.dataset.type == 'VideoDataset':
        assert loader.dataset.data_root is None
        assert loader.dataset.ann_file.startswith('annotations/')

    transforms = [TRANSFORMS.build(step) for step in cfg.train_pipeline]
    assert isinstance(transforms[-1], PackVideoInputs)
    assert any(isinstance(t, LowResView) for t in transforms)


def test_sample_clips_l2_dataset_yields_pairs(monkeypatch, tmp_path):
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path))
    init_default_scope('hvg')
    cfg = load_config('demo_l2_clips.py')
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, num_repeats=1))
    assert len(list(tmp_path.glob('*_short64.mp4'))) == 3
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    assert batch['inputs']['highres'].shape == (3, 3, 8, 64, 64)
    assert batch['inputs']['lowres'].shape == (3, 3, 4, 32, 32)
    assert batch['inputs']['highres'].dtype == torch.uint8
    assert batch['inputs']['lowres'].dtype == torch.uint8
    assert batch['data_samples']['label'].tolist() == [0, 1, 2]
