"""FVD / FID / IS between any two sets of videos on disk: folders or archives.

``tools/analysis/compare_folders.py`` reads here (StyleGAN-V's
``calc_metrics_for_dataset.py``): other methods' samples against ours, or
against real clips, with the protocol of ``compute_fvd`` (uint8 videos, TF
bilinear resize to 224x224, [-1, 1], I3D-K400 logits for FVD and IS, the FID
network's pooled features for FID, unbiased covariances).

A set is a folder (searched recursively) or a ``.zip`` / ``.tar`` /
``.tar.gz`` archive of video files (``VIDEO_EXTENSIONS``, GIF included), or of
folders of frame images (one video per folder of PNG / JPEG files, frames in
name order). Each video gives one clip: its first ``num_frames`` frames after
taking every ``frame_step``-th (the stored frames; the file's frame rate is not
read). A video that cannot be read or is too short is skipped and listed, with
the reason, in the result. Statistics are running sums (``FeatureStats``), so
memory does not grow with the number of videos; real statistics are saved as
plain ``.npz`` arrays and read back with ``allow_pickle=False``.
"""
import fnmatch
import io
import json
import os
import os.path as osp
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image, ImageSequence

from hvg.utils.atomic_files import save_arrays
from hvg.utils.progress import progress
from .extractor import I3DExtractor
from .feature_stats import FeatureStats
from .frechet import frechet_distance
from .inception_score import inception_score

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.gif')
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
STATS_FORMAT = 'hvg-video-set-stats-v1'


class VideoSetError(ValueError):
    """A set that cannot be scored (no videos, all unreadable, a stats mismatch)."""


def _archive_kind(path: str) -> Optional[str]:
    lower = path.lower()
    if lower.endswith('.zip'):
        return 'zip'
    if lower.endswith(('.tar', '.tar.gz', '.tgz')):
        return 'tar'
    return None


def _group(names: List[str]) -> List[Tuple[str, List[str]]]:
    """``[(video name, [members])]``: a video file each, or a folder of frames."""
    videos, frames = [], defaultdict(list)
    for name in sorted(names):
        ext = osp.splitext(name)[1].lower()
        if ext in VIDEO_EXTENSIONS:
            videos.append((name, [name]))
        elif ext in IMAGE_EXTENSIONS:
            frames[osp.dirname(name)].append(name)
    videos += [(folder or '.', members) for folder, members in sorted(frames.items())]
    return sorted(videos)


def list_videos(source: str, pattern: str = '*') -> List[Tuple[str, List[str]]]:
    """The videos of a folder or archive: ``[(name, [files or members])]``, sorted.

    ``pattern`` (fnmatch, on the file's or frame folder's base name) picks
    some: ``'sample_????.mp4'`` is the final outputs of ``tools/sample.py``,
    whose folders also hold GIF copies and side-by-side videos.
    """
    if not osp.exists(source):
        raise FileNotFoundError(f'{source} does not exist: pass a folder or a .zip/.tar '
                                'of videos (or of folders of frame PNGs)')
    kind = _archive_kind(source)
    if osp.isdir(source):
        names = [osp.relpath(osp.join(root, f), source)
                 for root, _, files in os.walk(source) for f in files]
    elif kind == 'zip':
        with zipfile.ZipFile(source) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    elif kind == 'tar':
        with tarfile.open(source) as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
    else:
        raise VideoSetError(f'{source} is neither a folder nor a .zip/.tar archive')
    return [(name, members) for name, members in _group(names)
            if fnmatch.fnmatch(osp.basename(name), pattern)]


def _decode(data: bytes, name: str) -> np.ndarray:
    """All frames of one video file's bytes: ``(T, H, W, 3)`` uint8."""
    if name.lower().endswith('.gif'):
        with Image.open(io.BytesIO(data)) as gif:
            return np.stack([np.asarray(f.convert('RGB')) for f in ImageSequence.Iterator(gif)])
    import decord  # needs a file path for containers
    with tempfile.NamedTemporaryFile(suffix=osp.splitext(name)[1]) as tmp:
        tmp.write(data)
        tmp.flush()
        reader = decord.VideoReader(tmp.name, num_threads=1)
        return reader.get_batch(range(len(reader))).asnumpy()


class _Reader:
    """Bytes of a folder's files or an archive's members, opened once."""

    def __init__(self, source: str) -> None:
        self.source, self.kind = source, _archive_kind(source) if osp.isfile(source) else None
        self.archive = (zipfile.ZipFile(source) if self.kind == 'zip' else
                        tarfile.open(source) if self.kind == 'tar' else None)

    def read(self, name: str) -> bytes:
        if self.kind == 'zip':
            return self.archive.read(name)
        if self.kind == 'tar':
            return self.archive.extractfile(name).read()
        with open(osp.join(self.source, name), 'rb') as f:
            return f.read()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def read_clip(reader: _Reader, name: str, members: List[str], num_frames: int,
              frame_step: int = 1) -> np.ndarray:
    """One clip ``(num_frames, H, W, 3)`` uint8; ``ValueError`` says why it cannot be."""
    if len(members) == 1 and osp.splitext(members[0])[1].lower() in VIDEO_EXTENSIONS:
        try:
            frames = _decode(reader.read(members[0]), members[0])
        except Exception as error:  # decord and PIL raise many types for a bad file
            raise ValueError(f'unreadable ({type(error).__name__}: '
                             f'{str(error).splitlines()[0] if str(error) else ""})')
    else:
        frames = []
        for member in members[::frame_step][:num_frames]:
            try:
                with Image.open(io.BytesIO(reader.read(member))) as image:
                    frames.append(np.asarray(image.convert('RGB')))
            except Exception as error:
                raise ValueError(f'unreadable frame {member} ({type(error).__name__})')
        frames = np.stack(frames) if frames else np.zeros((0, 1, 1, 3), np.uint8)
        frame_step = 1  # already taken
    frames = frames[::frame_step][:num_frames]
    if len(frames) < num_frames:
        raise ValueError(f'{len(frames)} frames (after --frame-step), '
                         f'{num_frames} needed')
    if len({f.shape for f in frames}) != 1:
        raise ValueError('frames of different sizes')
    return frames


