"""Make small copies of the BDD100K videos (1280x720, 40 s) for training.

    python tools/data/bdd100k/resize_videos.py data/bdd100k/videos \
        data/bdd100k_s256/videos --short-side 256 --workers 16

Same layout and names (.mov) under DST, short side --short-side (never
upscaled), 30 fps kept, no audio, a keyframe every --gop frames, with the
system ffmpeg or PyPI's imageio-ffmpeg. Keep the short side at least the
level's size (64, 128 or 256). Existing outputs are skipped.
"""
import argparse

from hvg.datasets.bdd100k import BDD100K_EXTENSIONS as EXTENSIONS
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
