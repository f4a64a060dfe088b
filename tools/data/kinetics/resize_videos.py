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
import argparse

from hvg.datasets.file_index import VIDEO_EXTENSIONS as EXTENSIONS
from hvg.datasets.preparation import resize_video_tree


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='folder of the original videos')
    parser.add_argument('dst', help='folder for the copies (same layout)')
    parser.add_argument('--short-side', type=int, required=True)
    parser.add_argument('--list', help='only these videos (paths relative to SRC)')
    parser.add_argument('--workers', type=int, default=1, help='processes')
    parser.add_argument('--crf', type=int, default=20, help='x264 quality')
    parser.add_argument('--gop', type=int, default=32, help='keyframe interval, frames')
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args(argv)
    try:
        total, failed, ffmpeg = resize_video_tree(
            args.src, args.dst, args.short_side, args.list, args.workers, args.crf,
            args.gop, args.overwrite, EXTENSIONS)
    except (OSError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    for src, reason in failed:
        print(f'failed: {src}: {reason}')
    print(f'{total - len(failed)} of {total} videos -> {args.dst} '
          f'(short side {args.short_side}, {ffmpeg})')


if __name__ == '__main__':
    main()
