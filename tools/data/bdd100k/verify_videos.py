"""Decode every BDD100K video once and list the ones that fail.

    python tools/data/bdd100k/verify_videos.py data/bdd100k/videos/train \
        --bad-list data/bdd100k/annotations/bad_videos.txt --workers 16

SOURCE is a folder (walked for .mov) or a file list (relative to
--data-root). Each video is opened and decoded with decord, as training will
(--quick: only its first, middle and last frames). The bad ones go to
--bad-list as ``path<TAB>reason``; give that file to build_file_lists.py.
"""
import argparse

from hvg.datasets.bdd100k import BDD100K_EXTENSIONS as EXTENSIONS
from hvg.datasets.preparation import verify_video_tree


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', help='a folder of videos or a file list')
    parser.add_argument('--bad-list', required=True,
                        help='output: the bad videos, path<TAB>reason')
    parser.add_argument('--data-root', help="root of a list's relative paths "
                        "(default: the list's folder)")
    parser.add_argument('--workers', type=int, default=1, help='processes')
    parser.add_argument('--quick', action='store_true',
                        help='decode 3 frames per video instead of all')
    args = parser.parse_args(argv)
    try:
        checked, bad = verify_video_tree(args.source, args.bad_list, args.data_root,
                                         args.workers, not args.quick, EXTENSIONS)
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}')
    print(f'{checked} videos checked, {bad} bad -> {args.bad_list}')


if __name__ == '__main__':
    main()
