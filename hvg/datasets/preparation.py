"""Dataset preparation: check that videos decode, make small copies.

Used by the tools in ``tools/data/kinetics`` and ``tools/data/bdd100k``;
nothing here runs during training. Work is spread over processes
(``multiprocessing.Pool``) with a progress bar (``hvg.utils.progress``):
checking 500k Kinetics clips is hours of CPU time.
"""
import os
import shutil
import subprocess
import tempfile
from multiprocessing import Pool
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import decord
from hvg.utils.progress import progress

from .file_index import (VIDEO_EXTENSIONS, find_video_files, parse_list_line,
                         read_lines)
from .transforms.loading import _DECORD_ERRORS, _first_line

# Frames decoded per get_batch call in a full check (bounded memory).
_CHUNK = 64


class VideoCheck(NamedTuple):
    """What checking one video found; ``reason`` is empty when it is fine."""
    path: str
    ok: bool
    reason: str
    num_frames: int
    fps: float
    height: int
    width: int


def check_video(path: str, full: bool = True) -> VideoCheck:
    """Open a video and decode it with decord, as training will.

    Args:
        path: the video file.
        full: decode every frame (catches a stream broken mid-way); else
            only the first, middle and last frames (fast, catches missing,
            empty, truncated-container and zero-frame files).

    Returns:
        A ``VideoCheck``; never raises for a bad file.
    """
    if not os.path.isfile(path):
        return VideoCheck(path, False, 'missing', 0, 0.0, 0, 0)
    if os.path.getsize(path) == 0:
        return VideoCheck(path, False, 'empty file', 0, 0.0, 0, 0)
    try:
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
        fps = float(reader.get_avg_fps())
        if num_frames < 1:
            return VideoCheck(path, False, 'no frames', 0, fps, 0, 0)
        height, width = reader[0].shape[:2]
        if full:
            for start in range(0, num_frames, _CHUNK):
                reader.get_batch(
                    list(range(start, min(start + _CHUNK, num_frames))))
        else:
            reader.get_batch(sorted({0, num_frames // 2, num_frames - 1}))
    except _DECORD_ERRORS as error:
        return VideoCheck(path, False, _first_line(error), 0, 0.0, 0, 0)
    if not fps > 0:
        return VideoCheck(path, False, f'unusable frame rate {fps}',
                          num_frames, fps, height, width)
    return VideoCheck(path, True, '', num_frames, fps, height, width)


def _check_quick(path: str) -> VideoCheck:
    return check_video(path, full=False)


def check_videos(paths: Sequence[str], num_workers: int = 1,
                 full: bool = True) -> List[VideoCheck]:
    """``check_video`` over many files in parallel, with a progress bar.

    Returns:
        One ``VideoCheck`` per path, in the order of ``paths``.
    """
    func = check_video if full else _check_quick
    if num_workers <= 1:
        return [func(p) for p in progress(paths, desc='checking videos', unit='video')]
    with Pool(num_workers) as pool:
        return list(progress(pool.imap(func, paths, chunksize=4),
                             total=len(paths), desc='checking videos', unit='video'))


def list_videos(source: str, data_root: Optional[str] = None,
                extensions: Sequence[str] = VIDEO_EXTENSIONS) -> List[str]:
    """The videos to work on: a folder (walked) or a list file.

    Args:
        source: a folder (its regular files only), or a text file of
            ``path [label]`` lines (paths with spaces quoted).
        data_root: folder the list's relative paths are relative to
            (default: the list's folder).
        extensions: suffixes that count as videos in a folder.
    """
    if os.path.isdir(source):
        return find_video_files(source, extensions)
    if not os.path.isfile(source):
        raise FileNotFoundError(f'{source} is neither a folder nor a list')
    root = data_root or os.path.dirname(os.path.abspath(source))
    return [p if os.path.isabs(p) else os.path.join(root, p)
            for p in (parse_list_line(line)[0]
                      for line in read_lines(Path(source)))]


def write_check_report(checks: Iterable[VideoCheck], bad_list: str) -> int:
    """Write ``path<TAB>reason`` for each bad video; return their number."""
    bad = [c for c in checks if not c.ok]
    Path(bad_list).parent.mkdir(parents=True, exist_ok=True)
    with open(bad_list, 'w') as f:
        f.writelines(f'{c.path}\t{c.reason}\n' for c in bad)
    return len(bad)


def read_bad_list(path: Optional[str]) -> set:
    """The paths of a bad-video list (``verify_videos.py`` output)."""
    if not path:
        return set()
    return {os.path.abspath(line.split('\t')[0])
            for line in read_lines(Path(path))}


# --- resizing -----------------------------------------------------------------
def find_ffmpeg() -> str:
    """The system ffmpeg, else the binary of the ``imageio-ffmpeg`` wheel."""
    system = shutil.which('ffmpeg')
    if system:
        return system
    try:
        import imageio_ffmpeg
    except ImportError:
        raise FileNotFoundError(
            'No ffmpeg found: install one (apt install ffmpeg) or run '
            '`pip install imageio-ffmpeg`, whose wheel ships a binary'
        ) from None
    return imageio_ffmpeg.get_ffmpeg_exe()


# decord (0.6) fails to convert frames of these widths to RGB ("The size must
# exactly match"); measured over even widths 16..1024. A copy is made 2 pixels
# wider instead.
DECORD_BAD_WIDTHS = frozenset({16, 24, 48, 72})


def scaled_size(height: int, width: int, short_side: int) -> Tuple[int, int]:
    """``(H, W)`` with the short side ``short_side`` (never upscaled), even.

    H.264 in yuv420p needs even sizes; the long side keeps the aspect ratio;
    a width decord cannot read (``DECORD_BAD_WIDTHS``) grows by 2.
    """
    scale = min(1.0, short_side / min(height, width))
    out_h = max(2, 2 * round(height * scale / 2))
    out_w = max(2, 2 * round(width * scale / 2))
    if out_w in DECORD_BAD_WIDTHS:
        out_w += 2
    return out_h, out_w


class ResizeJob(NamedTuple):
    src: str
    dst: str
    short_side: int
    ffmpeg: str
    crf: int
    gop: int
    overwrite: bool


def resize_video(job: ResizeJob) -> Tuple[str, str]:
    """Re-encode ``job.src`` to ``job.dst`` at a smaller size.

    The frame rate is kept (the datasets subsample against it), audio is
    dropped, the keyframe interval is ``gop`` frames (random access to a
    clip then decodes at most ``gop`` extra frames). Written to a
    temporary name and renamed, so an interrupted run leaves no half file.

    Returns:
        ``(src, '')`` on success or when ``dst`` exists, ``(src, reason)``.
    """
    if os.path.exists(job.dst) and not job.overwrite:
        return job.src, ''
    check = check_video(job.src, full=False)
    if not check.ok:
        return job.src, check.reason
    height, width = scaled_size(check.height, check.width, job.short_side)
    os.makedirs(os.path.dirname(job.dst) or '.', exist_ok=True)
    suffix = os.path.splitext(job.dst)[1] or '.mp4'
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=os.path.dirname(job.dst))
    os.close(fd)
    cmd = [
        job.ffmpeg, '-y', '-loglevel', 'error', '-i', job.src, '-an',
        '-vf', f'scale={width}:{height}:flags=area', '-c:v', 'libx264',
        '-preset', 'veryfast', '-crf', str(job.crf), '-g', str(job.gop),
        '-pix_fmt', 'yuv420p', tmp
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        os.unlink(tmp)
        lines = result.stderr.strip().splitlines()
        return job.src, f'ffmpeg failed: {lines[-1] if lines else "?"}'
    # mkstemp makes the file private (0600); give the copy the usual mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, job.dst)
    return job.src, ''


def resize_videos(jobs: Sequence[ResizeJob],
                  num_workers: int = 1) -> List[Tuple[str, str]]:
    """``resize_video`` over many files, with a progress bar.

    Returns:
        ``(src, reason)`` of the videos that could not be resized.
    """
    if num_workers <= 1:
        results = [resize_video(j) for j in progress(jobs, desc='resizing', unit='video')]
    else:
        with Pool(num_workers) as pool:
            results = list(progress(pool.imap_unordered(resize_video, jobs),
                                    total=len(jobs), desc='resizing', unit='video'))
    return [(src, reason) for src, reason in results if reason]


# --- whole trees (tools/data/{kinetics,bdd100k}/*.py parse the command lines) ----
def verify_video_tree(source: str, bad_list: str, data_root: Optional[str] = None,
                      num_workers: int = 1, full: bool = True,
                      extensions: Sequence[str] = VIDEO_EXTENSIONS) -> Tuple[int, int]:
    """Check every video of a folder or a file list; write the bad ones to ``bad_list``.

    Returns:
        ``(videos checked, bad videos)``.

    Raises:
        FileNotFoundError: ``source`` is missing or holds no video.
    """
    paths = list_videos(source, data_root, extensions)
    if not paths:
        raise FileNotFoundError(f'no videos in {source}')
    checks = check_videos(paths, num_workers, full=full)
    return len(checks), write_check_report(checks, bad_list)


def resize_video_tree(src: str, dst: str, short_side: int, list_file: Optional[str] = None,
                      num_workers: int = 1, crf: int = 20, gop: int = 32,
                      overwrite: bool = False,
                      extensions: Sequence[str] = VIDEO_EXTENSIONS
                      ) -> Tuple[int, List[Tuple[str, str]], str]:
    """Small copies of the videos under ``src`` (or in ``list_file``), same layout in ``dst``.

    Returns:
        ``(videos, [(src, reason) of the failed ones], the ffmpeg used)``.

    Raises:
        NotADirectoryError: ``src`` is not a folder. ValueError: ``short_side < 2``.
    """
    if not os.path.isdir(src):
        raise NotADirectoryError(f'{src} is not a folder')
    if short_side < 2:
        raise ValueError(f'the short side must be >= 2, got {short_side}')
    paths = (list_videos(list_file, src) if list_file else
             list_videos(src, extensions=extensions))
    ffmpeg = find_ffmpeg()
    jobs = [ResizeJob(p, os.path.join(dst, os.path.relpath(p, src)), short_side, ffmpeg,
                      crf, gop, overwrite) for p in paths]
    return len(jobs), resize_videos(jobs, num_workers), ffmpeg
