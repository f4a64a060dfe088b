"""Files that a crash leaves either old or new, never half-written.

A file is written under a temporary name in its own folder, flushed and
fsync'ed, then renamed over the final name (``os.replace``, atomic on POSIX
and Windows within one file system); the folder is fsync'ed so the rename
itself survives a power cut. A reader therefore sees the previous complete
file or the new complete file.
"""
import json
import os
import os.path as osp
import tempfile

import numpy as np

TMP_SUFFIX = '.tmp'


def tmp_name(filename: str) -> str:
    """The hidden temporary name next to ``filename``: ``.iter_8.pth.tmp``."""
    return f'.{filename}{TMP_SUFFIX}'


def fsync_dir(folder: str) -> None:
    """Make a rename or removal in ``folder`` durable (no-op where folders
    cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_file(tmp_path: str, final_path: str) -> None:
    """fsync the complete ``tmp_path`` and rename it over ``final_path``."""
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp_path, final_path)
    fsync_dir(osp.dirname(final_path))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``: the old content or the new, never a mix.

    On failure (a full disk, say) the temporary file is removed and the
    error propagates; ``path`` is untouched.
    """
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp_path = osp.join(folder, tmp_name(name))
    try:
        with open(tmp_path, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except Exception:
        remove_quietly(tmp_path)
        raise
    fsync_dir(folder)


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode('utf-8'))


def remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def save_arrays(path: str, key: dict, arrays: dict) -> None:
    """Write ``arrays`` and the ``key`` that made them to ``path`` (.npz), atomically.

    Plain arrays only (``np.load(allow_pickle=False)`` reads them back); the
    key is stored as sorted JSON, compared as such when the file is read.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.npz', dir=osp.dirname(osp.abspath(path)))
    os.close(fd)
    np.savez(tmp, key=np.array(json.dumps(key, sort_keys=True)), **arrays)
    os.replace(tmp, path)  # never a half-written cache
