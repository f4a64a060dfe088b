"""One progress bar for every long step (BatchNorm passes, scoring, sampling).

On a terminal it is tqdm's bar. Elsewhere (a log file, a pipe, a Slurm
output) a redrawn bar is a wall of carriage returns, so it prints two plain
lines instead: what starts (and how much), then what it took. Only rank 0
shows anything: the other ranks' bars would repeat it.
"""
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO

from mmengine.dist import get_rank
from tqdm import tqdm


class _LineProgress:
    """tqdm's ``update``/``close``/iteration, as a start line and an end line."""

    def __init__(self, iterable: Optional[Iterable], total: Optional[int], desc: str,
                 unit: str, file: TextIO) -> None:
        self.iterable, self.total, self.desc, self.unit, self.file = (
            iterable, total, desc, unit, file)
        self.n = 0
        self._start = time.time()
        self._closed = False
        size = f' ({total} {unit})' if total is not None else ''
        print(f'{desc}{size} ...', file=file, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            print(f'{self.desc}: {self.n} {self.unit} in {time.time() - self._start:.1f} s',
                  file=self.file, flush=True)

    def __iter__(self) -> Iterator:
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def __enter__(self) -> '_LineProgress':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _NoProgress(_LineProgress):
    def __init__(self, iterable: Optional[Iterable] = None, **_) -> None:
        self.iterable, self.n = iterable, 0

    def close(self) -> None:
        pass


def progress(iterable: Optional[Iterable] = None, *, total: Optional[int] = None,
             desc: str, unit: str = 'it', file: Optional[TextIO] = None,
             disable: bool = False):
    """A progress bar over ``iterable`` or ``total`` steps (``update(n)``, ``close()``).

    Args:
        iterable: iterate it with progress; or None and call ``update``.
        total: number of steps (taken from ``len(iterable)`` when it has one).
        desc: what runs, in the user's terms (``'BatchNorm statistics, 24 frames'``).
        unit: what a step is (``'video'``, ``'pass'``).
        file: where it goes (default stderr, like tqdm).
        disable: show nothing (also on every rank but 0).
    """
    file = file or sys.stderr
    if total is None and iterable is not None and hasattr(iterable, '__len__'):
        total = len(iterable)
    if disable or get_rank() != 0:
        return _NoProgress(iterable)
    if getattr(file, 'isatty', lambda: False)():
        return tqdm(iterable, total=total, desc=desc, unit=unit, file=file)
    return _LineProgress(iterable, total, desc, unit, file)
