"""Decode every BDD100K video once and list the ones that fail.

    python tools/data/bdd100k/verify_videos.py data/bdd100k/videos/train \
        --bad-list data/bdd100k/annotations/bad_videos.txt --workers 16

SOURCE is a folder (walked for .mov) or a file list (relative to
--data-root). Each video is opened and decoded with decord, as training will
(--quick: only its first, middle and last frames). The bad ones go to
--bad-list as ``path<TAB>reason``; give that file to build_file_lists.py.
"""
from hvg.datasets.bdd100k import BDD100K_EXTENSIONS as EXTENSIONS
from hvg.utils.cli import load_tool


def main(argv=None) -> None:
    load_tool('data/video_tree_cli.py').verify_main(__doc__, EXTENSIONS, argv)


if __name__ == '__main__':
    main()
