"""Build the Kinetics-600 class index and file lists from the CSVs and a folder.

    python tools/data/kinetics/build_file_lists.py data/kinetics600 \
        --split train:annotations/train.csv:videos/train \
        --split val:annotations/validate.csv:videos/val \
        [--bad-list data/kinetics600/bad_videos.txt]

Writes, under DATA_ROOT/annotations (``--out-dir``):
- ``kinetics600_classes.txt``: the stable class index, the sorted label names
  of the first split's CSV (the training CSV), one per line (label = line
  number - 1). An existing file is kept, so the index never changes under a
  trained model.
- ``kinetics600_{split}_list.txt``: ``relative/path.mp4 label`` per clip found
  on disk (any folder layout; files are matched by their
  ``{youtube_id}_{start:06d}_{end:06d}`` name; a path with spaces, as in
  ``playing guitar/``, is shell-quoted), without the files of
  ``--bad-list`` (from verify_videos.py).
- ``kinetics600_{split}_missing.txt``: the clips listed in the CSV but not
  found on disk.
Train on a list with ``--cfg-options
train_dataloader.dataset.ann_file=annotations/kinetics600_train_list.txt``.
"""
import argparse
import os
import sys
from pathlib import Path

from hvg.datasets import KineticsDataset
from hvg.datasets.file_index import format_list_line
from hvg.datasets.preparation import read_bad_list
from hvg.utils.cli import tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__)
    parser.add_argument('data_root', help='the Kinetics-600 folder')
    parser.add_argument(
        '--split', action='append', required=True, metavar='NAME:CSV:VIDEO_DIR',
        help='a split: its name, its CSV and its video folder (both relative '
        'to data_root unless absolute). The first one defines the class index')
    parser.add_argument('--out-dir', default='annotations',
                        help='where the lists go (relative to data_root)')
    parser.add_argument('--prefix', default='kinetics600',
                        help='file name prefix of the outputs')
    parser.add_argument('--bad-list', help='bad videos to leave out '
                        '(verify_videos.py output)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    root = Path(args.data_root)
    if not root.is_dir():
        sys.exit(f'error: data_root {root} is not a folder')
    out_dir = Path(args.out_dir if os.path.isabs(args.out_dir) else root / args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes_file = out_dir / f'{args.prefix}_classes.txt'
    bad = read_bad_list(args.bad_list)
    for spec in args.split:
        try:
            name, csv_file, video_dir = spec.split(':')
        except ValueError:
            sys.exit(f'error: --split {spec!r} is not NAME:CSV:VIDEO_DIR')
        # The first split writes the index; the others (and later runs) read it.
        classes = str(classes_file) if classes_file.is_file() else None
        try:
            dataset = KineticsDataset(ann_file=csv_file, data_root=str(root),
                                      video_dir=video_dir, classes=classes)
        except (FileNotFoundError, ValueError) as error:
            sys.exit(f'error: {error}')
        if classes is None:
            classes_file.write_text('\n'.join(dataset.metainfo['classes']) + '\n')
            print(f'class index: {len(dataset.metainfo["classes"])} names '
                  f'-> {classes_file}')
        lines, excluded = [], 0
        for info in map(dataset.get_data_info, range(len(dataset))):
            if os.path.abspath(info['filename']) in bad:
                excluded += 1
                continue
            rel = os.path.relpath(info['filename'], root)
            lines.append(format_list_line(rel, info['label']))
        list_file = out_dir / f'{args.prefix}_{name}_list.txt'
        list_file.write_text(''.join(lines))
        missing_file = out_dir / f'{args.prefix}_{name}_missing.txt'
        missing_file.write_text(''.join(f'{m}\n' for m in dataset.missing_videos))
        print(f'{name}: {len(lines)} videos -> {list_file}; '
              f'{dataset.num_missing} missing -> {missing_file}; '
              f'{excluded} bad left out')


if __name__ == '__main__':
    main()
