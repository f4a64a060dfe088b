"""The command lines shared by the datasets' resize and verify tools.

``tools/data/{kinetics,bdd100k}/{resize,verify}_videos.py`` differ only in
their help text and the file suffixes that count as videos; the options and
the run are these (the library keeps the work: ``hvg.datasets.preparation``).
"""
from typing import Optional, Sequence

from hvg.datasets.preparation import resize_video_tree, verify_video_tree
from hvg.utils.cli import tool_parser


def resize_main(description: str, extensions: Sequence[str],
                argv: Optional[Sequence[str]] = None) -> None:
    """Re-encode every video under SRC to a smaller copy under DST."""
    parser = tool_parser(description=description)
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
            args.gop, args.overwrite, extensions)
    except (OSError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    for src, reason in failed:
        print(f'failed: {src}: {reason}')
    print(f'{total - len(failed)} of {total} videos -> {args.dst} '
          f'(short side {args.short_side}, {ffmpeg})')


def verify_main(description: str, extensions: Sequence[str],
                argv: Optional[Sequence[str]] = None) -> None:
    """Decode every video of a folder or list once and list the bad ones."""
    parser = tool_parser(description=description)
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
                                         args.workers, not args.quick, extensions)
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}')
    print(f'{checked} videos checked, {bad} bad -> {args.bad_list}')
