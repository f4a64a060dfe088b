"""A dataset of video files listed in a plain-text annotation file."""
import logging
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Set, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from torch.utils.data import get_worker_info

from hvg.registry import DATASETS, TRANSFORMS
from .file_index import parse_list_line
from .read_failures import ReadFailure, VideoReadError, attach_read_report


@DATASETS.register_module()
class VideoDataset(BaseDataset):
    """Videos listed one per line as ``relative/path.mp4 [label]``.

    A path with spaces is shell-quoted, ``'playing guitar/x.mp4' 3`` (what
    the ``build_file_lists.py`` tools write; ``file_index.parse_list_line``).

    This is the format mmaction2 uses for Kinetics and that BDD100K lists
    are easy to turn into: the path is relative to ``data_root`` (absolute
    paths are kept), the label is an optional int, ``-1`` when missing
    (unconditional data). Blank lines are ignored. Class names, when known,
    go in ``metainfo=dict(classes=(...))`` and labels are checked against
    them.

    Files are not opened here: a listing of 500k videos loads in seconds, and
    a missing, corrupt, truncated or too short video is skipped in training
    mode: the pipeline returns ``None`` (``DecordInit``, ``SampleFrames``,
    ``DecordDecode``) and another random index is served. Each skipped file
    is logged once per run and every sample reports how many reads it took
    and which failed (``hvg.datasets.read_failures``), so that
    ``VideoReadFailureHook`` can count failures across DataLoader workers
    and stop a run whose data is mostly broken. In test mode a broken video
    raises ``VideoReadError`` naming the file (evaluation must not silently
    change its set).

    Each data info is ``{'filename': str, 'label': int, 'test_mode': bool}``;
    ``test_mode`` lets ``SampleFrames`` take the centre clip at evaluation.

    Args:
        ann_file: the annotation list, relative to ``data_root`` unless
            absolute.
        data_root: folder the listed paths are relative to. Required: the
            base configs leave it ``None`` for the user to set.
        pipeline: transforms (configs or callables).
        test_mode: evaluation mode: deterministic clips, and a broken video
            raises instead of being skipped (mmengine's rule).
        **kwargs: other ``BaseDataset`` arguments (``metainfo``,
            ``lazy_init``, ``max_refetch``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str = '',
                 data_root: Optional[str] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if data_root is None:
            raise ValueError(
                f'{self.__class__.__name__}: data_root is not set. Set it to '
                'the folder holding the videos, in the config or with '
                '`--cfg-options train_dataloader.dataset.data_root=/path` '
                '(likewise val_dataloader / test_dataloader).')
        # Build transforms from our registry so the dataset also works
        # without `default_scope='hvg'` (BaseDataset would use mmengine's root
        # registry, which does not know our transforms).
        pipeline = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]
        # Files this process has logged; in the main process that is the
        # whole run (workers leave logging to the hook, see _record_skip).
        self._logged_skips: Set[str] = set()
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse ``ann_file`` into ``[{'filename', 'label'}, ...]``."""
        ann_file = Path(self.ann_file)
        if not ann_file.is_file():
            raise FileNotFoundError(
                f'{self.__class__.__name__}: annotation file {ann_file} not '
                'found (ann_file is joined to data_root when relative)')
        classes = self.metainfo.get('classes')
        data_list = []
        with open(ann_file) as f:
            for line_no, line in enumerate(f, start=1):
                try:
                    fields = parse_list_line(line)
                except ValueError:  # an unclosed quote
                    fields = [line, 'unparsable']
                if not fields:
                    continue
                label = self._parse_label(fields, classes)
                if label is None:
                    raise ValueError(
                        f'{ann_file}, line {line_no}: expected '
                        '"relative/path.mp4 [label]" with an int label' +
                        (f' in [0, {len(classes)})' if classes else '') +
                        f', got {line.rstrip()!r} (quote a path that holds '
                        'spaces: \'playing guitar/x.mp4\' 3)')
                data_list.append(
                    dict(
                        filename=str(Path(self.data_root) / fields[0]),
                        label=label))
        if not data_list:
            raise ValueError(f'{ann_file} lists no videos')
        return data_list

    @staticmethod
    def _parse_label(fields: List[str],
                     classes: Optional[Sequence[str]]) -> Optional[int]:
        """The label of one line's fields, or ``None`` if it is malformed."""
        if len(fields) == 1:
            return -1
        if len(fields) != 2:
            return None
        try:
            label = int(fields[1])
        except ValueError:
            return None
        if label < 0 or (classes and label >= len(classes)):
            return None
        return label

    def get_data_info(self, idx: int) -> dict:
        data_info = super().get_data_info(idx)
        data_info['test_mode'] = self.test_mode
        # The transforms leave skip reasons to us (see __getitem__).
        data_info['defer_skip_log'] = True
        return data_info

    def __getitem__(self, idx: int) -> Any:
        """The packed clip of ``idx``, or of another index if it is broken.

        Training mode: up to ``max_refetch`` other random indices are tried
        after a skip; the served sample carries the read report
        (``read_attempts``, ``read_failures``). Test mode: a broken video
        raises ``VideoReadError``.
        """
        if not self._fully_initialized:
            self.full_init()
        failures: List[ReadFailure] = []
        for attempt in range(1, self.max_refetch + 2):
            data_info = self.get_data_info(idx)
            data = self.pipeline(data_info)
            if data is not None:
                return attach_read_report(data, attempt, failures)
            failure = self._record_skip(data_info)
            if self.test_mode:
                raise VideoReadError(
                    f'{self.__class__.__name__} (test mode): {failure.reason}')
            failures.append(failure)
            idx = self._rand_another()
        recent = '; '.join(f.reason for f in failures[-3:])
        raise VideoReadError(
            f'{self.__class__.__name__}: {len(failures)} reads in a row '
            f'failed (max_refetch={self.max_refetch}); the data is unusable. '
            f'Check data_root ({self.data_root}) and the annotation file, or '
            f'run the verify tool of tools/data/. Last reasons: {recent}')

    def _record_skip(self, data_info: dict) -> ReadFailure:
        """Log a skipped read once per file (main process only)."""
        filename = str(data_info.get('filename'))
        reason = data_info.get(
            'skip_reason',
            f'Skipping video {filename}: the pipeline returned None')
        kind = data_info.get('skip_kind', 'failed')
        # In a DataLoader worker another worker may log the same file, so
        # the main process (VideoReadFailureHook) does it from the report.
        logged = False
        if get_worker_info() is None:
            logged = True
            if filename not in self._logged_skips:
                self._logged_skips.add(filename)
                print_log(reason, logger='current', level=logging.WARNING)
        return ReadFailure(filename, kind, reason, logged)

    def get_cat_ids(self, idx: int) -> List[int]:
        """The label as a category list (for ``ClassBalancedDataset``)."""
        label = self.get_data_info(idx)['label']
        return [] if label < 0 else [label]
