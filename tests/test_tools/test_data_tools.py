"""tools/data/{kinetics,bdd100k}: verify, build the lists, resize, as a user
runs them (``runpy`` with the command line in ``sys.argv``)."""
import csv
import runpy
import sys
from pathlib import Path

import decord
import pytest
from video_fixtures import (decode_frame_indices, write_corrupt_video,
                            write_synthetic_video)

from hvg.datasets import BDD100KDataset, KineticsDataset
from hvg.datasets.preparation import scaled_size

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'data'


def run_tool(monkeypatch, tool: str, *args) -> None:
    monkeypatch.setattr(sys, 'argv', [str(TOOLS / tool), *map(str, args)])
    runpy.run_path(str(TOOLS / tool), run_name='__main__')


@pytest.fixture
def kinetics_root(tmp_path):
    """3 good clips (25/30 fps, two sizes, per-class and flat), 1 corrupt,
    1 listed but missing; train.csv and validate.csv."""
    root = tmp_path / 'k600'
    rows = [('yawning', 'id_yawn_001', 0, 25, (48, 64), 'yawning/'),
            ('abseiling', 'id_abs_0001', 5, 30, (64, 96), ''),
            ('abseiling', 'id_abs_0002', 8, 25, (48, 64), 'abseiling/'),
            ('zumba', 'id_zumba_01', 2, None, None, ''),
            ('zumba', 'id_zumba_02', 4, 'missing', None, '')]
    for label, yid, start, fps, size, folder in rows:
        path = root / 'videos' / 'train' / folder / f'{yid}_{start:06d}_{start + 10:06d}.mp4'
        path.parent.mkdir(parents=True, exist_ok=True)
        if fps is None:
            write_corrupt_video(path)
        elif fps != 'missing':
            write_synthetic_video(path, 20, *size, fps=fps)
    (root / 'annotations').mkdir()
    for name, split, subset in (('train.csv', 'train', rows), ('validate.csv', 'val', rows[:2])):
        with open(root / 'annotations' / name, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['label', 'youtube_id', 'time_start', 'time_end', 'split'])
            writer.writerows([r[0], r[1], r[2], r[2] + 10, split] for r in subset)
    return root


def test_kinetics_verify_then_build_lists(monkeypatch, kinetics_root, capsys):
    root = kinetics_root
    bad_list = root / 'annotations' / 'bad_videos.txt'
    run_tool(monkeypatch, 'kinetics/verify_videos.py', root / 'videos' / 'train',
             '--bad-list', bad_list, '--workers', 2)
    assert '4 videos checked, 1 bad' in capsys.readouterr().out
    (bad_line, ) = bad_list.read_text().splitlines()
    bad_path, reason = bad_line.split('\t')
    assert bad_path.endswith('id_zumba_01_000002_000012.mp4') and reason

    run_tool(monkeypatch, 'kinetics/build_file_lists.py', root,
             '--split', 'train:annotations/train.csv:videos/train',
             '--split', 'val:annotations/validate.csv:videos/train',
             '--bad-list', bad_list)
    out = capsys.readouterr().out
    assert 'train: 3 videos' in out and '1 missing' in out and '1 bad left out' in out
    ann = root / 'annotations'
    classes = ('abseiling', 'yawning', 'zumba')  # sorted names of train.csv
    assert (ann / 'kinetics600_classes.txt').read_text().split('\n')[:3] == list(classes)
    train = sorted((ann / 'kinetics600_train_list.txt').read_text().splitlines())
    assert train == ['videos/train/abseiling/id_abs_0002_000008_000018.mp4 0',
                     'videos/train/id_abs_0001_000005_000015.mp4 0',
                     'videos/train/yawning/id_yawn_001_000000_000010.mp4 1']
    assert (ann / 'kinetics600_train_missing.txt').read_text().split() == \
        ['id_zumba_02_000004_000014']
    # val keeps the training index although it only has two classes
    val = (ann / 'kinetics600_val_list.txt').read_text().splitlines()
    assert sorted(line.split()[1] for line in val) == ['0', '1']

    # the lists and the class index feed the dataset
    dataset = KineticsDataset(ann_file='annotations/kinetics600_train_list.txt',
                              data_root=str(root),
                              classes='annotations/kinetics600_classes.txt',
                              num_classes=3)
    assert dataset.metainfo['classes'] == classes and len(dataset) == 3


def test_kinetics_build_lists_errors(monkeypatch, kinetics_root):
    with pytest.raises(SystemExit, match='nope.csv not found'):
        run_tool(monkeypatch, 'kinetics/build_file_lists.py', kinetics_root,
                 '--split', 'train:annotations/nope.csv:videos/train')
    with pytest.raises(SystemExit, match='NAME:CSV:VIDEO_DIR'):
        run_tool(monkeypatch, 'kinetics/build_file_lists.py', kinetics_root,
                 '--split', 'train:annotations/train.csv')


