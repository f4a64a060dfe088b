"""Checkpoints that a crash, a kill or a full disk cannot destroy."""
import contextlib
import errno
import logging
import os
import os.path as osp
import re
import shutil
from typing import List, Optional, Tuple

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook

from hvg.registry import HOOKS
from hvg.utils.atomic_files import (TMP_SUFFIX, atomic_write_text, commit_file,
                                    fsync_dir, remove_quietly, tmp_name)
from hvg.utils.safe_checkpoint import safe_torch_load

LAST_CHECKPOINT = 'last_checkpoint'
_STEP_FILE = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class CheckpointSaveError(RuntimeError):
    """A checkpoint could not be written (the previous one is intact)."""


class CheckpointResumeError(RuntimeError):
    """``resume`` found checkpoints in the work dir, but none loads."""


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path ``{work_dir}/last_checkpoint`` names, or None."""
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        return None
    with open(record) as f:
        return f.read().strip() or None


def resume_candidates(work_dir: str) -> List[str]:
    """Checkpoints to try, best first: the one ``last_checkpoint`` names, then
    the older ``iter_N.pth`` / ``epoch_N.pth`` beside it, newest first.

    Files newer than the named one are tried only when none is named: they
    may be left over from an earlier run in the same work dir.
    """
    named = read_last_checkpoint(work_dir)
    folders = {work_dir} | ({osp.dirname(named)} if named else set())
    found = []
    for folder in folders:
        if osp.isdir(folder):
            for name in os.listdir(folder):
                match = _STEP_FILE.match(name)
                if match:
                    found.append((int(match.group(1)), osp.join(folder, name)))
    found.sort(reverse=True)
    if named is None:
        return [path for _, path in found]
    match = _STEP_FILE.match(osp.basename(named))
    newest = int(match.group(1)) if match else float('inf')
    older = [path for step, path in found
             if step < newest and osp.abspath(path) != osp.abspath(named)]
    return [named] + older


def probe_checkpoint(path: str) -> Optional[str]:
    """None if ``path`` loads (weights-only) as a Runner checkpoint, else why not.

    The file is memory-mapped, not read: a truncated or corrupt archive, a
    pickle that weights-only loading refuses or a missing file show up
    without the cost of loading the tensors.
    """
    if not osp.isfile(path):
        return 'the file does not exist'
    try:
        checkpoint = safe_torch_load(path, map_location='cpu', mmap=True)
    except Exception as error:  # any failure to load is a reason to skip
        first_line = (str(error).splitlines() or [''])[0]
        return f'{type(error).__name__}: {first_line}'
    if not isinstance(checkpoint, dict) or not {'meta', 'state_dict'} <= checkpoint.keys():
        return "not a training checkpoint (no 'meta' / 'state_dict')"
    return None


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """``(newest checkpoint that loads or None, [(skipped path, why), ...])``."""
    skipped = []
    for path in resume_candidates(work_dir):
        reason = probe_checkpoint(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped


# mmengine's CheckpointHook.before_train and its save_checkpoint function always
# build a FileClient, which they do not use when ``file_client_args`` is None
# (their comment: kept for backward compatibility until MMEngine 1.0); building
# it logs two deprecation warnings on every run. We pass backend_args (the
# recommended way) and drop only those two messages, only around those calls.
_UNUSED_FILE_CLIENT_WARNINGS = ('"FileClient" will be deprecated',
                                '"HardDiskBackend" is the alias of "LocalBackend"')


class _DropMessages(logging.Filter):
    def __init__(self, prefixes: Tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


@contextlib.contextmanager
def _unused_file_client_quiet(logger: logging.Logger, file_client_args):
    if file_client_args is not None:  # the user asked for a FileClient: keep the warning
        yield
        return
    quiet = _DropMessages(_UNUSED_FILE_CLIENT_WARNINGS)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), made crash-safe.

    - A checkpoint is written to a hidden temporary file in its folder
      (``.iter_N.pth.tmp``), fsync'ed and renamed into place: ``iter_N.pth``
      is complete or absent, never half-written.
    - ``last_checkpoint`` is written the same way, after the checkpoint is
      complete, so it only ever names a complete file.
    - Checkpoints beyond ``max_keep_ckpts`` are removed only after the new one
      is complete (mmengine removes the oldest first), and a resumed run keeps
      the earlier run's checkpoints until its first new one is written.
    - An ``OSError`` while writing (a full disk) removes the temporary file
      and stops the run with a ``CheckpointSaveError`` naming the intact
      previous checkpoint.
    - On ``resume`` (without an explicit ``load_from``), before the Runner
      loads anything, the checkpoint ``last_checkpoint`` names is checked;
      if it does not load, the newest earlier one that does is resumed and
      the skipped ones are logged with the reason.

    Temporary files left by a killed run are removed at the next start.
    Remote ``out_dir`` backends keep mmengine's behaviour.
    """

    def before_run(self, runner) -> None:
        cfg = runner.cfg
        if not cfg.get('resume') or cfg.get('load_from') is not None:
            return
        outcome = [self._choose_resume_checkpoint(runner) if is_main_process() else None]
        broadcast_object_list(outcome)  # every rank reads the same last_checkpoint
        if outcome[0]:
            raise CheckpointResumeError(outcome[0])

    def _choose_resume_checkpoint(self, runner) -> Optional[str]:
        """Point ``last_checkpoint`` at the newest loadable checkpoint.

        Returns an error message when checkpoints exist but none loads.
        """
        named = read_last_checkpoint(runner.work_dir)
        chosen, skipped = find_resumable_checkpoint(runner.work_dir)
        for path, reason in skipped:
            runner.logger.warning(f'resume: skipped checkpoint {path}: {reason}')
        if chosen is None:
            if not skipped:
                return None  # nothing saved yet: mmengine starts from scratch
            listed = '; '.join(f'{path} ({reason})' for path, reason in skipped)
            return (f'resume: no checkpoint in {runner.work_dir} loads: {listed}. '
                    'Remove them (and last_checkpoint) to start afresh, or set '
                    'load_from to a checkpoint to resume from.')
        if skipped:
            runner.logger.warning(f'resume: falling back to {chosen}')
        if chosen != named:
            atomic_write_text(osp.join(runner.work_dir, LAST_CHECKPOINT), chosen)
        return None

    def before_train(self, runner) -> None:
        # mmengine prunes a resumed run's kept checkpoints here, before
        # anything new exists; ours waits for the first new checkpoint.
        max_keep_ckpts, self.max_keep_ckpts = self.max_keep_ckpts, -1
        try:
            with _unused_file_client_quiet(runner.logger, self.file_client_args):
                super().before_train(runner)
        finally:
            self.max_keep_ckpts = max_keep_ckpts
        if self.save_param_scheduler and not runner.param_schedulers:
            # mmengine warns at every save that there is nothing to save
            self.save_param_scheduler = False
        self.keep_ckpt_ids = list(runner.message_hub.get_info('keep_ckpt_ids', []))
        self._local = isinstance(self.file_backend, LocalBackend)
        if self._local and is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if name.startswith('.') and name.endswith('.pth' + TMP_SUFFIX):
                    runner.logger.info(f'removing {name}, left by an interrupted save')
                    remove_quietly(osp.join(self.out_dir, name))

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not self._local:
            return super()._save_checkpoint_with_step(runner, step, meta)
        filename = self.filename_tmpl.format(step)
        final_path = osp.join(self.out_dir, filename)
        tmp_path = osp.join(self.out_dir, tmp_name(filename))

        keep, dropped = list(self.keep_ckpt_ids), []
        if self.max_keep_ckpts > 0:
            if not keep or keep[-1] != step:
                keep.append(step)
            dropped, keep = keep[:-self.max_keep_ckpts], keep[-self.max_keep_ckpts:]
        # the checkpoint stores the hub: record what will be true once it is saved
        hub = runner.message_hub
        previous = {key: hub.get_info(key) for key in ('keep_ckpt_ids', 'last_ckpt')}
        if self.max_keep_ckpts > 0:
            hub.update_info('keep_ckpt_ids', keep)
        hub.update_info('last_ckpt', final_path)
        try:
            with _unused_file_client_quiet(runner.logger, self.file_client_args):
                runner.save_checkpoint(
                    self.out_dir, tmp_name(filename), self.file_client_args,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler,
                    meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args,
                    **self.args)
            if is_main_process():
                commit_file(tmp_path, final_path)
        except Exception as error:
            if is_main_process():
                remove_quietly(tmp_path)
            for key, value in previous.items():
                if value is not None:
                    hub.update_info(key, value)
            if isinstance(error, OSError):
                raise self._save_error(runner, final_path, previous['last_ckpt'],
                                       error) from error
            raise
        self.keep_ckpt_ids = keep
        self.last_ckpt = final_path
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, LAST_CHECKPOINT), final_path)
        for old_step in dropped:  # never the new one: it ends ``keep``
            old_path = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if osp.isfile(old_path):
                os.remove(old_path)
            elif osp.isdir(old_path):  # deepspeed folders
                shutil.rmtree(old_path)
        fsync_dir(self.out_dir)

    @staticmethod
    def _save_error(runner, path: str, previous: Optional[str],
                    error: OSError) -> CheckpointSaveError:
        why = ('the disk is full' if error.errno == errno.ENOSPC
               else error.strerror or str(error))
        intact = (f'{previous} is intact and last_checkpoint names it'
                  if previous else 'no earlier checkpoint was saved')
        message = (f'could not write checkpoint {path}: {why} ({error}). Nothing was '
                   f'replaced: {intact}. Free space and continue with `python '
                   f'tools/train.py CONFIG --work-dir {runner.work_dir} --resume`.')
        runner.logger.error(message)
        return CheckpointSaveError(message)
