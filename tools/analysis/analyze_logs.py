"""Plot training curves from mmengine's ``scalars.json`` logs.

    python tools/analysis/analyze_logs.py plot_curve \
        work_dirs/demo/level1/*/vis_data/scalars.json \
        --keys loss_disc loss_gen --out curves.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/.../scalars.json

Every run writes one JSON object per logged iteration to
``{work_dir}/{timestamp}/vis_data/scalars.json`` (the ``LocalVisBackend`` of
``configs/_base_/default_runtime.py``). ``plot_curve`` draws each key against
the iteration, one panel per key, one line per log file (a resumed run's logs
can be given together); ``cal_train_time`` prints the mean seconds per
iteration. Keys that a log lacks are reported, not guessed.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List

import numpy as np

from hvg.utils.cli import HelpFormatter, tool_parser


def read_scalars(path: str) -> List[dict]:
    """The logged records of one ``scalars.json``, in order."""
    if not osp.isfile(path):
        raise SystemExit(f'error: log not found: {path}')
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise SystemExit(f'error: {path}:{number} is not a JSON record '
                                 '(is this a scalars.json of vis_data/?)')
    return records


def curve(records: List[dict], key: str) -> np.ndarray:
    """``(N, 2)`` rows of ``(iteration, value)`` for the records that log ``key``."""
    rows = [(r.get('iter', r.get('step', i)), r[key])
            for i, r in enumerate(records) if key in r]
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def run_name(path: str) -> str:
    """``work_dir/timestamp`` of ``work_dir/timestamp/vis_data/scalars.json``."""
    parts = osp.normpath(osp.abspath(path)).split(osp.sep)
    return '/'.join(parts[-4:-2]) if len(parts) >= 4 else path


def plot_curve(logs: List[str], keys: List[str], out: str, title: str = '') -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    data: Dict[str, List[dict]] = {path: read_scalars(path) for path in logs}
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        drawn = 0
        for path, records in data.items():
            points = curve(records, key)
            if len(points):
                label = run_name(path)
                ax.plot(points[:, 0], points[:, 1], label=label, linewidth=1.2)
                drawn += 1
        if not drawn:
            available = sorted({k for r in next(iter(data.values())) for k in r})
            raise SystemExit(f'error: no log has {key!r}; logged keys: '
                             f'{", ".join(available)}')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if len(logs) > 1:
            ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel('iteration')
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    tasks = parser.add_subparsers(dest='task', required=True)
    plot = tasks.add_parser('plot_curve', formatter_class=HelpFormatter,
                            help='curves of logged keys to a PNG')
    plot.add_argument('logs', nargs='+', help='scalars.json files')
    plot.add_argument('--keys', nargs='+', default=['loss_disc', 'loss_gen'])
    plot.add_argument('--title', default='')
    plot.add_argument('--out', default='curves.png', help='the PNG to write')
    timing = tasks.add_parser('cal_train_time', formatter_class=HelpFormatter,
                              help='mean seconds per iteration')
    timing.add_argument('logs', nargs='+', help='scalars.json files')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.task == 'plot_curve':
        print(f'wrote {plot_curve(args.logs, args.keys, args.out, args.title)}')
        return
    for path in args.logs:
        times = curve(read_scalars(path), 'time')
        if not len(times):
            raise SystemExit(f'error: {path} logs no iteration time')
        print(f'{path}: {times[:, 1].mean():.3f} s/iter over {len(times)} logged '
              f'iterations (slowest {times[:, 1].max():.3f} s)')


if __name__ == '__main__':
    main()
