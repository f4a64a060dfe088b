"""Data that cannot hang a run: only regular files are listed, and opening or
decoding a video has a time limit after which the file counts as bad."""
import faulthandler
import os
import time
from pathlib import Path

import numpy as np
import pytest
from torch.utils.data import DataLoader, default_collate
from video_fixtures import capture_mmengine_warnings, write_synthetic_video

from hvg.datasets import BDD100KDataset, DecordDecode, VideoDataset
from hvg.datasets.file_index import find_video_files, index_videos
from hvg.datasets.read_failures import batch_read_report
from hvg.datasets.transforms import loading

# A hang must fail the test run, not stall it: faulthandler kills the process
# (with every thread's stack) if a test takes longer than this.
HANG_LIMIT_S = 120


@pytest.fixture(autouse=True)
def hang_limit():
    faulthandler.dump_traceback_later(HANG_LIMIT_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def pipeline(decode_timeout=60.0):
    return [dict(type='DecordInit'),
            dict(type='SampleFrames', clip_len=4, frame_interval=2),
            dict(type='DecordDecode', timeout=decode_timeout),
            dict(type='Resize', scale=(16, 16)),
            dict(type='PackVideoInputs')]


@pytest.fixture
def folder_with_fifo(tmp_path):
    """``good.mp4``, a FIFO ``fifo.mp4``, a folder ``dir.mp4/`` with a video."""
    write_synthetic_video(tmp_path / 'good.mp4', 20, 32, 32)
    os.mkfifo(tmp_path / 'fifo.mp4')
    (tmp_path / 'dir.mp4').mkdir()
    write_synthetic_video(tmp_path / 'dir.mp4' / 'inner.mp4', 20, 32, 32)
    return tmp_path


def test_scan_keeps_regular_files_only(folder_with_fifo):
    with capture_mmengine_warnings() as warnings:
        found = find_video_files(str(folder_with_fifo))
    assert [Path(p).relative_to(folder_with_fifo).as_posix() for p in found] == [
        'good.mp4', 'dir.mp4/inner.mp4']  # os.walk's order: files, then folders
    assert set(index_videos(str(folder_with_fifo))) == {'good', 'inner'}
    assert any('fifo.mp4' in w and 'not regular files' in w for w in warnings)


def test_bdd_folder_scan_skips_a_fifo(tmp_path):
    videos = tmp_path / 'videos' / 'train'
    videos.mkdir(parents=True)
    write_synthetic_video(videos / 'a.mov', 20, 32, 32)
    os.mkfifo(videos / 'b.mov')
    dataset = BDD100KDataset(data_root=str(tmp_path), pipeline=pipeline())
    assert [Path(dataset.get_data_info(i)['filename']).name
            for i in range(len(dataset))] == ['a.mov']
    assert dataset[0]['inputs'].shape == (3, 4, 16, 16)


@pytest.mark.parametrize('num_workers', [0, 2])
def test_a_listed_fifo_is_a_bad_file_not_a_hang(folder_with_fifo, num_workers):
    (folder_with_fifo / 'list.txt').write_text('fifo.mp4 0\ngood.mp4 1\n')
    dataset = VideoDataset(ann_file='list.txt', data_root=str(folder_with_fifo),
                           pipeline=pipeline())
    loader = DataLoader(dataset, batch_size=2, sampler=[0, 0, 0, 0],
                        num_workers=num_workers, collate_fn=default_collate)
    failures = []
    for batch in loader:
        assert batch['inputs'].shape == (2, 3, 4, 16, 16)
        failures += batch_read_report(batch)['failures']
    assert len(failures) >= 4  # each of the 4 reads, plus random refetches of it
    assert {(Path(f.filename).name, f.kind) for f in failures} == {('fifo.mp4', 'failed')}
    assert 'not a regular file' in failures[0].reason


class SlowReader:
    """A decord reader whose decode never finishes in time."""

    def __init__(self, reader, seconds):
        self.reader, self.seconds = reader, seconds

    def __len__(self):
        return len(self.reader)

    def __getitem__(self, index):
        return self.reader[index]

    def get_avg_fps(self):
        return self.reader.get_avg_fps()

    def get_batch(self, inds):
        time.sleep(self.seconds)
        return self.reader.get_batch(inds)


def test_a_slow_decode_is_a_bad_file(tmp_path, monkeypatch):
    for name in ('fast.mp4', 'slow.mp4'):
        write_synthetic_video(tmp_path / name, 20, 32, 32)
    real_reader = loading.decord.VideoReader

    def reader(filename, **kwargs):
        opened = real_reader(filename, **kwargs)
        return SlowReader(opened, 3.0) if Path(filename).name == 'slow.mp4' else opened

    monkeypatch.setattr(loading.decord, 'VideoReader', reader)
    (tmp_path / 'list.txt').write_text('slow.mp4\nfast.mp4\n')
    dataset = VideoDataset(ann_file='list.txt', data_root=str(tmp_path),
                           pipeline=pipeline(decode_timeout=0.3))
    np.random.seed(0)
    start = time.monotonic()
    item = dataset[0]
    assert time.monotonic() - start < 2.5  # did not wait for the slow decode
    assert item['data_samples']['filename'].endswith('fast.mp4')
    report = batch_read_report(default_collate([item]))
    assert report['attempts'] == 2
    (failure, ) = report['failures']
    assert failure.filename.endswith('slow.mp4') and failure.kind == 'failed'
    assert 'longer than 0.3 s' in failure.reason and 'DecordDecode timeout' in failure.reason


def test_time_limit_passes_results_and_errors_through():
    assert loading.call_with_time_limit(lambda: 3, 1.0) == 3
    with pytest.raises(KeyError):
        loading.call_with_time_limit(lambda: {}['x'], 1.0)
    with pytest.raises(loading.ReadTimeout):
        loading.call_with_time_limit(lambda: time.sleep(1.0), 0.05)
    with pytest.raises(ValueError, match='timeout must be > 0'):
        DecordDecode(timeout=0)
