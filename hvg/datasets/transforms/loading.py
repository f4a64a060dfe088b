"""Open a video, choose which frames to read, decode them.

A video that is missing, corrupt or too short is not an error: the transform
returns ``None`` and the dataset serves another clip (training mode only).
One bad file among hundreds of thousands should cost a log line, not a run.

Who logs the skip: used on their own (or under a plain mmengine
``BaseDataset``), the transforms log one warning per file. Under
``VideoDataset`` (``results['defer_skip_log']`` is true) they stay silent and
leave the reason in ``results['skip_reason']`` / ``results['skip_kind']``:
the dataset then logs it once and reports it with the batch, so that a file
read by several DataLoader workers is still announced once per run (see
``hvg.datasets.read_failures``).
"""
import logging
import math
import threading
from typing import Any, Callable, Dict, Optional, Set

import decord
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from hvg.datasets.file_index import is_regular_file
from hvg.registry import TRANSFORMS

# What decord raises for a file it cannot read: RuntimeError when opening
# fails, an assertion on a zero-frame container, DECORDError (not a
# RuntimeError) when a frame fails to decode or convert. IndexError is left
# out on purpose: out-of-range frame_inds are a bug, not a bad file.
_DECORD_ERRORS = (RuntimeError, AssertionError, decord.DECORDError)


def _first_line(error: BaseException) -> str:
    """A one-line reason (decord appends C++ stack traces)."""
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


# Seconds one open (or one decode) of a video may take before the file is
# counted as bad. Generous: a healthy clip takes well under a second even on
# a loaded machine; only a stuck read (a dead network mount, a file that
# never ends) gets near it.
DEFAULT_READ_TIMEOUT = 60.0


class ReadTimeout(Exception):
    """A video read took longer than its time limit."""


