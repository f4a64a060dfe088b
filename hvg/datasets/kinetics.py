"""Kinetics-600 from its official annotation CSVs and downloaded clips."""
import csv
import logging
import os.path as osp
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmengine.logging import print_log

from hvg.registry import DATASETS
from .file_index import (VIDEO_EXTENSIONS, index_videos, read_lines,
                         report_missing)
from .video_dataset import VideoDataset

# Columns of the official train/validate CSVs (the test CSV has no label).
KINETICS_COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


def kinetics_clip_name(youtube_id: str, time_start: int, time_end: int) -> str:
    """File stem of a downloaded clip: ``{youtube_id}_{start:06d}_{end:06d}``.

    The naming of the ActivityNet crawler and of most public mirrors.
    """
    return f'{youtube_id}_{int(time_start):06d}_{int(time_end):06d}'


def read_kinetics_csv(path: Union[str, Path],
                      split: Optional[str] = None) -> List[Dict[str, str]]:
    """Rows of an official Kinetics CSV, checked.

    Args:
        path: ``label,youtube_id,time_start,time_end,split[,is_cc]`` CSV.
        split: keep only rows whose ``split`` column equals it (``None``:
            all rows).

    Returns:
        ``[{'label', 'youtube_id', 'time_start': int, 'time_end': int,
        'split'}, ...]`` in file order.

    Raises:
        FileNotFoundError: no such file.
        ValueError: empty file, missing columns, bad times, or no row of
            ``split``; the message names the file (and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'Kinetics annotation file {path} not found')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if not columns:
            raise ValueError(f'{path} is empty: expected the official CSV '
                             f'with columns {",".join(KINETICS_COLUMNS)},split')
        missing = [c for c in KINETICS_COLUMNS if c not in columns]
        if missing:
            raise ValueError(
                f'{path} lacks the columns {missing} (has {columns}); '
                'expected the official train/validate CSV '
                '"label,youtube_id,time_start,time_end,split"')
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if split is not None and row.get('split') != split:
                continue
            try:
                start, end = (int(float(row['time_start'])),
                              int(float(row['time_end'])))
            except (TypeError, ValueError):
                raise ValueError(
                    f'{path}, line {line_no}: time_start/time_end must be '
                    f'numbers, got {row}') from None
            label, youtube_id = row['label'], row['youtube_id']
            if not label or not youtube_id:
                raise ValueError(f'{path}, line {line_no}: empty label or '
                                 f'youtube_id in {row}')
            rows.append(dict(label=label.strip(), youtube_id=youtube_id,
                             time_start=start, time_end=end,
                             split=row.get('split')))
    if not rows:
        which = f' with split == {split!r}' if split is not None else ''
        raise ValueError(f'{path} has no annotation rows{which}')
    return rows


def class_names_from_rows(rows: Sequence[Dict[str, str]]) -> Tuple[str, ...]:
    """The stable class index of a CSV: its label names, sorted."""
    return tuple(sorted({row['label'] for row in rows}))


def read_class_names(path: Union[str, Path]) -> Tuple[str, ...]:
    """A classes file: one class name per line, label = line number - 1."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f'class index {path} not found. Write it with `python '
            'tools/data/kinetics/build_file_lists.py DATA_ROOT --split '
            'train:annotations/train.csv:videos/train` (it sorts the label '
            'names of the training CSV), or set classes=None to derive it '
            'from this CSV')
    names = tuple(read_lines(path))
    if not names:
        raise ValueError(f'class index {path} is empty')
    if len(set(names)) != len(names):
        raise ValueError(f'class index {path} repeats class names')
    return names


def clip_span_seconds(pipeline: Sequence[Union[dict, Callable]]) -> float:
    """Seconds between the first and last frame that ``SampleFrames`` takes."""
    for step in pipeline:
        if isinstance(step, dict) and step.get('type') == 'SampleFrames':
            fps = step.get('base_fps')
            if not fps:
                raise ValueError("min_duration='auto' needs SampleFrames(base_fps=...) "
                                 'to count seconds')
            return (step['clip_len'] - 1) * step.get('frame_interval', 1) / fps
    raise ValueError("min_duration='auto' needs a SampleFrames step in the pipeline")


