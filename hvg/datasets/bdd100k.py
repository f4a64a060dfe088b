"""BDD100K driving videos (unconditional): ``videos/{train,val}/*.mov``."""
import logging
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.logging import print_log

from hvg.registry import DATASETS
from .file_index import (index_videos, parse_list_line, read_lines,
                         report_missing)
from .video_dataset import VideoDataset

BDD100K_EXTENSIONS = ('.mov', )


@DATASETS.register_module()
class BDD100KDataset(VideoDataset):
    """BDD100K videos of one split, unconditional (label -1).

    The paper trains on the 70K videos of the training split (section 5.1).
    Without ``ann_file`` the videos are found by listing
    ``data_root/videos/{split}`` (the layout of the official zip); with one
    (``tools/data/bdd100k/build_file_lists.py`` writes it, e.g. after
    dropping the files the verify tool flagged), its ``relative/path.mov``
    lines are used, and listed files missing on disk are counted
    (``num_missing``) and reported in one warning.

    Args:
        data_root: the BDD100K folder (holding ``videos/``). Required.
        split: ``'train'`` or ``'val'`` (the folder under ``videos/``).
        ann_file: optional list, relative to ``data_root`` unless absolute.
        extensions: file suffixes that count as videos when listing.
        pipeline, test_mode, **kwargs: see ``VideoDataset``.
    """

    def __init__(self,
                 data_root: Optional[str] = None,
                 split: str = 'train',
                 ann_file: str = '',
                 extensions: Sequence[str] = BDD100K_EXTENSIONS,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if data_root is not None and not osp.isdir(data_root):
            raise FileNotFoundError(
                f'BDD100KDataset: data_root {data_root} is not a folder')
        self.split = split
        self.extensions = tuple(extensions)
        self.num_missing = 0
        self.missing_videos: List[str] = []
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        if self.ann_file:
            data_list = self._from_list()
        else:
            data_list = self._from_folder()
        print_log(f'BDD100KDataset: {len(data_list)} videos ({self.split})',
                  logger='current', level=logging.INFO)
        return data_list

    def _from_folder(self) -> List[dict]:
        folder = osp.join(self.data_root, 'videos', self.split)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'BDD100KDataset: {folder} not found; data_root must hold '
                f'videos/{self.split}/*.mov (the official zip unpacked), or '
                'set ann_file to a list of videos')
        paths = sorted(index_videos(folder, self.extensions).values())
        if not paths:
            raise FileNotFoundError(
                f'BDD100KDataset: no {"/".join(self.extensions)} videos in '
                f'{folder}')
        return [dict(filename=path, label=-1) for path in paths]

    def _from_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'BDD100KDataset: annotation list {self.ann_file} not found '
                '(relative to data_root unless absolute); write it with '
                'tools/data/bdd100k/build_file_lists.py')
        listed = [parse_list_line(line)[0]
                  for line in read_lines(self.ann_file)]
        if not listed:
            raise ValueError(f'BDD100KDataset: {self.ann_file} lists no '
                             'videos')
        data_list, missing = [], []
        for rel in listed:
            path = rel if osp.isabs(rel) else osp.join(self.data_root, rel)
            if osp.isfile(path):
                data_list.append(dict(filename=path, label=-1))
            else:
                missing.append(rel)
        self.num_missing, self.missing_videos = len(missing), missing
        if not data_list:
            raise FileNotFoundError(
                f'BDD100KDataset: none of the {len(listed)} videos listed in '
                f'{self.ann_file} exists under {self.data_root}; check '
                'data_root')
        report_missing('BDD100KDataset', missing, len(listed), self.data_root)
        return data_list
