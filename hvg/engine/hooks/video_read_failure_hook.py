"""Counts failed video reads in the main process; stops a run on bad data."""
import logging
import os.path as osp
from typing import Dict, Optional, Set

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log

from hvg.datasets.read_failures import batch_read_report
from hvg.registry import HOOKS


class VideoReadFailureError(RuntimeError):
    """Too large a fraction of a run's video reads failed."""


@HOOKS.register_module()
class VideoReadFailureHook(Hook):
    """Logs each bad video once, lists them, stops when too many reads fail.

    The datasets skip a broken video and serve another clip; each sample
    says how many reads it took and which failed (see
    ``hvg.datasets.read_failures`` for why the report travels in the batch
    rather than in a counter: DataLoader workers are separate processes).
    This hook, in the main process of each rank:

    - logs every bad file once per run (files already logged by a dataset
      running in the main process, i.e. ``num_workers=0``, are not
      repeated);
    - appends each new bad file to ``{work_dir}/{report_file}`` (one
      ``filename<TAB>kind<TAB>reason`` line; rank ``r > 0`` writes
      ``bad_videos_rank{r}.txt``) so a long run leaves the list to clean;
    - after ``min_reads`` reads, raises ``VideoReadFailureError`` when more
      than ``max_fail_fraction`` of this rank's reads failed: a wrong
      ``data_root``, a half-finished download or a broken copy should stop
      the run, not train it on the few good files. Too-short videos are
      reported but do not count as failed reads (they are a property of the
      level's clip length, not broken files).

    Under torchrun each rank judges its own reads (its share of a random
    sample of the data); a rank that stops brings the job down.

    Args:
        max_fail_fraction: the largest tolerated ``failed / reads``.
        min_reads: reads counted before the fraction is judged (a few
            unlucky draws at the start must not stop a run).
        report_file: file name of the list of bad videos in the work dir.
    """

    priority = 'NORMAL'

    def __init__(self,
                 max_fail_fraction: float = 0.1,
                 min_reads: int = 100,
                 report_file: str = 'bad_videos.txt') -> None:
        if not 0 <= max_fail_fraction <= 1:
            raise ValueError('max_fail_fraction must be in [0, 1], got '
                             f'{max_fail_fraction}')
        if min_reads < 1:
            raise ValueError(f'min_reads must be >= 1, got {min_reads}')
        self.max_fail_fraction = max_fail_fraction
        self.min_reads = min_reads
        self.report_file = report_file
        self.num_reads = 0
        self.num_failed = 0
        self.num_short = 0
        self.bad_files: Dict[str, str] = {}  # filename -> reason
        self._logged: Set[str] = set()
        self.report_path: Optional[str] = None

    def before_train(self, runner) -> None:
        rank = get_rank()
        name = self.report_file
        if rank > 0:
            stem, ext = osp.splitext(name)
            name = f'{stem}_rank{rank}{ext}'
        self.report_path = osp.join(runner.work_dir, name)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        report = batch_read_report(data_batch)
        if not report['attempts']:
            return
        self.num_reads += report['attempts']
        new_lines = []
        for failure in report['failures']:
            if failure.kind == 'short':
                self.num_short += 1
            else:
                self.num_failed += 1
            if failure.filename in self.bad_files:
                continue
            self.bad_files[failure.filename] = failure.reason
            new_lines.append(
                f'{failure.filename}\t{failure.kind}\t{failure.reason}\n')
            if not failure.logged and failure.filename not in self._logged:
                print_log(failure.reason, logger='current',
                          level=logging.WARNING)
            self._logged.add(failure.filename)
        if new_lines and self.report_path is not None:
            with open(self.report_path, 'a') as f:
                f.writelines(new_lines)
        self._check(runner)

    def _check(self, runner) -> None:
        if self.num_reads < self.min_reads:
            return
        fraction = self.num_failed / self.num_reads
        if fraction <= self.max_fail_fraction:
            return
        message = (
            f'Stopping at iteration {runner.iter + 1}: {self.num_failed} of '
            f'{self.num_reads} video reads failed ({fraction:.1%}), more '
            f'than max_fail_fraction={self.max_fail_fraction:.1%}. '
            f'{len(self.bad_files)} bad files are listed in '
            f'{self.report_path}. Check data_root and the annotation file, '
            'run the verify tool (tools/data/kinetics/verify_videos.py or '
            'tools/data/bdd100k/verify_videos.py) and drop the bad files, or '
            'raise max_fail_fraction of VideoReadFailureHook.')
        print_log(message, logger='current', level=logging.ERROR)
        raise VideoReadFailureError(message)

    def after_train(self, runner) -> None:
        if not self.num_reads:
            return
        level = logging.WARNING if self.bad_files else logging.INFO
        where = (f'; listed in {self.report_path}'
                 if self.bad_files else '')
        print_log(
            f'Video reads: {self.num_reads}, failed {self.num_failed} '
            f'({self.num_failed / self.num_reads:.1%}), too short '
            f'{self.num_short}; {len(self.bad_files)} distinct bad files'
            f'{where}', logger='current', level=level)
