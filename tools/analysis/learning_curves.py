"""Learning curves of a 2-level hierarchy: scores of every checkpoint, CSV and PNG.

    python tools/analysis/learning_curves.py configs/hvg/hvg2_demo_clips.py \
        --level-dirs work_dirs/demo/level1 work_dirs/demo/level2 \
        --i3d work_dirs/i3d/i3d_k400.pth --out docs/figures/demo_curves

Each point is one run of ``tools/test.py`` (the one evaluation path):

- a level-1 checkpoint ``k`` with the final level 2: level-1 class
  consistency and level-1 FVD (against real clips at level 1's size and rate);
- a level-2 checkpoint ``k`` with the final level 1: level-2 grounding on the
  unrolled video and the final-output FVD.

The x axes are iterations and wall time, the latter summed from the run's
``vis_data/scalars.json`` (``time`` per iteration, logged every
``interval`` iterations). Curves use ``--num-samples`` (default 48) and
``--i3d-size`` (default 112, a quarter of the protocol's cost): their FVDs are
for comparing points with each other, not with the 224-pixel protocol.
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import re
from typing import Dict, List

from hvg.utils.cli import load_tool, positive_int, tool_parser, writable_file

COLUMNS = ['level', 'iter', 'wall_s', 'level1/class_consistency',
           'level1/real_heldout_accuracy', 'level1/fvd', 'level2/grounding_corr_mean',
           'level2/grounding_corr_p10', 'level2/grounding_psnr_mean',
           'level2/grounding_mismatched_corr_mean', 'level2/grounding_real_corr_mean',
           'fvd']



def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Scores of every checkpoint of a 2-level hierarchy')
    parser.add_argument('config', help='hierarchy config (configs/hvg/hvg2_*.py)')
    parser.add_argument('--level-dirs', nargs=2, required=True, metavar=('L1_DIR', 'L2_DIR'),
                        help='work dirs of the two levels (their iter_*.pth)')
    parser.add_argument('--i3d', required=True, help='Kinetics-400 I3D weights')
    parser.add_argument('--out', required=True, type=writable_file,
                        help='prefix of the CSV and PNG files')
    parser.add_argument('--num-samples', type=positive_int, default=48)
    parser.add_argument('--i3d-size', type=positive_int, default=112)
    parser.add_argument('--bn-passes', type=positive_int, default=8)
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help="override keys of the hierarchy config (tools/test.py's "
                        '--cfg-options, given to it as written)')
    args = parser.parse_args(argv)
    for path in [*args.level_dirs, args.i3d]:
        if not osp.exists(path):
            parser.error(f'{path} does not exist')
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    if not os.access(out_dir, os.W_OK):
        parser.error(f'{out_dir} is not writable')
    return args


def checkpoints(work_dir: str) -> Dict[int, str]:
    found = {int(re.search(r'iter_(\d+)\.pth$', p).group(1)): p
             for p in glob.glob(osp.join(work_dir, 'iter_*.pth'))}
    if not found:
        raise SystemExit(f'error: no iter_*.pth in {work_dir}')
    return dict(sorted(found.items()))


def wall_times(work_dir: str) -> Dict[int, float]:
    """Cumulative training seconds at each logged iteration (scalars.json)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    times, total, last_iter = {0: 0.0}, 0.0, 0
    for path in files[-1:]:  # the latest run of this work dir
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'time' in record and 'iter' in record:
                    total += record['time'] * (record['iter'] - last_iter)
                    last_iter = record['iter']
                    times[last_iter] = total
    return times


def at(times: Dict[int, float], iteration: int) -> float:
    known = [i for i in times if i <= iteration]
    return round(times[max(known)], 1) if known else float('nan')


def score(tool, args, ckpts: List[str], metrics: List[str], out: str) -> dict:
    tool.main([args.config, '--checkpoints', *ckpts, '--metrics', *metrics,
               '--i3d', args.i3d, '--i3d-size', str(args.i3d_size), '--num-samples',
               str(args.num_samples), '--num-real', str(args.num_samples),
               '--class-levels', '1', '--bn-passes', str(args.bn_passes),
               '--workers', '0', '--out', out]
              + (['--cfg-options', *args.cfg_options] if args.cfg_options else []))
    with open(out) as f:
        return json.load(f)['metrics']


def plot(rows: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [('level1/class_consistency', 'level 1: class consistency', 1),
              ('level1/fvd', 'level 1: FVD (112 px)', 1),
              ('level2/grounding_corr_mean', 'level 2: grounding corr (unrolled)', 2),
              ('fvd', 'final output: FVD (112 px)', 2)]
    fig, axes = plt.subplots(2, len(panels), figsize=(4 * len(panels), 6.5))
    for col, (key, title, level) in enumerate(panels):
        mine = [r for r in rows if r['level'] == level and r.get(key) not in ('', None)]
        for row, x in enumerate(('iter', 'wall_s')):
            ax = axes[row, col]
            ax.plot([r[x] for r in mine], [r[key] for r in mine], 'o-')
            if key == 'level2/grounding_corr_mean' and mine:
                ax.plot([r[x] for r in mine], [r['level2/grounding_mismatched_corr_mean']
                                               for r in mine], 's--', label='mismatched (floor)')
                ax.axhline(mine[0]['level2/grounding_real_corr_mean'], color='g',
                           ls=':', label='real pairs (ceiling)')
                ax.legend(fontsize=7)
            if key == 'level1/class_consistency' and mine:
                ax.axhline(mine[0]['level1/real_heldout_accuracy'], color='g', ls=':',
                           label='real held-out (ceiling)')
                ax.axhline(1 / 3, color='grey', ls='--', label='chance (3 classes)')
                ax.legend(fontsize=7)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(f'level {level} ' + ('iterations' if x == 'iter' else
                                                'training seconds (2-core CPU)'))
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None) -> None:
    args = parse_args(argv)
    tool = load_tool('test.py')
    l1, l2 = (checkpoints(d) for d in args.level_dirs)
    t1, t2 = (wall_times(d) for d in args.level_dirs)
    final1, final2 = l1[max(l1)], l2[max(l2)]
    scratch = args.out + '_points'
    os.makedirs(scratch, exist_ok=True)
    rows = []
    for iteration, ckpt in l1.items():
        print(f'[curves] level 1 iter {iteration}', flush=True)
        values = score(tool, args, [ckpt, final2], ['fvd', 'class_consistency'],
                       osp.join(scratch, f'l1_{iteration}.json'))
        rows.append(dict(level=1, iter=iteration, wall_s=at(t1, iteration), **values))
    for iteration, ckpt in l2.items():
        print(f'[curves] level 2 iter {iteration}', flush=True)
        values = score(tool, args, [final1, ckpt], ['fvd', 'grounding'],
                       osp.join(scratch, f'l2_{iteration}.json'))
        rows.append(dict(level=2, iter=iteration, wall_s=at(t2, iteration), **values))
    with open(args.out + '.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
    print(f'wrote {args.out}.csv')
    try:
        plot(rows, args.out + '.png')
        print(f'wrote {args.out}.png')
    except ImportError as error:  # matplotlib is optional: the CSV is the result
        print(f'no plot ({error}); pip install matplotlib')


if __name__ == '__main__':
    main()
