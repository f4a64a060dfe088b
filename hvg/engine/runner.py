"""The Runner of ``tools/train.py`` and the demo: mmengine's, with a quiet console.

mmengine prints the whole environment, the merged config and the hook order
(about 280 lines) before the first iteration. Here they go to the log file in
the work dir only, and the console shows what the run is (config, length, work
dir, log file), HVG's own messages, warnings and errors, then the iteration
logs; a final line ends every run, even one shorter than the logging interval. ``console_log =
'verbose'`` in a config (``tools/train.py --verbose``) restores mmengine's console.
"""
import logging
import os.path as osp
import time
from typing import Optional, Union

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import Runner

CONSOLE_MODES = ('quiet', 'verbose')

# What mmengine logs while it sets a run up, each as one INFO record: the
# environment and config dumps, the hook order, a SyncBN note that applies to
# every single-process run (revert_sync_batchnorm), and the checkpoint folder
# (the work dir our first line names).
MMENGINE_SETUP_MESSAGES = (
    '\n' + '-' * 60 + '\nSystem environment:',
    'Config:\n',
    'Hooks will be executed in the following order',
    'Distributed training is not used, all SyncBatchNorm',
    'Checkpoints will be saved to',
)


class QuietConsoleFilter(logging.Filter):
    """Keep mmengine's setup dumps (``MMENGINE_SETUP_MESSAGES``) off the console.

    Only INFO records that start with one of them are dropped: warnings,
    errors and every message of HVG's own (datasets found, frozen levels
    loaded, RNG states restored) still reach the console, and the log file
    keeps everything.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO
                    and str(record.msg).startswith(MMENGINE_SETUP_MESSAGES))


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f'{minutes} min {seconds} s' if minutes else f'{seconds} s'


class RunSummaryHook(Hook):
    """Log a final line at the end of training.

    The final line (iterations, time, latest losses, last checkpoint) is the
    only output of a run shorter than the logger's interval, and the place a
    user looks for where the weights went.
    """

    priority = 'LOWEST'  # after_train: after the last checkpoint and samples

    def __init__(self) -> None:
        self._start: Optional[float] = None
        self._start_iter = 0

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._start is None:
            self._start, self._start_iter = time.time(), runner.iter

    def after_train(self, runner) -> None:
        hub = runner.message_hub
        losses = ', '.join(
            f'{key[len("train/"):]} {scalar.current():.4g}'
            for key, scalar in sorted(hub.log_scalars.items())
            if key.startswith('train/loss'))
        elapsed = time.time() - self._start if self._start is not None else 0.0
        done = runner.iter - self._start_iter
        parts = [f'finished: iteration {runner.iter} ({done} in {_duration(elapsed)})']
        if losses:
            parts.append(losses)
        checkpoint = hub.get_info('last_ckpt')
        if checkpoint:
            parts.append(f'last checkpoint {checkpoint}')
        runner.logger.info('; '.join(parts))


class HVGRunner(Runner):
    """mmengine's Runner with the quiet console of this module (``console_log``)."""

    def __init__(self, *args, **kwargs) -> None:
        self._console_filter: Optional[QuietConsoleFilter] = None
        super().__init__(*args, **kwargs)
        self.register_hook(RunSummaryHook())
        if self._console_filter is not None:  # what the hidden lines were for
            source = self.cfg.filename or 'a config dict'
            train_cfg = self.cfg.get('train_cfg') or {}
            length = (f' ({train_cfg["max_iters"]} iterations)'
                      if 'max_iters' in train_cfg else '')
            logger_cfg = (self.cfg.get('default_hooks') or {}).get('logger') or {}
            every = (f'; iteration logs every {logger_cfg["interval"]}'
                     if 'interval' in logger_cfg else '')
            log_file = next((h.baseFilename for h in self.logger.handlers
                             if isinstance(h, logging.FileHandler)), None)
            # the one line of the hidden dumps a distributed run must show
            ranks = (f' on {self.world_size} processes ({self.launcher} launcher)'
                     if self.world_size > 1 else '')
            self.logger.info(f'training {source}{length}{ranks} in '
                             f'{osp.abspath(self.work_dir)}{every}')
            if log_file:
                self.logger.info(f'full log (environment, config, hooks): {log_file}; '
                                 'tools/train.py --verbose prints it here too')

    def build_logger(self, log_level: Union[int, str] = 'INFO',
                     log_file: Optional[str] = None, **kwargs) -> MMLogger:
        """mmengine's logger; in quiet mode its console handler gets the filter."""
        logger = super().build_logger(log_level, log_file, **kwargs)
        mode = self.cfg.get('console_log', 'quiet')
        if mode not in CONSOLE_MODES:
            raise ValueError(f'console_log must be one of {CONSOLE_MODES}, got {mode!r}')
        if mode == 'quiet':
            self._console_filter = QuietConsoleFilter()
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler:  # not the FileHandler subclass
                    handler.addFilter(self._console_filter)
        return logger
