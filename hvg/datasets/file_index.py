"""Find video files under a folder once, instead of one ``stat`` per entry.

Kinetics-600 lists ~500k clips; checking each with ``os.path.isfile`` is
slow on network file systems, while one walk of the tree costs a directory
listing per folder (600 class folders, or one flat folder).
"""
import logging
import os
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

from mmengine.logging import print_log

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov', '.m4v')


def index_videos(root: str,
                 extensions: Sequence[str] = VIDEO_EXTENSIONS
                 ) -> Dict[str, str]:
    """Map each video's file stem to its path, for every video under ``root``.

    The layout does not matter (per-class folders, split folders, flat):
    Kinetics clips are identified by their name
    ``{youtube_id}_{start:06d}_{end:06d}``, BDD100K videos by their id.

    Args:
        root: folder to walk (symlinks to folders are followed).
        extensions: lower-case suffixes that count as videos.

    Returns:
        ``{stem: absolute path}``. When a stem appears twice (e.g. an
        ``.mp4`` and an ``.mkv`` of one clip), the first path in sorted
        order wins and one warning says how many duplicates were ignored.
    """
    exts = tuple(e.lower() for e in extensions)
    index: Dict[str, str] = {}
    duplicates: List[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            stem, ext = os.path.splitext(name)
            if ext.lower() not in exts:
                continue
            path = os.path.join(dirpath, name)
            if stem in index:
                duplicates.append(path)
                continue
            index[stem] = path
    if duplicates:
        print_log(
            f'{len(duplicates)} videos under {root} share a name with another '
            f'one and are ignored (first: {duplicates[0]}); point data_root '
            'at one copy of the dataset', logger='current',
            level=logging.WARNING)
    return index


def report_missing(dataset: str, missing: Sequence[str], listed: int,
                   where: str) -> None:
    """One warning for all the listed videos that are not on disk."""
    if not missing:
        return
    shown = ', '.join(missing[:5])
    print_log(
        f'{dataset}: {len(missing)} of {listed} listed videos are missing '
        f'under {where} and are left out (first: {shown}). '
        'Expected for Kinetics (videos disappear from YouTube); the '
        'preparation tools write the full list.', logger='current',
        level=logging.WARNING)


def read_lines(path: Path) -> Iterable[str]:
    """Non-empty, stripped lines of a text file."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield line
