"""KineticsDataset and BDD100KDataset: file lists, labels, start-up errors,
broken videos skipped once and reported with the batch."""
import json
from pathlib import Path

import numpy as np
import pytest
from dataset_fixtures import (BAD_WRITERS, CLASSES, KINETICS_TRAIN,
                              make_bdd_tree, make_kinetics_tree,
                              write_kinetics_csv)
from torch.utils.data import DataLoader, default_collate
from video_fixtures import capture_mmengine_warnings, decode_frame_indices

from hvg.datasets import (BDD100KDataset, KineticsDataset, VideoDataset,
                          VideoReadError, kinetics_clip_name)
from hvg.datasets.read_failures import batch_read_report

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=6, frame_interval=2, base_fps=25),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackVideoInputs'),
]


@pytest.fixture(scope='module')
def kinetics(tmp_path_factory):
    return make_kinetics_tree(tmp_path_factory.mktemp('kinetics'))


@pytest.fixture(scope='module')
def bdd(tmp_path_factory):
    root = tmp_path_factory.mktemp('bdd100k')
    return root, make_bdd_tree(root)


def kinetics_dataset(root, **kwargs):
    kwargs.setdefault('ann_file', 'annotations/train.csv')
    kwargs.setdefault('video_dir', 'videos/train')
    return KineticsDataset(data_root=str(root), **kwargs)


def test_clip_name_is_the_crawler_naming():
    assert kinetics_clip_name('abc-_x', 7, 17) == 'abc-_x_000007_000017'


def test_kinetics_csv_files_labels_and_missing(kinetics):
    with capture_mmengine_warnings() as warnings:
        dataset = kinetics_dataset(kinetics.root)
    # the class index: sorted label names, 'playing guitar' keeps its space
    assert dataset.metainfo['classes'] == CLASSES
    on_disk = [c for c in KINETICS_TRAIN if c.kind != 'missing']
    assert len(dataset) == len(on_disk)
    by_file = {dataset.get_data_info(i)['filename']: dataset.get_data_info(i)
               for i in range(len(dataset))}
    for clip in on_disk:
        info = by_file[str(kinetics.paths[clip.name])]
        assert info['label'] == CLASSES.index(clip.label)
    # missing: counted, named, and one warning for all of them
    assert dataset.num_missing == 1
    assert dataset.missing_videos == ['zzzzzzzzzz9_000050_000060']
    missing_warnings = [w for w in warnings if 'missing' in w]
    assert len(missing_warnings) == 1
    assert '1 of 11 listed videos' in missing_warnings[0]


def test_kinetics_class_index_file_shared_by_splits(kinetics, tmp_path):
    classes_file = tmp_path / 'classes.txt'
    classes_file.write_text('\n'.join(CLASSES) + '\n')
    # validate.csv holds only abseiling: its own index would be ('abseiling',)
    own = kinetics_dataset(kinetics.root, ann_file='annotations/validate.csv')
    assert own.metainfo['classes'] == ('abseiling', )
    val = kinetics_dataset(
        kinetics.root, ann_file='annotations/validate.csv',
        classes=str(classes_file), split='val', num_classes=3)
    assert val.metainfo['classes'] == CLASSES
    assert len(val) == 2
    assert [val.get_data_info(i)['label'] for i in range(2)] == [0, 0]


def test_kinetics_split_and_min_duration_filters(kinetics, tmp_path):
    csv_path = tmp_path / 'mixed.csv'
    write_kinetics_csv(csv_path, KINETICS_TRAIN[:3], split='train')
    with open(csv_path, 'a') as f:  # a val row and a 4-second train row
        clip = KINETICS_TRAIN[3]
        f.write(f'{clip.label},{clip.youtube_id},{clip.start},'
                f'{clip.start + 10},val\n')
        clip = KINETICS_TRAIN[4]
        f.write(f'{clip.label},{clip.youtube_id},{clip.start},'
                f'{clip.start + 4},train\n')
    dataset = kinetics_dataset(kinetics.root, ann_file=str(csv_path),
                               classes=CLASSES, split='train',
                               min_duration=5)
    assert len(dataset) == 3
    assert dataset.num_too_short == 1