def test_resize_keeps_frames_fps_and_layout(monkeypatch, kinetics_root, capsys):
    src = kinetics_root / 'videos'
    dst = kinetics_root.parent / 'small' / 'videos'
    run_tool(monkeypatch, 'kinetics/resize_videos.py', src, dst,
             '--short-side', 32, '--workers', 2)
    out = capsys.readouterr().out
    assert '3 of 4 videos' in out and 'id_zumba_01' in out  # the corrupt one
    originals = sorted(p for p in src.rglob('*.mp4') if 'zumba' not in p.name)
    for original in originals:
        copy = dst / original.relative_to(src)
        reader = decord.VideoReader(str(copy))
        source = decord.VideoReader(str(original))
        assert reader.get_avg_fps() == pytest.approx(source.get_avg_fps())
        frames = reader.get_batch(list(range(len(reader)))).asnumpy()
        assert min(frames.shape[1:3]) == 32
        assert decode_frame_indices(frames) == list(range(20))
        assert copy.stat().st_mode & 0o044  # readable by others, not 0600
    # existing outputs are skipped: a second run does not rewrite them
    stamp = (dst / originals[0].relative_to(src)).stat().st_mtime_ns
    run_tool(monkeypatch, 'kinetics/resize_videos.py', src, dst, '--short-side', 32)
    assert (dst / originals[0].relative_to(src)).stat().st_mtime_ns == stamp


def test_bdd_verify_and_build_list(monkeypatch, tmp_path, capsys):
    root = tmp_path / 'bdd100k'
    train = root / 'videos' / 'train'
    train.mkdir(parents=True)
    for i in range(3):
        write_synthetic_video(train / f'b{i}-000{i}.mov', 12, 64, 96, fps=30)
    write_corrupt_video(train / 'broken-0009.mov')
    (train / 'b0-0000.mp4').write_bytes(b'')  # not .mov: not a BDD video
    bad_list = root / 'bad.txt'
    run_tool(monkeypatch, 'bdd100k/verify_videos.py', train, '--bad-list', bad_list)
    assert '4 videos checked, 1 bad' in capsys.readouterr().out
    run_tool(monkeypatch, 'bdd100k/build_file_lists.py', root, '--bad-list', bad_list)
    listed = (root / 'annotations' / 'bdd100k_train_list.txt').read_text().split()
    assert listed == [f'videos/train/b{i}-000{i}.mov' for i in range(3)]
    dataset = BDD100KDataset(data_root=str(root),
                             ann_file='annotations/bdd100k_train_list.txt')
    assert len(dataset) == 3


@pytest.mark.parametrize('size, short_side, expected', [
    ((256, 340), 128, (128, 170)),  # Kinetics-like 4:3, long side rounded even
    ((720, 1280), 256, (256, 456)),  # BDD100K 16:9
    ((48, 64), 128, (48, 64)),  # never upscaled
    ((64, 96), 32, (32, 50)),  # width 48 would not decode with decord
])
def test_scaled_size(size, short_side, expected):
    assert scaled_size(*size, short_side) == expected


def test_lists_with_spaces_read_back_what_they_write(monkeypatch, tmp_path, capsys):
    """Kinetics class folders keep their spaces (``playing guitar/``); BDD paths
    may hold them too: the lists quote such paths and the datasets read them."""
    root = tmp_path / 'k 600'
    rows = [('playing guitar', 'id_guitar01', 0, 'playing guitar/'),
            ('abseiling', 'id_abs_0001', 5, '')]
    for label, yid, start, folder in rows:
        path = root / 'videos' / 'train' / folder / f'{yid}_{start:06d}_{start + 10:06d}.mp4'
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_video(path, 20, 48, 64)
    (root / 'annotations').mkdir()
    with open(root / 'annotations' / 'train.csv', 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['label', 'youtube_id', 'time_start', 'time_end', 'split'])
        writer.writerows([r[0], r[1], r[2], r[2] + 10, 'train'] for r in rows)
    run_tool(monkeypatch, 'kinetics/build_file_lists.py', root,
             '--split', 'train:annotations/train.csv:videos/train')
    assert 'train: 2 videos' in capsys.readouterr().out
    ann = root / 'annotations'
    assert sorted((ann / 'kinetics600_train_list.txt').read_text().splitlines()) == [
        "'videos/train/playing guitar/id_guitar01_000000_000010.mp4' 1",
        'videos/train/id_abs_0001_000005_000015.mp4 0']
    dataset = KineticsDataset(ann_file='annotations/kinetics600_train_list.txt',
                              data_root=str(root),
                              classes='annotations/kinetics600_classes.txt')
    infos = sorted((dataset.get_data_info(i)['filename'], dataset.get_data_info(i)['label'])
                   for i in range(len(dataset)))
    assert [(Path(p).relative_to(root).as_posix(), label) for p, label in infos] == [
        ('videos/train/id_abs_0001_000005_000015.mp4', 0),
        ('videos/train/playing guitar/id_guitar01_000000_000010.mp4', 1)]
    assert dataset.num_missing == 0

    bdd = tmp_path / 'bdd'
    train = bdd / 'videos' / 'train'
    (train / 'day 1').mkdir(parents=True)
    write_synthetic_video(train / 'day 1' / "it's a.mov", 12, 64, 96, fps=30)
    write_synthetic_video(train / 'b.mov', 12, 64, 96, fps=30)
    run_tool(monkeypatch, 'bdd100k/build_file_lists.py', bdd)
    dataset = BDD100KDataset(data_root=str(bdd),
                             ann_file='annotations/bdd100k_train_list.txt')
    assert dataset.num_missing == 0
    assert sorted(Path(dataset.get_data_info(i)['filename']).relative_to(train).as_posix()
                  for i in range(len(dataset))) == ['b.mov', "day 1/it's a.mov"]