class SetStatistics:
    """What the metrics need of one set: running sums and, for IS, the logits."""

    def __init__(self) -> None:
        self.logits = FeatureStats()  # FVD
        self.fid = FeatureStats()
        self.all_logits: List[np.ndarray] = []  # IS (N x 400 floats: small)
        self.skipped: List[Dict[str, str]] = []

    @property
    def count(self) -> int:
        return self.logits.count

    def add(self, features: Dict[str, torch.Tensor]) -> None:
        self.logits.update(features['logits'])
        self.fid.update(features['fid'])
        self.all_logits.append(features['logits'].numpy())


def score_set(source: str, extractor: I3DExtractor, num_frames: int, frame_step: int = 1,
              max_videos: Optional[int] = None, desc: str = 'videos',
              pattern: str = '*') -> SetStatistics:
    """Read every video of ``source`` (a logged skip for a bad one) through ``extractor``.

    Clips of one size go to the network ``extractor.batch_size`` at a time.
    """
    videos = list_videos(source, pattern)[:max_videos]
    if not videos:
        raise VideoSetError(f'no videos matching {pattern!r} in {source} (looked for '
                            f'{", ".join(VIDEO_EXTENSIONS)} files and folders of '
                            f'{", ".join(IMAGE_EXTENSIONS)} frames)')
    stats, pending, reader = SetStatistics(), [], _Reader(source)

    def flush() -> None:
        if pending:
            batch = torch.from_numpy(np.stack(pending)).permute(0, 4, 1, 2, 3)
            stats.add(extractor(batch))
            pending.clear()

    try:
        with progress(total=len(videos), desc=f'{desc} ({source})', unit='video') as bar:
            for name, members in videos:
                try:
                    clip = read_clip(reader, name, members, num_frames, frame_step)
                except ValueError as error:
                    stats.skipped.append(dict(video=osp.join(source, name), reason=str(error)))
                    print(f'skipped {osp.join(source, name)}: {error}', flush=True)
                else:
                    if pending and pending[0].shape != clip.shape:
                        flush()
                    pending.append(clip)
                    if len(pending) == extractor.batch_size:
                        flush()
                bar.update(1)
            flush()
    finally:
        reader.close()
    if stats.count < 2:
        raise VideoSetError(f'{source}: {stats.count} readable videos of {len(videos)} '
                            f'(a covariance needs 2); skipped: {stats.skipped[:3]}')
    return stats


def stats_key(extractor: I3DExtractor, num_frames: int, frame_step: int) -> dict:
    """What real statistics depend on: network, protocol and clip length."""
    described = extractor.describe()
    return dict(format=STATS_FORMAT, num_frames=num_frames, frame_step=frame_step,
                **{k: described[k] for k in ('fvd_network', 'fid_network', 'resize',
                                             'i3d_size', 'i3d_sha256', 'fid_sha256')})


def save_stats(path: str, stats: SetStatistics, key: dict, source: str) -> None:
    """Real statistics as plain arrays (``.npz``), with the key that made them."""
    arrays = dict(stats.logits.to_arrays('logits'), **stats.fid.to_arrays('fid'))
    save_arrays(path, dict(key, source=source, count=stats.count), arrays)


def load_stats(path: str, key: dict) -> Tuple[SetStatistics, dict]:
    """Statistics written by ``save_stats``; a ``VideoSetError`` if they are of
    another network, protocol or clip length (naming what differs)."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: write it with tools/analysis/compare_folders.py REAL '
            f'FAKE --save-real-stats {path} (or run tools/demo.py for the sample clips)')
    with np.load(path, allow_pickle=False) as arrays:
        stored = json.loads(str(arrays['key']))
        differ = {k: (stored.get(k), v) for k, v in key.items() if stored.get(k) != v}
        if differ:
            listed = '; '.join(f'{k}: {a!r} in the file, {b!r} now'
                               for k, (a, b) in sorted(differ.items()))
            raise VideoSetError(f'{path} holds statistics of another setting ({listed}): '
                                'pass the matching options or write new ones with '
                                '--save-real-stats')
        stats = SetStatistics()
        stats.logits = FeatureStats.from_arrays(arrays, 'logits')
        stats.fid = FeatureStats.from_arrays(arrays, 'fid')
    return stats, stored


def compare_sets(real: SetStatistics, fake: SetStatistics, is_splits: int = 10) -> dict:
    """``{'fvd', 'fid', 'is_mean', 'is_std'}`` of ``fake`` against ``real``.

    IS is of the fake set alone (its I3D-K400 logits over ``is_splits``
    chunks); it is left out unless every chunk has 2 videos or more (a chunk
    of one video has an IS of exactly 1, whatever the video).
    """
    scores = dict(fvd=frechet_distance(*real.logits.mean_cov(1), *fake.logits.mean_cov(1)),
                  fid=frechet_distance(*real.fid.mean_cov(1), *fake.fid.mean_cov(1)))
    if fake.all_logits and fake.count >= 2 * is_splits:
        scores['is_mean'], scores['is_std'] = inception_score(
            np.concatenate(fake.all_logits), is_splits)
    return {k: float(v) for k, v in scores.items()}
