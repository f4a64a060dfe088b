"""Build a BDD100K file list from videos/{split}, without the bad videos.

    python tools/data/bdd100k/build_file_lists.py data/bdd100k --split train \
        [--bad-list data/bdd100k/annotations/bad_videos.txt]

Writes DATA_ROOT/annotations/bdd100k_{split}_list.txt (``--out``): one
``videos/train/xxxx.mov`` per line, relative to data_root (shell-quoted if it holds spaces), sorted, without the
files of --bad-list (verify_videos.py output). Train on it with
``--cfg-options train_dataloader.dataset.ann_file=annotations/bdd100k_train_list.txt``
(without an ann_file the dataset lists videos/{split} itself).
"""
import argparse
import os
import sys
from pathlib import Path

from hvg.datasets import BDD100KDataset
from hvg.datasets.file_index import format_list_line
from hvg.datasets.preparation import read_bad_list
from hvg.utils.cli import tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__)
    parser.add_argument('data_root', help='the BDD100K folder (holding videos/)')
    parser.add_argument('--split', default='train', help='train or val')
    parser.add_argument('--out', help='the list (default: '
                        'DATA_ROOT/annotations/bdd100k_{split}_list.txt)')
    parser.add_argument('--bad-list', help='bad videos to leave out')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        dataset = BDD100KDataset(data_root=args.data_root, split=args.split)
    except FileNotFoundError as error:
        sys.exit(f'error: {error}')
    bad = read_bad_list(args.bad_list)
    paths = [dataset.get_data_info(i)['filename'] for i in range(len(dataset))]
    kept = [p for p in paths if os.path.abspath(p) not in bad]
    out = Path(args.out or Path(args.data_root, 'annotations',
                                f'bdd100k_{args.split}_list.txt'))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(''.join(format_list_line(os.path.relpath(p, args.data_root))
                           for p in kept))
    print(f'{args.split}: {len(kept)} videos -> {out}; '
          f'{len(paths) - len(kept)} bad left out')


if __name__ == '__main__':
    main()
