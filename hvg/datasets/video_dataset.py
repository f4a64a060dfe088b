"""A dataset of video files listed in a plain-text annotation file."""
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from hvg.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class VideoDataset(BaseDataset):
    """Videos listed one per line as ``relative/path.mp4 [label]``.

    This is the format mmaction2 uses for Kinetics and that BDD100K lists
    are easy to turn into: the path is relative to ``data_root`` (absolute
    paths are kept), the label is an optional int, ``-1`` when missing
    (unconditional data). Blank lines are ignored. Class names, when known,
    go in ``metainfo=dict(classes=(...))`` and labels are checked against
    them.

    Files are not opened here: a listing of 500k videos loads in seconds, and
    a missing or corrupt video is skipped with a warning by the pipeline
    (``DecordInit`` returns ``None``, and ``BaseDataset`` refetches another
    index in training mode).

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
                fields = line.split()
                if not fields:
                    continue
                label = self._parse_label(fields, classes)
                if label is None:
                    raise ValueError(
                        f'{ann_file}, line {line_no}: expected '
                        '"relative/path.mp4 [label]" with an int label' +
                        (f' in [0, {len(classes)})' if classes else '') +
                        f', got {line.rstrip()!r}')
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
        return data_info

    def get_cat_ids(self, idx: int) -> List[int]:
        """The label as a category list (for ``ClassBalancedDataset``)."""
        label = self.get_data_info(idx)['label']
        return [] if label < 0 else [label]
