"""Find video files under a folder once, instead of one ``stat`` per entry.

Kinetics-600 lists ~500k clips; checking each with ``os.path.isfile`` is
slow on network file systems, while one walk of the tree costs a directory
listing per folder (600 class folders, or one flat folder).
"""
import logging
import os
import shlex
import stat
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

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
    index: Dict[str, str] = {}
    duplicates: List[str] = []
    for path in find_video_files(root, extensions):
        stem = os.path.splitext(os.path.basename(path))[0]
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


def find_video_files(root: str,
                     extensions: Sequence[str] = VIDEO_EXTENSIONS) -> List[str]:
    """Paths of the regular files under ``root`` whose suffix is a video's.

    Only regular files (or links to them) count: a FIFO, socket or device
    named ``x.mp4`` would block the decoder's ``open()`` forever (a FIFO
    waits for a writer), and a broken link cannot be read. Those are left
    out and named in one warning. A folder named ``x.mp4`` is walked like
    any folder.

    The walk uses ``os.scandir``, whose entries know their type from the
    directory listing on most file systems (no ``stat`` per file; links
    are resolved with one). Symlinks to folders are followed, in sorted
    order, as ``os.walk(followlinks=True)`` would.
    """
    exts = tuple(e.lower() for e in extensions)
    found: List[str] = []
    skipped: List[str] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # unreadable folder: os.walk ignores it too
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                    continue
                if os.path.splitext(entry.name)[1].lower() not in exts:
                    continue
                regular = entry.is_file()
            except OSError:
                regular = False
            (found if regular else skipped).append(entry.path)
        pending.extend(reversed(subfolders))  # depth-first, sorted
    if skipped:
        print_log(
            f'{len(skipped)} entries under {root} have a video suffix but are '
            f'not regular files (FIFOs, sockets, devices or broken links) and '
            f'are left out (first: {skipped[0]})', logger='current',
            level=logging.WARNING)
    return found


def is_regular_file(path: str) -> bool:
    """True for a regular file (or a link to one); never opens ``path``.

    ``os.stat`` does not block on a FIFO, while ``open()`` does.
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


# --- file lists ---------------------------------------------------------------
# One line per video: ``path [label]``, whitespace-separated (mmaction2's
# format). A path holding whitespace (Kinetics class folders such as
# ``playing guitar/``) is written shell-quoted, ``'playing guitar/x.mp4' 3``,
# and read back with ``shlex``; lines that do not start with a quote are split
# on whitespace as before, so existing lists read the same.
_QUOTES = ('"', "'")


def format_list_line(path: str, label: Optional[int] = None) -> str:
    """One line of a file list (with its newline); see ``parse_list_line``."""
    if any(c.isspace() for c in path) or path.startswith(_QUOTES):
        path = shlex.quote(path)
    return f'{path}\n' if label is None else f'{path} {label}\n'


def parse_list_line(line: str) -> List[str]:
    """The fields of one list line: ``[path]`` or ``[path, label, ...]``.

    Raises:
        ValueError: a quoted path whose quotes do not close.
    """
    line = line.strip()
    if line.startswith(_QUOTES):
        return shlex.split(line)
    return line.split()


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