def test_kinetics_prepared_list(kinetics, tmp_path):
    good = kinetics.good[:2]
    lines = [f'{p.relative_to(kinetics.root)} {i}' for i, p in enumerate(good)]
    lines.append('videos/train/gone.mp4 2')
    ann = tmp_path / 'list.txt'
    ann.write_text('\n'.join(lines) + '\n')
    dataset = kinetics_dataset(kinetics.root, ann_file=str(ann),
                               num_classes=3)
    assert [dataset.get_data_info(i)['filename'] for i in range(2)] == \
        [str(p) for p in good]
    assert dataset.num_missing == 1
    ann.write_text(f'{good[0].relative_to(kinetics.root)} 3\n')
    with pytest.raises(ValueError, match=r'label 3 .* \[0, 3\)'):
        kinetics_dataset(kinetics.root, ann_file=str(ann), num_classes=3)


@pytest.mark.parametrize('case, error, match', [
    ('wrong data_root', FileNotFoundError, 'is not a folder'),
    ('wrong video_dir', FileNotFoundError, 'video folder .* not found'),
    ('no video found', FileNotFoundError, 'none of the 11 clips'),
    ('missing csv', FileNotFoundError, 'nope.csv not found'),
    ('empty csv', ValueError, 'is empty'),
    ('header only', ValueError, 'no annotation rows'),
    ('wrong columns', ValueError, r"lacks the columns \['label'"),
    ('unknown label', ValueError, r"not in the class index .*'zumba'"),
    ('wrong num_classes', ValueError, 'has 3 names but num_classes=600'),
    ('missing classes file', FileNotFoundError, 'build_file_lists.py'),
])
def test_kinetics_startup_errors_are_clear(kinetics, tmp_path, case, error,
                                           match):
    kwargs = {}
    root = kinetics.root
    if case == 'wrong data_root':
        root = tmp_path / 'not_here'
    elif case == 'wrong video_dir':
        kwargs['video_dir'] = 'videos/tarin'
    elif case == 'no video found':
        (tmp_path / 'videos').mkdir()
        kwargs['video_dir'] = str(tmp_path / 'videos')
    elif case == 'missing csv':
        kwargs['ann_file'] = 'annotations/nope.csv'
    elif case == 'empty csv':
        (tmp_path / 'a.csv').write_text('')
        kwargs['ann_file'] = str(tmp_path / 'a.csv')
    elif case == 'header only':
        write_kinetics_csv(tmp_path / 'a.csv', [])
        kwargs['ann_file'] = str(tmp_path / 'a.csv')
    elif case == 'wrong columns':
        (tmp_path / 'a.csv').write_text('name,id\nx,y\n')
        kwargs['ann_file'] = str(tmp_path / 'a.csv')
    elif case == 'unknown label':
        kwargs['classes'] = ('abseiling', 'playing guitar')
    elif case == 'wrong num_classes':
        kwargs['num_classes'] = 600
    elif case == 'missing classes file':
        kwargs['classes'] = 'annotations/kinetics600_classes.txt'
    with pytest.raises(error, match=match):
        kinetics_dataset(root, **kwargs)


def test_bdd_lists_the_split_folder(bdd):
    root, videos = bdd
    train = BDD100KDataset(data_root=str(root), split='train')
    assert [train.get_data_info(i)['filename'] for i in range(len(train))] \
        == sorted(str(p) for p in videos['train'])  # .mov only, sorted
    assert {train.get_data_info(i)['label'] for i in range(len(train))} == {-1}
    val = BDD100KDataset(data_root=str(root), split='val')
    assert len(val) == 2


def test_bdd_prepared_list_and_errors(bdd, tmp_path):
    root, videos = bdd
    ann = tmp_path / 'bdd_list.txt'
    ann.write_text('videos/val/val00-00000.mov\nvideos/val/gone.mov\n')
    dataset = BDD100KDataset(data_root=str(root), ann_file=str(ann))
    assert len(dataset) == 1 and dataset.num_missing == 1
    with pytest.raises(FileNotFoundError, match=r'videos/test not found'):
        BDD100KDataset(data_root=str(root), split='test')
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        BDD100KDataset(data_root=str(tmp_path / 'nope'))
    ann.write_text('\n')
    with pytest.raises(ValueError, match='lists no videos'):
        BDD100KDataset(data_root=str(root), ann_file=str(ann))
    with pytest.raises(ValueError, match='data_root is not set'):
        BDD100KDataset(data_root=None)


