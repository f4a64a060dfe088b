"""Decode every Kinetics video once and list the ones that fail.

    python tools/data/kinetics/verify_videos.py data/kinetics600/videos/train \
        --bad-list data/kinetics600/annotations/bad_videos.txt --workers 16

SOURCE is a folder (walked for .mp4/.mkv/.webm/...) or a file list
(``path [label]`` lines, relative to --data-root). Each video is opened and
decoded with decord, as training will (--quick: only its first, middle and
last frames). The bad ones go to --bad-list as ``path<TAB>reason``; give that
file to build_file_lists.py to leave them out. Exits 0 even if some are bad.
"""
from hvg.datasets.file_index import VIDEO_EXTENSIONS as EXTENSIONS
from hvg.utils.cli import load_tool


def main(argv=None) -> None:
    load_tool('data/video_tree_cli.py').verify_main(__doc__, EXTENSIONS, argv)


if __name__ == '__main__':
    main()
