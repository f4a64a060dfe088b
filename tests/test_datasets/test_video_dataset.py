"""VideoDataset: parsing the list, clear errors, corrupt videos skipped."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate
from video_fixtures import capture_mmengine_warnings, decode_frame_indices

from hvg.datasets import VideoDataset
from hvg.registry import DATASETS

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackVideoInputs'),
]


def write_ann(tmp_path, text):
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text(text)
    return str(ann_file)


def test_loads_filenames_and_labels(synthetic_video_root):
    dataset = VideoDataset(
        ann_file='ann.txt', data_root=str(synthetic_video_root))
    assert len(dataset) == 3
    infos = [dataset.get_data_info(i) for i in range(3)]
    assert [info['label'] for info in infos] == [0, 1, 2]
    assert infos[2]['filename'] == str(synthetic_video_root / 'sub' /
                                       'video_2.mp4')
    assert all(info['test_mode'] is False for info in infos)
    assert dataset.get_cat_ids(1) == [1]


def test_missing_label_is_minus_one_and_blank_lines_ignored(
        tmp_path, synthetic_video_root):
    absolute = synthetic_video_root / 'video_0.mp4'
    ann_file = write_ann(tmp_path, f'\n{absolute}\n\nvideo_1.mp4\n')
    dataset = VideoDataset(
        ann_file=ann_file, data_root=str(synthetic_video_root))
    assert [dataset.get_data_info(i)['label'] for i in range(2)] == [-1, -1]
    assert dataset.get_data_info(0)['filename'] == str(absolute)
    assert dataset.get_cat_ids(0) == []


def test_classes_from_metainfo(synthetic_video_root):
    dataset = VideoDataset(
        ann_file='ann.txt',
        data_root=str(synthetic_video_root),
        metainfo=dict(classes=('a', 'b', 'c')))
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')
    with pytest.raises(ValueError, match=r'ann.txt, line 3: .*\[0, 2\)'):
        VideoDataset(
            ann_file='ann.txt',
            data_root=str(synthetic_video_root),
            metainfo=dict(classes=('a', 'b')))


def test_item_through_the_registry(synthetic_video_root):
    dataset = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file='ann.txt',
            data_root=str(synthetic_video_root),
            pipeline=PIPELINE))
    item = dataset[1]
    assert item['inputs'].shape == (3, 8, 32, 32)
    assert item['inputs'].dtype == torch.uint8
    assert item['data_samples']['label'] == 1
    frames = item['inputs'].permute(1, 2, 3, 0).numpy()
    assert decode_frame_indices(frames) == \
        item['data_samples']['frame_inds'].tolist()


def test_dataloader_batches_with_default_collate(synthetic_video_root):
    dataset = VideoDataset(
        ann_file='ann.txt',
        data_root=str(synthetic_video_root),
        pipeline=PIPELINE)
    loader = DataLoader(dataset, batch_size=3, collate_fn=default_collate)
    batch = next(iter(loader))
    assert batch['inputs'].shape == (3, 3, 8, 32, 32)  # (B, C, T, H, W)
    assert batch['data_samples']['label'].tolist() == [0, 1, 2]


def test_test_mode_takes_the_centre_clip(synthetic_video_root):
    dataset = VideoDataset(
        ann_file='ann.txt',
        data_root=str(synthetic_video_root),
        pipeline=PIPELINE,
        test_mode=True)
    # 40 frames, span 15: start (40 - 15) // 2 = 12, every time.
    for _ in range(3):
        inds = dataset[0]['data_samples']['frame_inds'].tolist()
        assert inds == list(range(12, 27, 2))


def test_data_root_none_says_how_to_set_it():
    with pytest.raises(ValueError, match='data_root is not set') as error:
        VideoDataset(ann_file='ann.txt', data_root=None)
    assert ('--cfg-options train_dataloader.dataset.data_root=/path'
            in str(error.value))


def test_missing_ann_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        VideoDataset(ann_file='nope.txt', data_root=str(tmp_path))


@pytest.mark.parametrize(
    'bad_line', ['video_1.mp4 one', 'video_1.mp4 1 extra', 'video_1.mp4 -3'])
def test_malformed_line_names_file_and_line(tmp_path, bad_line):
    ann_file = write_ann(tmp_path, f'video_0.mp4 0\n{bad_line}\n')
    with pytest.raises(ValueError, match=r'list.txt, line 2'):
        VideoDataset(ann_file=ann_file, data_root=str(tmp_path))


def test_empty_list_is_an_error(tmp_path):
    ann_file = write_ann(tmp_path, '\n\n')
    with pytest.raises(ValueError, match='lists no videos'):
        VideoDataset(ann_file=ann_file, data_root=str(tmp_path))


def test_corrupt_video_is_skipped_not_raised(synthetic_video_root):
    np.random.seed(0)
    dataset = VideoDataset(
        ann_file='ann_with_corrupt.txt',
        data_root=str(synthetic_video_root),
        pipeline=PIPELINE)
    assert len(dataset) == 4
    corrupt = str(synthetic_video_root / 'corrupt.mp4')
    with capture_mmengine_warnings() as warnings:
        items = [dataset[3] for _ in range(5)] + [dataset[i] for i in range(3)]
    for item in items:
        assert item['inputs'].shape == (3, 8, 32, 32)
        assert item['data_samples']['filename'] != corrupt
    assert len([w for w in warnings if corrupt in w]) == 1


def test_list_lines_old_and_quoted(tmp_path):
    """Old lists read as before; a quoted path keeps its spaces and quotes."""
    from hvg.datasets.file_index import format_list_line, parse_list_line
    for path, label in (('a/b.mp4', 3), ('playing guitar/x y.mp4', 0),
                        ("it's.mp4", None), ("'quoted' name.mp4", 2)):
        line = format_list_line(path, label)
        assert parse_list_line(line) == [path] + ([] if label is None else [str(label)])
    ann_file = write_ann(tmp_path, "video_0.mp4 0\n'sub dir/v 1.mp4' 1\n'plain.mp4'\n")
    dataset = VideoDataset(ann_file=ann_file, data_root=str(tmp_path))
    assert [(d['filename'], d['label']) for d in map(dataset.get_data_info, range(3))] == [
        (str(tmp_path / 'video_0.mp4'), 0), (str(tmp_path / 'sub dir/v 1.mp4'), 1),
        (str(tmp_path / 'plain.mp4'), -1)]
    with pytest.raises(ValueError, match='quote a path that holds spaces'):
        VideoDataset(ann_file=write_ann(tmp_path, 'sub dir/v 1.mp4 1\n'),
                     data_root=str(tmp_path))
