"""Make small copies of the BDD100K videos (1280x720, 40 s) for training.

    python tools/data/bdd100k/resize_videos.py data/bdd100k/videos \
        data/bdd100k_s256/videos --short-side 256 --workers 16

Same layout and names (.mov) under DST, short side --short-side (never
upscaled), 30 fps kept, no audio, a keyframe every --gop frames, with the
system ffmpeg or PyPI's imageio-ffmpeg. Keep the short side at least the
level's size (64, 128 or 256). Existing outputs are skipped.
"""
from hvg.datasets.bdd100k import BDD100K_EXTENSIONS as EXTENSIONS
from hvg.utils.cli import load_tool


def main(argv=None) -> None:
    load_tool('data/video_tree_cli.py').resize_main(__doc__, EXTENSIONS, argv)


if __name__ == '__main__':
    main()