@DATASETS.register_module()
class KineticsDataset(VideoDataset):
    """Kinetics-600 (class-conditional) from the official CSVs or a list.

    ``ann_file`` ending in ``.csv``: the official
    ``label,youtube_id,time_start,time_end,split`` rows; each clip is found
    as ``{youtube_id}_{start:06d}_{end:06d}.{mp4,mkv,webm,...}`` anywhere
    under ``data_root/video_dir`` (per-class folders or flat: the tree is
    walked once). Any other ``ann_file``: a prepared list of
    ``relative/path.mp4 label`` lines (mmaction2 style, written by
    ``tools/data/kinetics/build_file_lists.py``, e.g. without the files the
    verify tool flagged), paths relative to ``data_root``.

    Listed clips missing on disk (Kinetics loses videos from YouTube every
    month) are counted (``num_missing``, ``missing_videos``) and reported in
    one warning, not fatal; if none is found, that is an error (a wrong
    path).

    Labels index a stable class index: the sorted label names of the
    training CSV. ``tools/data/kinetics/build_file_lists.py`` writes it to a
    classes file (one name per line) that ``classes`` can point to, so that
    every split (and a list with int labels) shares one index even when a
    split lacks a class. ``classes=None`` derives it from this CSV (the same
    index, for the training CSV); with a list and ``classes=None`` the int
    labels are only checked against ``num_classes``. A label name absent
    from the index is a start-up error.

    Args:
        ann_file: CSV or list, relative to ``data_root`` unless absolute.
        data_root: the dataset folder. Required.
        video_dir: folder of the clips (CSV mode), relative to ``data_root``.
        classes: classes file (relative to ``data_root`` unless absolute),
            a sequence of names, or ``None`` (see above).
        num_classes: if set, the class index must have exactly this many
            names and labels must be below it (600 for Kinetics-600: the
            model's class embedding size).
        split: CSV mode: keep only rows of this ``split`` value (``None``:
            all).
        min_duration: CSV mode: drop rows whose annotated
            ``time_end - time_start`` is shorter, in seconds (clips that
            cannot hold the level's span; see docs/data.md). ``'auto'``: the
            span of the pipeline's ``SampleFrames``, ``(clip_len - 1) *
            frame_interval / base_fps``, so a level config says its clip
            shape once.
        extensions: file suffixes that count as videos.
        pipeline, test_mode, **kwargs: see ``VideoDataset``.
    """

    def __init__(self,
                 ann_file: str = '',
                 data_root: Optional[str] = None,
                 video_dir: str = '',
                 classes: Union[str, Sequence[str], None] = None,
                 num_classes: Optional[int] = None,
                 split: Optional[str] = None,
                 min_duration: Union[float, str] = 0,
                 extensions: Sequence[str] = VIDEO_EXTENSIONS,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if data_root is not None and not osp.isdir(data_root):
            raise FileNotFoundError(
                f'KineticsDataset: data_root {data_root} is not a folder')
        self.video_dir = video_dir
        self.split = split
        self.min_duration = (clip_span_seconds(pipeline) if min_duration == 'auto'
                             else float(min_duration))
        self.extensions = tuple(extensions)
        self.num_missing = 0
        self.missing_videos: List[str] = []
        self.num_too_short = 0
        self.num_classes = num_classes
        self._rows: Optional[List[Dict[str, str]]] = None
        if data_root is not None:
            names = self._resolve_classes(classes, ann_file, data_root)
            if names is not None:
                if num_classes is not None and len(names) != num_classes:
                    raise ValueError(
                        f'KineticsDataset: the class index has {len(names)} '
                        f'names but num_classes={num_classes} (the model is '
                        f'built for {num_classes}); check classes={classes!r}'
                        f' and ann_file={ann_file!r}')
                kwargs['metainfo'] = dict(kwargs.pop('metainfo', None) or {},
                                          classes=names)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    @staticmethod
    def _join(data_root: str, path: str) -> str:
        return path if osp.isabs(path) else osp.join(data_root, path)

    @staticmethod
    def _is_csv(ann_file: str) -> bool:
        return str(ann_file).lower().endswith('.csv')

    def _resolve_classes(self, classes, ann_file: str,
                         data_root: str) -> Optional[Tuple[str, ...]]:
        if isinstance(classes, str):
            return read_class_names(self._join(data_root, classes))
        if classes is not None:
            return tuple(classes)
        if not self._is_csv(ann_file):
            return None
        self._rows = read_kinetics_csv(self._join(data_root, ann_file),
                                       self.split)
        names = class_names_from_rows(self._rows)
        print_log(
            f'KineticsDataset: class index = the {len(names)} sorted label '
            f'names of {ann_file} (classes=None); use a classes file so that '
            'every split shares one index', logger='current',
            level=logging.INFO)
        return names

    def load_data_list(self) -> List[dict]:
        """Match CSV rows (or list lines) to files on disk, labels to indices."""
        if not self._is_csv(self.ann_file):
            return self._load_list()
        rows = self._rows or read_kinetics_csv(self.ann_file, self.split)
        self._rows = None  # not kept: 500k dicts per dataloader worker
        classes = self.metainfo['classes']
        label_of = {name: i for i, name in enumerate(classes)}
        unknown = sorted({r['label'] for r in rows} - set(label_of))
        if unknown:
            raise ValueError(
                f'{self.ann_file}: {len(unknown)} label names are not in the '
                f'class index ({len(classes)} names): {unknown[:5]}. Use the '
                'classes file built from the training CSV for every split')
        kept = [r for r in rows
                if r['time_end'] - r['time_start'] >= self.min_duration]
        self.num_too_short = len(rows) - len(kept)
        if self.num_too_short:
            print_log(
                f'KineticsDataset: {self.num_too_short} of {len(rows)} clips '
                f'of {self.ann_file} are annotated shorter than '
                f'min_duration={self.min_duration}s and are left out',
                logger='current', level=logging.INFO)
        video_root = self._join(self.data_root, self.video_dir)
        if not osp.isdir(video_root):
            raise FileNotFoundError(
                f'KineticsDataset: video folder {video_root} not found '
                '(data_root joined with video_dir)')
        on_disk = index_videos(video_root, self.extensions)
        data_list, missing = [], []
        for row in kept:
            name = kinetics_clip_name(row['youtube_id'], row['time_start'],
                                      row['time_end'])
            path = on_disk.get(name)
            if path is None:
                missing.append(name)
                continue
            data_list.append(dict(filename=path, label=label_of[row['label']]))
        self.num_missing, self.missing_videos = len(missing), missing
        if not data_list:
            raise FileNotFoundError(
                f'KineticsDataset: none of the {len(kept)} clips listed in '
                f'{self.ann_file} is under {video_root} (expected files '
                f'named like {kinetics_clip_name("YOUTUBEID", 14, 24)}.mp4); '
                'check data_root and video_dir')
        report_missing('KineticsDataset', missing, len(kept), video_root)
        return data_list

    def _load_list(self) -> List[dict]:
        """A ``relative/path.mp4 label`` list; missing files left out."""
        listed = super().load_data_list()
        if self.num_classes is not None:
            for info in listed:
                if not 0 <= info['label'] < self.num_classes:
                    raise ValueError(
                        f'{self.ann_file}: label {info["label"]} of '
                        f'{info["filename"]} is not in [0, {self.num_classes})')
        data_list = [info for info in listed if osp.isfile(info['filename'])]
        missing = [info['filename'] for info in listed
                   if not osp.isfile(info['filename'])]
        self.num_missing, self.missing_videos = len(missing), missing
        if not data_list:
            raise FileNotFoundError(
                f'KineticsDataset: none of the {len(listed)} videos listed in '
                f'{self.ann_file} exists (paths are relative to data_root '
                f'{self.data_root})')
        report_missing('KineticsDataset', missing, len(listed), self.data_root)
        return data_list
