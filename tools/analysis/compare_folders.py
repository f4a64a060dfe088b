"""FVD / FID / IS of any two sets of videos: real vs fake folders or archives.

    python tools/analysis/compare_folders.py REAL FAKE --num-frames 16 \
        --i3d work_dirs/i3d/i3d_k400.pth --out metrics.json
    python tools/analysis/compare_folders.py --real-stats real_stats.npz FAKE ...
    python tools/analysis/compare_folders.py --real-stats \
        work_dirs/demo/real_stats_24f_64.npz samples/ --glob 'sample_????.mp4' --num-frames 24

REAL and FAKE are folders (searched recursively) or .zip / .tar / .tar.gz
archives of videos (mp4, avi, mov, mkv, webm, m4v, gif), or of folders of
frame images (PNG / JPEG, one video per folder, frames in name order): the
samples of tools/sample.py, another method's, real clips. The protocol is
tools/test.py's (docs/metrics.md): uint8 frames, TF bilinear resize to
--i3d-size (224), [-1, 1], I3D-K400 logits (FVD, IS), pooled features (FID),
unbiased covariances. Clip: the first --num-frames frames of each video after
taking every --frame-step-th stored frame (the file's frame rate is not read:
resample beforehand if the two sets differ); any resolution (resized). A video
that cannot be read or is too short is skipped and listed in the JSON.
--save-real-stats writes REAL's statistics (.npz, plain arrays) for
--real-stats to reuse; tools/demo.py writes the sample clips' own.
"""
import json
import os.path as osp
import sys

from hvg.evaluation.extractor import I3DExtractor
from hvg.evaluation.video_sets import (VideoSetError, compare_sets, load_stats, save_stats,
                                       score_set, stats_key)
from hvg.utils.cli import positive_int, tool_parser, writable_file


def parse_args(argv=None):
    parser = tool_parser(description=__doc__)
    parser.add_argument('sets', nargs='+', metavar='SET',
                        help='REAL FAKE: two folders or archives (only FAKE with '
                        '--real-stats)')
    parser.add_argument('--real-stats', help='real statistics .npz instead of REAL')
    parser.add_argument('--save-real-stats', type=writable_file,
                        help="write REAL's statistics here (.npz) for --real-stats")
    parser.add_argument('--num-frames', type=positive_int, default=16,
                        help='frames per clip (the first, after --frame-step); shorter '
                        'videos are skipped')
    parser.add_argument('--frame-step', type=positive_int, default=1,
                        help='take every k-th stored frame (e.g. 2 for 24 fps '
                        'videos against 12 fps ones)')
    parser.add_argument('--glob', default='*',
                        help="only videos whose name matches, e.g. 'sample_????.mp4' "
                        'for a tools/sample.py folder (it also holds GIFs and '
                        'side-by-side videos)')
    parser.add_argument('--max-videos', type=positive_int,
                        help='score only the first N videos (name order) of each set')
    parser.add_argument('--i3d', default='work_dirs/i3d/i3d_k400.pth',
                        help='Kinetics-400 I3D (python tools/misc/prepare_i3d.py)')
    parser.add_argument('--fid-i3d', help='Kinetics-600 I3D for FID (default: the '
                        "K400 network's pooled features)")
    parser.add_argument('--i3d-size', type=positive_int, default=224,
                        help='frame size the I3D sees (224 is the protocol)')
    parser.add_argument('--is-splits', type=positive_int, default=10,
                        help='Inception Score splits (IS left out below 2 videos per split)')
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='videos per I3D forward')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', type=writable_file, help='JSON of the scores')
    args = parser.parse_args(argv)
    expected = 1 if args.real_stats else 2
    if len(args.sets) != expected:
        parser.error('pass REAL FAKE, or --real-stats FILE FAKE' if expected == 2 else
                     'with --real-stats pass only FAKE')
    if args.real_stats and args.save_real_stats:
        parser.error('--save-real-stats needs a REAL folder, not --real-stats')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    for path, fix in ((args.i3d, f'python tools/misc/prepare_i3d.py --out {args.i3d}'),
                      (args.fid_i3d, 'pass a Kinetics-600 I3D file')):
        if path and not osp.isfile(path):
            raise SystemExit(f'error: I3D weights {path} not found: {fix}')
    extractor = I3DExtractor(args.i3d, fid_weights=args.fid_i3d, device=args.device,
                             batch_size=args.batch_size, size=args.i3d_size)
    key = stats_key(extractor, args.num_frames, args.frame_step)
    try:
        if args.real_stats:
            real, stored = load_stats(args.real_stats, key)
            real_source, real_skipped = stored.get('source', args.real_stats), []
            print(f'real statistics of {real.count} videos from {args.real_stats}')
        else:
            real_source = args.sets[0]
            real = score_set(real_source, extractor, args.num_frames, args.frame_step,
                             args.max_videos, desc='real', pattern=args.glob)
            real_skipped = real.skipped
            if args.save_real_stats:
                save_stats(args.save_real_stats, real, key, real_source)
                print(f'real statistics of {real.count} videos written to '
                      f'{args.save_real_stats}')
        fake = score_set(args.sets[-1], extractor, args.num_frames, args.frame_step,
                         args.max_videos, desc='fake', pattern=args.glob)
    except (VideoSetError, FileNotFoundError) as error:
        raise SystemExit(f'error: {error}')
    scores = compare_sets(real, fake, args.is_splits)
    result = dict(scores=scores, real=real_source, fake=args.sets[-1],
                  num_real=real.count, num_fake=fake.count, num_frames=args.num_frames,
                  frame_step=args.frame_step, protocol=extractor.describe(),
                  skipped=real_skipped + fake.skipped)
    print(', '.join(f'{k} {v:.4g}' for k, v in scores.items())
          + f' ({real.count} real, {fake.count} fake videos of {args.num_frames} frames'
          + (f'; {len(result["skipped"])} skipped' if result['skipped'] else '') + ')')
    if extractor.random:
        print('RANDOM I3D WEIGHTS: these scores are meaningless', file=sys.stderr)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