@pytest.mark.parametrize('kind', [*BAD_WRITERS, 'missing'])
def test_each_kind_of_bad_video_is_skipped_logged_once_and_reported(
        tmp_path, synthetic_video_root, kind):
    np.random.seed(0)
    bad = tmp_path / f'{kind}.mp4'
    if kind != 'missing':
        BAD_WRITERS[kind](bad)
    good = synthetic_video_root / 'video_0.mp4'
    ann = tmp_path / 'list.txt'
    ann.write_text(f'{good} 0\n{bad} 1\n')
    dataset = VideoDataset(ann_file=str(ann), data_root=str(tmp_path),
                           pipeline=PIPELINE)
    with capture_mmengine_warnings() as warnings:
        items = [dataset[1] for _ in range(3)]
    for item in items:
        samples = item['data_samples']
        assert samples['filename'] == str(good)
        assert samples['read_attempts'] >= 2
        failures = json.loads(samples['read_failures'])
        assert failures[0][:2] == [str(bad), 'failed']
        assert failures[0][3] is True  # logged here, in the main process
    assert len([w for w in warnings if str(bad) in w]) == 1
    # test mode: a clear error naming the file, not a silent substitute
    dataset = VideoDataset(ann_file=str(ann), data_root=str(tmp_path),
                           pipeline=PIPELINE, test_mode=True)
    with pytest.raises(VideoReadError, match=f'{kind}.mp4'):
        dataset[1]


def test_workers_report_failures_in_the_batch_without_logging(
        tmp_path, synthetic_video_root):
    """In DataLoader workers the dataset does not log (several workers would
    repeat it): the failure rides in the batch, marked as not logged."""
    bad = BAD_WRITERS['corrupt'](tmp_path / 'bad.mp4')
    good = synthetic_video_root / 'video_0.mp4'
    (tmp_path / 'list.txt').write_text(f'{bad} 1\n{good} 0\n' * 2)
    dataset = VideoDataset(ann_file=str(tmp_path / 'list.txt'),
                           data_root=str(tmp_path), pipeline=PIPELINE)
    loader = DataLoader(dataset, batch_size=4, num_workers=1,
                        collate_fn=default_collate)
    batch = next(iter(loader))
    report = batch_read_report(batch)
    assert report['attempts'] == 4 + len(report['failures'])
    assert len(report['failures']) >= 2  # indices 0 and 2 are the bad file
    assert {f.filename for f in report['failures']} == {str(bad)}
    assert not any(f.logged for f in report['failures'])


def test_too_many_failures_in_a_row_is_a_clear_error(tmp_path):
    BAD_WRITERS['corrupt'](tmp_path / 'bad.mp4')
    (tmp_path / 'list.txt').write_text('bad.mp4 0\n')
    dataset = VideoDataset(ann_file='list.txt', data_root=str(tmp_path),
                           pipeline=PIPELINE, max_refetch=3)
    with pytest.raises(VideoReadError, match=r'4 reads in a row failed'):
        dataset[0]


def test_kinetics_items_decode_through_the_pipeline(kinetics):
    np.random.seed(0)
    dataset = kinetics_dataset(kinetics.root, pipeline=PIPELINE)
    bad = {str(p) for p in kinetics.bad}
    for i in range(len(dataset)):
        item = dataset[i]
        assert item['inputs'].shape == (3, 6, 32, 32)
        assert item['data_samples']['filename'] not in bad
        frames = item['inputs'].permute(1, 2, 3, 0).numpy()
        assert decode_frame_indices(frames) == \
            item['data_samples']['frame_inds'].tolist()
        info_label = item['data_samples']['label']
        assert 0 <= int(info_label) < 3
    assert Path(dataset.get_data_info(0)['filename']).is_file()


def test_kinetics_min_duration_auto_is_the_span_of_sample_frames():
    """The level config says its clip shape once: the dataset derives the span."""
    from hvg.datasets.kinetics import clip_span_seconds
    step = dict(type='SampleFrames', clip_len=24, frame_interval=8, base_fps=25)
    assert clip_span_seconds([dict(type='DecordInit'), step]) == pytest.approx(7.36)
    with pytest.raises(ValueError, match='SampleFrames'):
        clip_span_seconds([dict(type='DecordInit')])
    with pytest.raises(ValueError, match='base_fps'):
        clip_span_seconds([dict(type='SampleFrames', clip_len=4, frame_interval=2)])