def call_with_time_limit(func: Callable[[], Any],
                         timeout: Optional[float]) -> Any:
    """``func()``, or ``ReadTimeout`` after ``timeout`` seconds.

    Why a helper thread, abandoned on timeout, and not ``signal.alarm``:

    - decord runs in C++ (its calls release the GIL); a Python signal handler
      only runs between bytecodes, so SIGALRM cannot interrupt a decode stuck
      inside the library. A waiting thread can stop *waiting* for it.
    - ``signal`` works in the main thread only, and a process has one
      alarm: the dataset can be read from any thread (a prefetching loader,
      the user's own code), and the alarm of another library would be lost.
    - fork safety: the thread is started per call in the calling process,
      never created before a fork (a pool made in the main process would not
      exist in a forked DataLoader worker). The cost, ~0.1 ms per call, is
      small against the tens of ms of opening and decoding a clip.

    On timeout the call keeps running in its daemon thread, which still holds
    the reader; nothing touches that reader again, and the thread ends with
    the call or with the process. A file that hangs forever therefore costs
    one idle thread per read, in a worker that goes on serving other clips:
    it is listed as a bad file like any other (``read_failures``), so such
    files are found and removed long before threads pile up. Opening a FIFO
    (which would block forever in ``open()``) never gets here: ``DecordInit``
    refuses anything but a regular file first.

    Args:
        func: the read, without arguments.
        timeout: seconds; ``None`` or ``<= 0`` calls ``func`` directly.
    """
    if timeout is None or timeout <= 0:
        return func()
    outcome: dict = {}

    def run() -> None:
        try:
            outcome['value'] = func()
        except BaseException as error:  # re-raised in the caller's thread
            outcome['error'] = error

    thread = threading.Thread(target=run, name='hvg-video-read', daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ReadTimeout(f'took longer than {timeout:g} s')
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


def _check_timeout(timeout: Optional[float]) -> Optional[float]:
    if timeout is not None and not timeout > 0:
        raise ValueError(f'timeout must be > 0 seconds or None, got {timeout}')
    return timeout


# ``results['skip_kind']`` values: a file that cannot be read, and a readable
# file with too few frames for the clip (a property of the data and the
# level, not a broken file: it does not count towards the failure limit).
SKIP_FAILED = 'failed'
SKIP_SHORT = 'short'


def _skip(warned: Set[str], results: dict, message: str,
          kind: str = SKIP_FAILED) -> None:
    """Record why ``results`` is skipped; log it unless the dataset will.

    Without a dataset that reports skips, the transform logs ``message`` the
    first time a file fails in it: the same broken file is drawn again every
    epoch, and repeating the warning would bury the rest of the log.
    """
    results['skip_reason'] = message
    results['skip_kind'] = kind
    if results.get('defer_skip_log', False):
        return
    filename = results.get('filename')
    if filename in warned:
        return
    warned.add(filename)
    print_log(message, logger='current', level=logging.WARNING)


class DecodedVideo:
    """A whole video decoded once and kept in memory (``DecordInit(cache_mib=...)``).

    It stands in for the decord reader in ``results['video_reader']``:
    ``len()`` and ``get_avg_fps()`` as decord's, and ``DecordDecode`` indexes
    ``frames`` instead of decoding. Read-only, so every clip drawn from it is
    a copy and the cache cannot be changed by a later transform.
    """

    def __init__(self, frames: np.ndarray, avg_fps: float) -> None:
        frames.setflags(write=False)
        self.frames = frames
        self.avg_fps = avg_fps

    def __len__(self) -> int:
        return len(self.frames)

    def get_avg_fps(self) -> float:
        return self.avg_fps


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open a video with decord.

    Required keys:
        - filename
    Added keys:
        - video_reader
        - total_frames
        - avg_fps
        - original_shape: ``(H, W)``

    Returns ``None`` (skip, see the module docstring) when the file is missing,
    is not a regular file (a FIFO named ``x.mp4`` would block ``open()``
    forever), cannot be opened, or opening it takes longer than ``timeout``.

    With ``cache_mib > 0`` the first read of a file decodes all its frames
    and keeps them (a ``DecodedVideo`` in place of the reader), until the
    decoded frames of the cached files would pass ``cache_mib`` MiB; files
    past the budget are read from disk as usual. Why: on a tiny dataset (the
    demo's three sample clips, 11 MiB decoded at a 64-pixel short side)
    opening and decoding a clip costs ~20 ms, 0.15 s per batch of 8 on one
    core, which on a 2-core machine the DataLoader worker takes from the
    training step (docs/benchmarks.md). The frames are decord's, so the
    clips are identical with and without the cache. The cache is per process:
    each DataLoader worker holds its own copy, so the memory is
    ``cache_mib`` x workers at most. A file whose whole decode fails is not
    cached and is read as usual (its good frames stay usable).

    Args:
        num_threads: decoder threads per video; 1 because dataloader workers
            already decode videos in parallel.
        timeout: seconds opening the file (and decoding its first frame) may
            take; ``None`` for no limit. See ``call_with_time_limit``. A
            cached file's whole decode has the same limit.
        cache_mib: MiB of decoded frames to keep in memory; 0 (default)
            keeps none.
    """

    def __init__(self, num_threads: int = 1,
                 timeout: Optional[float] = DEFAULT_READ_TIMEOUT,
                 cache_mib: float = 0) -> None:
        if not cache_mib >= 0:
            raise ValueError(f'cache_mib must be >= 0, got {cache_mib}')
        self.num_threads = num_threads
        self.timeout = _check_timeout(timeout)
        self.cache_mib = cache_mib
        self._warned: Set[str] = set()
        self._cache: Dict[str, DecodedVideo] = {}
        self._cache_bytes = 0
        self._not_cached: Set[str] = set()

    def _open(self, filename: str):
        reader = decord.VideoReader(filename, num_threads=self.num_threads)
        # decord exposes no frame size: decoding frame 0 is the only way.
        return reader, reader[0].shape[:2]

    def _cached(self, filename: str, reader, height: int, width: int):
        """The file's ``DecodedVideo`` if it fits the cache, else ``reader``.

        Raises ``ReadTimeout`` when the whole decode takes longer than
        ``timeout`` (the reader is then still held by the abandoned read);
        the file is then read clip by clip from its next draw on.
        """
        nbytes = len(reader) * height * width * 3
        if (filename in self._not_cached
                or self._cache_bytes + nbytes > self.cache_mib * 2**20):
            return reader
        try:
            frames = call_with_time_limit(
                lambda: reader.get_batch(range(len(reader))).asnumpy(),
                self.timeout)
        except ReadTimeout:
            self._not_cached.add(filename)
            raise
        except _DECORD_ERRORS:
            # Some frame is bad: read this file clip by clip from now on, so
            # that its good frames stay usable (DecordDecode skips the rest).
            self._not_cached.add(filename)
            return decord.VideoReader(filename, num_threads=self.num_threads)
        video = DecodedVideo(frames, reader.get_avg_fps())
        self._cache[filename] = video
        self._cache_bytes += frames.nbytes
        return video

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['filename']
        if filename in self._cache:
            video = self._cache[filename]
            results['video_reader'] = video
            results['total_frames'] = len(video)
            results['avg_fps'] = video.avg_fps
            results['original_shape'] = video.frames.shape[1:3]
            return results
        if not is_regular_file(filename):
            _skip(self._warned, results,
                  f'Skipping video {filename}: it is missing or not a regular '
                  'file')
            return None
        try:
            reader, (height, width) = call_with_time_limit(
                lambda: self._open(filename), self.timeout)
        except ReadTimeout as error:
            _skip(self._warned, results,
                  f'Skipping video {filename}: opening it {error} '
                  '(DecordInit timeout)')
            return None
        except _DECORD_ERRORS as error:
            _skip(self._warned, results,
                  f'Skipping video {filename}: cannot open it '
                  f'({_first_line(error)})')
            return None
        if self.cache_mib > 0:
            try:
                reader = self._cached(filename, reader, height, width)
            except ReadTimeout as error:
                _skip(self._warned, results,
                      f'Skipping video {filename}: decoding it whole (cache_mib) '
                      f'{error} (DecordInit timeout)')
                return None
            except _DECORD_ERRORS as error:
                _skip(self._warned, results,
                      f'Skipping video {filename}: cannot reopen it '
                      f'({_first_line(error)})')
                return None
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results['avg_fps'] = reader.get_avg_fps()
        results['original_shape'] = (height, width)
        return results

    def __repr__(self) -> str:
        cache = f', cache_mib={self.cache_mib:g}' if self.cache_mib else ''
        return (f'{self.__class__.__name__}(num_threads={self.num_threads}, '
                f'timeout={self.timeout}{cache})')


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Choose ``clip_len`` frame indices, ``frame_interval`` frames apart.

    ``frame_interval`` is the paper's temporal subsampling ``T`` (section
    5.2: "24/32x32 videos with a temporal subsampling of 8 frames"). What a
    "frame" is depends on ``base_fps``:

    - ``base_fps=None`` (the default, the mmaction2 convention): source
      frames. A 30-fps and a 25-fps video then give clips of different
      durations.
    - ``base_fps=25``: frames of a ``base_fps`` video, i.e. one clip frame
      every ``frame_interval / base_fps`` seconds whatever the source rate.
      Clip frame ``i`` is source frame ``start + round(i * step)`` with
      ``step = frame_interval * avg_fps / base_fps`` source frames (so a
      50-fps video at ``frame_interval=8, base_fps=25`` steps by 16, a 30-fps
      one by 9.6). Needs ``avg_fps`` (from ``DecordInit``).

    Rounding each index from the clip start (not accumulating a rounded
    step) keeps the pairs of ``LowResView`` exact: every 2nd frame of a
    level-2 clip at ``frame_interval=4`` is the level-1 clip at 8.

    The window starts uniformly at random in ``[0, total_frames - span]``, or
    at the centre when ``random_offset=False`` or ``results['test_mode']`` is
    true (so evaluation is deterministic).

    A video shorter than the span (``short_video``):

    - ``'skip'`` (default): ``None`` (another clip is served; one warning per
      file, reported as "short", which does not count as a failed read).
      Padding would teach the generator that videos freeze.
    - ``'pad'``: start at 0 and repeat the last frame for the missing
      indices (documented in docs/data.md; use for evaluation sets that
      must not lose videos).

    Required keys:
        - filename
        - total_frames
        - avg_fps (with ``base_fps``)
        - test_mode (optional)
    Added keys:
        - frame_inds: ``(clip_len,)`` int64
        - clip_len
        - frame_interval
        - seconds_per_frame (with ``base_fps``): seconds between clip frames

    Args:
        clip_len: number of frames in the clip.
        frame_interval: stride between chosen frames, in source frames or,
            with ``base_fps``, in frames of a ``base_fps`` video (may be
            fractional then).
        random_offset: draw the start at random (training) or take the centre.
        base_fps: the frame rate ``frame_interval`` counts in; ``None``
            counts source frames.
        short_video: ``'skip'`` or ``'pad'``, see above.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: float = 1,
                 random_offset: bool = True,
                 base_fps: Optional[float] = None,
                 short_video: str = 'skip') -> None:
        if clip_len < 1 or frame_interval <= 0:
            raise ValueError('clip_len and frame_interval must be >= 1, got '
                             f'{clip_len} and {frame_interval}')
        if base_fps is None and int(frame_interval) != frame_interval:
            raise ValueError(
                'frame_interval counts source frames without base_fps and '
                f'must be an int, got {frame_interval}')
        if base_fps is not None and not base_fps > 0:
            raise ValueError(f'base_fps must be > 0, got {base_fps}')
        if short_video not in ('skip', 'pad'):
            raise ValueError(
                f"short_video must be 'skip' or 'pad', got {short_video!r}")
        self.clip_len = clip_len
        self.frame_interval = (frame_interval if base_fps is not None else
                               int(frame_interval))
        self.random_offset = random_offset
        self.base_fps = base_fps
        self.short_video = short_video
        self._warned: Set[str] = set()

    @property
    def span(self) -> int:
        """Number of source frames one clip covers (``base_fps=None``)."""
        return (self.clip_len - 1) * int(self.frame_interval) + 1

    def source_offsets(self, avg_fps: Optional[float] = None) -> np.ndarray:
        """Offsets of the clip's frames from its first source frame.

        Args:
            avg_fps: the source frame rate; required with ``base_fps``.

        Returns:
            ``(clip_len,)`` int64, starting at 0.
        """
        steps = np.arange(self.clip_len)
        if self.base_fps is None:
            return (steps * self.frame_interval).astype(np.int64)
        step = self.frame_interval * avg_fps / self.base_fps
        # floor(x + 0.5): numpy's round() rounds halves to even.
        return np.floor(steps * step + 0.5).astype(np.int64)

    def _source_fps(self, results: dict) -> Optional[float]:
        """``avg_fps`` as a positive float, or ``None`` if it is unusable."""
        if 'avg_fps' not in results:
            raise KeyError('SampleFrames(base_fps=...) needs avg_fps in the '
                           'results: put DecordInit before it')
        fps = results['avg_fps']
        return float(fps) if fps and math.isfinite(fps) and fps > 0 else None

    def transform(self, results: dict) -> Optional[dict]:
        total = results['total_frames']
        filename = results['filename']
        if total < 1:
            _skip(self._warned, results,
                  f'Skipping video {filename}: it has no frames')
            return None
        avg_fps = None
        if self.base_fps is not None:
            avg_fps = self._source_fps(results)
            if avg_fps is None:
                _skip(self._warned, results,
                      f'Skipping video {filename}: its frame rate '
                      f'({results["avg_fps"]}) is unusable for base_fps '
                      'subsampling')
                return None
        offsets = self.source_offsets(avg_fps)
        span = int(offsets[-1]) + 1
        if total < span:
            if self.short_video == 'skip':
                _skip(self._warned, results,
                      f'Skipping video {filename}: {total} frames, but '
                      f'clip_len={self.clip_len} x frame_interval='
                      f'{self.frame_interval}{self._rate_note(avg_fps)} '
                      f'needs {span}', kind=SKIP_SHORT)
                return None
            # 'pad': the whole video, then its last frame repeated.
            inds = np.minimum(offsets, total - 1)
        else:
            max_start = total - span
            if self.random_offset and not results.get('test_mode', False):
                start = np.random.randint(0, max_start + 1)
            else:
                start = max_start // 2
            inds = start + offsets
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        if self.base_fps is not None:
            results['seconds_per_frame'] = self.frame_interval / self.base_fps
        return results

    def _rate_note(self, avg_fps: Optional[float]) -> str:
        if self.base_fps is None:
            return ''
        return f' (at {self.base_fps} fps; the video has {avg_fps:.3g} fps)'

    def __repr__(self) -> str:
        extra = ''
        if self.base_fps is not None:
            extra += f', base_fps={self.base_fps}'
        if self.short_video != 'skip':
            extra += f', short_video={self.short_video!r}'
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, '
                f'random_offset={self.random_offset}{extra})')


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Decode the chosen frames into ``imgs``.

    The reader is removed from ``results`` afterwards: it holds a file handle
    and cannot be collated or sent between processes.

    Required keys:
        - filename
        - video_reader
        - frame_inds
    Added keys:
        - imgs: ``(T, H, W, 3)`` uint8 RGB
        - img_shape: ``(H, W)``
    Removed keys:
        - video_reader

    Returns ``None`` (skip) when decoding fails or takes longer than
    ``timeout``.

    Args:
        timeout: seconds decoding one clip may take; ``None`` for no limit.
            See ``call_with_time_limit``.
    """

    def __init__(self,
                 timeout: Optional[float] = DEFAULT_READ_TIMEOUT) -> None:
        self.timeout = _check_timeout(timeout)
        self._warned: Set[str] = set()

    def transform(self, results: dict) -> Optional[dict]:
        reader = results.pop('video_reader')
        inds = results['frame_inds']
        if isinstance(reader, DecodedVideo):
            imgs = reader.frames[inds]  # fancy indexing: a writable copy
            results['imgs'] = imgs
            results['img_shape'] = imgs.shape[1:3]
            return results
        try:
            imgs = call_with_time_limit(
                lambda: reader.get_batch(inds).asnumpy(), self.timeout)
        except ReadTimeout as error:
            _skip(self._warned, results,
                  f'Skipping video {results["filename"]}: decoding frames '
                  f'{error} (DecordDecode timeout)')
            return None
        except _DECORD_ERRORS as error:
            filename = results['filename']
            _skip(self._warned, results,
                  f'Skipping video {filename}: cannot decode frames '
                  f'({_first_line(error)})')
            return None
        results['imgs'] = imgs
        results['img_shape'] = imgs.shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(timeout={self.timeout})'
