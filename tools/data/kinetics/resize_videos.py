"""Make small copies of the Kinetics videos so training decodes small files.

    python tools/data/kinetics/resize_videos.py data/kinetics600/videos \
        data/kinetics600_s128/videos --short-side 128 --workers 16

Every video under SRC (or in --list) is re-encoded with ffmpeg to the same
relative path under DST: short side --short-side (never upscaled; area
averaging), the source frame rate kept (temporal subsampling counts against
it), no audio, a keyframe every --gop frames. ffmpeg is the system one, else
the binary of PyPI's imageio-ffmpeg. Existing outputs are skipped
(--overwrite to redo), so an interrupted run resumes. Keep the short side at
least the largest training size (128 for level 2). Then copy the annotations
folder and point data_root at the new tree.
"""
from hvg.datasets.file_index import VIDEO_EXTENSIONS as EXTENSIONS
from hvg.utils.cli import load_tool


def main(argv=None) -> None:
    load_tool('data/video_tree_cli.py').resize_main(__doc__, EXTENSIONS, argv)


if __name__ == '__main__':
    main()
