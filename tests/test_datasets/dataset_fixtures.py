"""Small Kinetics- and BDD100K-shaped folders with good and broken videos.

The good videos are frame-index encoded (``video_fixtures``), at different
frame rates, sizes and lengths; the broken ones are what real downloads
leave behind. Helpers, not fixtures, so each test module chooses its scope.
"""
import csv
import subprocess
from pathlib import Path
from typing import Dict, List, NamedTuple

import imageio_ffmpeg
from video_fixtures import write_corrupt_video, write_synthetic_video

# Sorted, these are the class index: 0 abseiling, 1 playing guitar, 2 zumba.
CLASSES = ('abseiling', 'playing guitar', 'zumba')


def write_truncated_video(path: Path, num_frames: int = 40) -> Path:
    """A valid MP4 cut in half (an interrupted download)."""
    write_synthetic_video(path, num_frames, 48, 64)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path


def write_empty_video(path: Path) -> Path:
    """Zero bytes."""
    path.write_bytes(b'')
    return path


def write_zero_frame_video(path: Path) -> Path:
    """A well-formed MP4 container holding no video frames."""
    source = path.with_name(path.stem + '_source.mp4')
    write_synthetic_video(source, 4, 48, 64)
    subprocess.run([
        imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-i',
        str(source), '-frames:v', '0', '-c:v', 'libx264',
        str(path)
    ], check=True)
    source.unlink()
    return path


BAD_WRITERS = dict(
    corrupt=write_corrupt_video,
    truncated=write_truncated_video,
    empty=write_empty_video,
    zero_frames=write_zero_frame_video)


class Clip(NamedTuple):
    youtube_id: str
    label: str
    start: int
    fps: float  # 0 for a broken file
    num_frames: int
    size: tuple  # (H, W)
    kind: str  # 'good', a BAD_WRITERS key, or 'missing'
    folder: str  # relative to videos/train ('' = flat)

    @property
    def name(self) -> str:
        return f'{self.youtube_id}_{self.start:06d}_{self.start + 10:06d}'


# 10 clips on disk, 2 of them bad (20%), and 1 listed but never downloaded.
# Per-class folders (named either way) and a flat part, 25 and 30 fps,
# 64x48 and 96x64, 36 to 48 frames.
KINETICS_TRAIN = (
    Clip('aaaaaaaaaa1', 'abseiling', 0, 25, 36, (48, 64), 'good', 'abseiling'),
    Clip('aaaaaaaaaa2', 'abseiling', 14, 30, 48, (64, 96), 'good', 'abseiling'),
    Clip('aaaaaaaaaa3', 'abseiling', 3, 25, 40, (64, 96), 'good', ''),
    Clip('ggggggggg-1', 'playing guitar', 5, 30, 44, (48, 64), 'good',
         'playing_guitar'),
    Clip('ggggggggg-2', 'playing guitar', 120, 25, 36, (48, 64), 'good',
         'playing_guitar'),
    Clip('ggggggggg_3', 'playing guitar', 7, 30, 40, (64, 96), 'good', ''),
    Clip('zzzzzzzzzz1', 'zumba', 30, 25, 40, (48, 64), 'good', 'zumba'),
    Clip('zzzzzzzzzz2', 'zumba', 31, 30, 36, (64, 96), 'good', ''),
    Clip('zzzzzzzzzz3', 'zumba', 40, 0, 0, (0, 0), 'corrupt', 'zumba'),
    Clip('ggggggggg-4', 'playing guitar', 9, 0, 0, (0, 0), 'truncated', ''),
    Clip('zzzzzzzzzz9', 'zumba', 50, 0, 0, (0, 0), 'missing', 'zumba'),
)


def write_clip(path: Path, clip: Clip) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if clip.kind == 'good':
        write_synthetic_video(path, clip.num_frames, *clip.size, fps=clip.fps)
    elif clip.kind != 'missing':
        BAD_WRITERS[clip.kind](path)


def write_kinetics_csv(path: Path, clips, split: str = 'train') -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['label', 'youtube_id', 'time_start', 'time_end',
                         'split'])
        for clip in clips:
            writer.writerow([clip.label, clip.youtube_id, clip.start,
                             clip.start + 10, split])


class KineticsTree(NamedTuple):
    root: Path
    paths: Dict[str, Path]  # clip name -> path (missing ones included)
    good: List[Path]
    bad: List[Path]


def make_kinetics_tree(root: Path) -> KineticsTree:
    """``root/annotations/{train,validate}.csv`` and ``root/videos/train``.

    ``validate.csv`` lists two of the clips under ``split == 'val'`` and
    covers only one class (so its own sorted labels differ from the index).
    """
    paths, good, bad = {}, [], []
    for clip in KINETICS_TRAIN:
        path = root / 'videos' / 'train' / clip.folder / f'{clip.name}.mp4'
        write_clip(path, clip)
        paths[clip.name] = path
        if clip.kind == 'good':
            good.append(path)
        elif clip.kind != 'missing':
            bad.append(path)
    write_kinetics_csv(root / 'annotations' / 'train.csv', KINETICS_TRAIN)
    write_kinetics_csv(root / 'annotations' / 'validate.csv',
                       KINETICS_TRAIN[:2], split='val')
    return KineticsTree(root, paths, good, bad)


def make_bdd_tree(root: Path) -> Dict[str, List[Path]]:
    """``root/videos/{train,val}/*.mov``: 30 fps, 96x64; one bad in train."""
    videos = {'train': [], 'val': []}
    for split, count in (('train', 4), ('val', 2)):
        folder = root / 'videos' / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            path = folder / f'{split}{i:02d}-0000{i}.mov'
            write_synthetic_video(path, 30 + 4 * i, 64, 96, fps=30)
            videos[split].append(path)
    corrupt = root / 'videos' / 'train' / 'zzbroken-00009.mov'
    write_corrupt_video(corrupt)
    videos['train'].append(corrupt)
    (root / 'videos' / 'train' / 'notes.txt').write_text('not a video')
    return videos
