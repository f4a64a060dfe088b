"""Peak training memory against the number of output frames F (paper, Figure 5).

    python tools/analysis/memory_scaling.py --frames 12 24 48 72 96 \
        [--width 0.25] [--batch-size 1] [--budget-mb 2000] [--out-dir DIR]

Section 5.3 compares, for 128x128 videos of F frames, the memory of one
training iteration (discriminator and generator updates) of three models:

``flat``
    a one-level model generating F/128x128 directly
    (``configs/hvg/flat_bdd_48f_128.py`` with ``num_frames=F``);
``level1``
    the hierarchy's level 1, generating F/2 frames of 64x64
    (``configs/hvg/l1_bdd_12f_64.py`` with ``num_frames=F/2``);
``level2``
    the hierarchy's level 2, trained on 6-frame 64x64 windows -> 12/128x128
    (``configs/hvg/l2_bdd_128.py``), the same model whatever F: the hierarchy
    unrolls it over level 1's output at inference. Its points are the same
    measurement repeated per F, each in its own process, so its flatness is
    measured, not assumed.

Every point runs in a fresh subprocess: the level's real ``train_step``, on a
synthetic uint8 batch (as ``benchmark_train.py``), for ``--warmup-cycles``
untimed and ``--cycles`` timed whole D/G cycles (``discriminator_steps`` train
steps: D updates every step, G every ``discriminator_steps``-th, so a cycle is
two D updates and one G update). ``seconds_per_step`` is the time of one cycle.
Upsampling levels use ``lowres_source=RealLowres``: no previous-level checkpoint is
needed, and the frozen level 1's no-grad forward pass, not part of level 2's
training graph, is not counted.

Before the baseline, gradients and Adam moments are allocated once (a step with
zero gradients, which leaves the weights unchanged), so the baseline holds what
depends on the parameter count only. Peak memory (``peak_mb``, MiB): on CUDA,
``torch.cuda.max_memory_allocated`` (everything, weights included, as the
paper's figure); on the CPU, the process's peak resident set size
(``VmHWM``, else ``ru_maxrss``) minus that baseline (``baseline_mb``:
weights, gradients, Adam moments, torch's own libraries, the Python heap), i.e.
the activations and workspace that grow with F. On the CPU each child runs with glibc's
``MALLOC_MMAP_THRESHOLD_`` pinned to 64 KiB, so every large buffer is its own
mapping and is returned when freed; RSS then follows the tensors instead of
what the allocator keeps (``--no-exact-rss`` turns this off; it also makes
steps slower, so take times from a run without it).

Writes ``memory_scaling.csv`` (``model,frames,peak_mb,seconds_per_step`` then
``baseline_mb,params_m,clip_frames,clip_size,batch_size,width,device``: the
training clip is F/128x128, F/2 / 64x64 and 12/128x128) and, if matplotlib is
installed, ``memory_scaling.png``; prints a table and, per memory budget, the
longest F each approach can train (``flat``; the hierarchy: level 1 at F/2
frames and level 2 both within the budget), saying whether F was interpolated
between measured points or extrapolated beyond them (memory grows linearly in F).
"""
import argparse
import csv
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from hvg.utils.cli import (DictAction, non_negative_int, positive_float, positive_int,
                           tool_parser)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS_ = ('flat', 'level1', 'level2')
DEFAULT_CONFIGS = dict(
    flat=osp.join(REPO, 'configs/hvg/flat_bdd_48f_128.py'),
    level1=osp.join(REPO, 'configs/hvg/l1_bdd_12f_64.py'),
    level2=osp.join(REPO, 'configs/hvg/l2_bdd_128.py'))
COLUMNS = ('model', 'frames', 'peak_mb', 'seconds_per_step', 'baseline_mb', 'params_m',
           'clip_frames', 'clip_size', 'batch_size', 'width', 'device')
LABELS = dict(flat='flat (F/128x128)', level1='HVG level 1 (F/2 / 64x64)',
              level2='HVG level 2 (6/64x64 -> 12/128x128)')


def rss_mib() -> float:
    """This process's peak resident set size, MiB.

    Linux's ``VmHWM`` belongs to the process's own address space, which exec
    replaces; ``ru_maxrss`` would also carry the peak of the parent that forked
    it (e.g. a big pytest process), hiding a child's smaller peak.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def clip_frames(model: str, frames: int) -> int:
    """Frames of the model's training clip for an F-frame output video."""
    if model == 'flat':
        return frames
    if model == 'level1':
        if frames % 2:
            raise ValueError(f'level 1 generates F/2 frames: F={frames} must be even')
        return frames // 2
    return 12  # level 2: 6/64x64 -> 12/128x128 windows, whatever F


def scale_widths(cfg: Config, width: float) -> None:
    """Multiply the base channels of the generator and of every discriminator."""
    if width == 1.0:
        return
    gen = cfg.model.generator
    gen.base_channels = max(1, round(gen.base_channels * width))
    for sub in cfg.model.discriminator.values():
        if isinstance(sub, dict) and 'base_channels' in sub:
            sub.base_channels = max(1, round(sub.base_channels * width))


def point_config(config: str, model: str, frames: int, width: float,
                 cfg_options: Optional[dict]) -> Config:
    """The config of one measurement: widths scaled, clip length set."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scale_widths(cfg, width)
    if model != 'level2':
        cfg.model.generator.num_frames = clip_frames(model, frames)
    if cfg.model.get('lowres_source'):
        # the level's own step, without the frozen levels' sampling in it
        cfg.model.lowres_source = dict(type='RealLowres')
    return cfg


# --- one point, in a child process ---------------------------------------------
def allocate_fixed_state(optim_wrapper) -> None:
    """Allocate the gradients and Adam moments once, before the baseline.

    One optimizer step with zero gradients creates Adam's two moments and leaves
    the weights as they are (the update is ``m / (sqrt(v) + eps)`` with m = 0).
    So the baseline holds everything whose size depends on the parameters only
    (weights, gradients, moments) and the growth above it is what depends on F.
    """
    for wrapper in optim_wrapper.values():
        params = [p for group in wrapper.optimizer.param_groups for p in group['params']]
        for p in params:
            p.grad = torch.zeros_like(p)
        wrapper.optimizer.step()
        wrapper.optimizer.zero_grad(set_to_none=True)


def measure(args) -> None:
    """Build the level, run ``--warmup-cycles`` + ``--cycles`` D/G cycles; print JSON."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import hvg.engine  # noqa: F401 (registers the optim-wrapper constructor)
    from hvg.registry import MODELS
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from benchmark_train import example_batch

    torch.manual_seed(0)
    cfg = Config.fromfile(args.point_config)
    init_default_scope('hvg')
    level = MODELS.build(cfg.model).to(args.device)
    optim_wrapper = build_optim_wrapper(level, cfg.optim_wrapper)
    data = example_batch(cfg, args.batch_size)
    allocate_fixed_state(optim_wrapper)
    cuda = args.device.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        baseline = torch.cuda.memory_allocated() / 2**20
    else:
        baseline = rss_mib()
    cycle = level.discriminator_steps

    def run_cycle() -> None:
        for _ in range(cycle):
            level.train_step(data, optim_wrapper)

    for _ in range(args.warmup_cycles):
        run_cycle()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.cycles):
        run_cycle()
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.cycles
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = rss_mib() - baseline
    gen = cfg.model.generator
    print(json.dumps(dict(
        model=args.measure, frames=args.frames, peak_mb=round(peak, 1),
        seconds_per_step=round(seconds, 3), baseline_mb=round(baseline, 1),
        params_m=round(sum(p.numel() for p in level.parameters()) / 1e6, 3),
        clip_frames=gen.num_frames, clip_size=gen.out_size,
        batch_size=args.batch_size, width=args.width, device=args.device)), flush=True)


def run_point(args, model: str, frames: int, config_file: str) -> dict:
    """This script measuring one point in a fresh process: its JSON, or the error."""
    cmd = [sys.executable, osp.abspath(__file__), '--measure', model,
           '--point-config', config_file, '--frames', str(frames),
           '--batch-size', str(args.batch_size), '--cycles', str(args.cycles),
           '--warmup-cycles', str(args.warmup_cycles),
           '--width', str(args.width), '--device', args.device]
    env = dict(os.environ)
    if args.exact_rss and not args.device.startswith('cuda'):
        env['MALLOC_MMAP_THRESHOLD_'] = str(64 * 1024)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        tail = ' | '.join(proc.stderr.strip().splitlines()[-2:])
        return dict(model=model, frames=frames,
                    error=f'exit status {proc.returncode}: {tail}')
    return json.loads(lines[-1])


# --- budgets -------------------------------------------------------------------
def longest_frames(points: Sequence[Tuple[int, float]], budget: float,
                   step: int = 1) -> Tuple[Optional[float], str]:
    """Longest F whose memory fits ``budget``, from measured (F, MiB) points.

    Memory is piecewise linear between measured points (interpolated); beyond
    the last point, the line through the last two points is extended
    (extrapolated). Returns (F rounded down to ``step``, 'interpolated' /
    'extrapolated' / 'measured'), (None, 'none') if even the first point does
    not fit, or (inf, 'constant') if memory does not grow with F and fits.
    """
    points = sorted(points)
    if not points or points[0][1] > budget:
        return None, 'none'
    for (f0, m0), (f1, m1) in zip(points, points[1:]):
        if m1 > budget:  # the crossing is in this interval
            if m0 == budget:
                return float(f0), 'measured'
            f = f0 + (budget - m0) * (f1 - f0) / (m1 - m0)
            return step * (f // step), 'interpolated'
    if len(points) < 2:
        return float(points[-1][0]), 'measured'
    (f0, m0), (f1, m1) = points[-2], points[-1]
    slope = (m1 - m0) / (f1 - f0)
    if slope <= 0:
        return float('inf'), 'constant'
    if budget == m1:
        return float(f1), 'measured'
    f = f1 + (budget - m1) / slope
    return step * (f // step), 'extrapolated'


def is_flat(points: Sequence[Tuple[int, float]], tolerance: float = 1.05) -> bool:
    """Whether max/min of the measured memory is within ``tolerance``."""
    mems = [m for _, m in points]
    return max(mems) / min(mems) <= tolerance


def budget_report(rows: List[dict], budgets: Sequence[float]) -> List[str]:
    """One line per budget: the longest F of the flat model and of the hierarchy."""
    series = {m: [(r['frames'], r['peak_mb']) for r in rows
                  if r['model'] == m and 'error' not in r] for m in MODELS_}
    lines = []
    for budget in budgets:
        parts = [f'budget {budget:.0f} MiB:']
        flat_f, flat_how = longest_frames(series['flat'], budget)
        parts.append(f'flat F<={fmt_frames(flat_f)} ({flat_how})')
        l1_f, l1_how = longest_frames(series['level1'], budget, step=2)
        l2_peak = max((m for _, m in series['level2']), default=None)
        if not series['level1'] or l2_peak is None:
            hier_f, hier_how = None, 'not measured'
        elif l2_peak > budget:
            hier_f, hier_how = None, f'level 2 needs {l2_peak:.0f} MiB'
        else:
            hier_f, hier_how = l1_f, f'level 1 {l1_how}; level 2 fits at any F'
        parts.append(f'hierarchy F<={fmt_frames(hier_f)} ({hier_how})')
        if flat_f and hier_f and flat_f != float('inf'):
            parts.append(f'-> {hier_f / flat_f:.2f}x the flat model\'s frames')
        lines.append(' '.join(parts))
    return lines


def fmt_frames(f: Optional[float]) -> str:
    if f is None:
        return 'none'
    return 'any' if f == float('inf') else str(int(f))


# --- outputs -------------------------------------------------------------------
def write_csv(rows: List[dict], path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            if 'error' not in row:
                writer.writerow(row)


def read_csv(paths: Sequence[str]) -> List[dict]:
    """Rows of earlier runs' CSVs (e.g. models measured in separate runs)."""
    rows = []
    for path in paths:
        with open(path, newline='') as f:
            for row in csv.DictReader(f):
                row['frames'] = int(row['frames'])
                row['clip_frames'] = int(row['clip_frames'])
                row['clip_size'] = int(row['clip_size'])
                row['batch_size'] = int(row['batch_size'])
                for key in ('peak_mb', 'seconds_per_step', 'baseline_mb', 'params_m',
                            'width'):
                    row[key] = float(row[key])
                rows.append(row)
    return rows


def write_plot(rows: List[dict], path: str, budgets: Sequence[float], title: str) -> bool:
    """Memory against F per model, like Figure 5. False if matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('[memory_scaling] matplotlib is not installed: no plot '
              '(pip install matplotlib); the CSV is written', file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(5.6, 3.8), dpi=100)
    for model, marker in zip(MODELS_, 'osD'):
        pts = sorted((r['frames'], r['peak_mb']) for r in rows
                     if r['model'] == model and 'error' not in r)
        if pts:
            ax.plot(*zip(*pts), marker=marker, label=LABELS[model])
    for budget in budgets:
        ax.axhline(budget, color='grey', linestyle=':', linewidth=1)
    ax.set_xlabel('output frames F (128x128)')
    cpu = any(r['device'] == 'cpu' for r in rows)
    ax.set_ylabel('peak training memory (MiB)' + (', above baseline' if cpu else ''))
    top = max([r['peak_mb'] for r in rows] + list(budgets), default=1.0)
    ax.set_ylim(0, 1.35 * top)  # from zero, with room for the legend
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='upper left')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def print_table(rows: List[dict]) -> None:
    print(f'\n{"model":>7} {"frames":>7} {"clip":>10} {"peak_mb":>9} '
          f'{"baseline_mb":>12} {"s/step":>8}')
    for r in rows:
        if 'error' in r:
            print(f'{r["model"]:>7} {r["frames"]:>7}  failed: {r["error"]}')
            continue
        clip = f'{r["clip_frames"]}/{r["clip_size"]}'
        print(f'{r["model"]:>7} {r["frames"]:>7} {clip:>10} {r["peak_mb"]:>9.1f} '
              f'{r["baseline_mb"]:>12.1f} {r["seconds_per_step"]:>8.2f}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=positive_int, nargs='+', default=[12, 24, 48, 72, 96],
                        help='output lengths F (even: level 1 makes F/2 frames)')
    parser.add_argument('--extra-frames', type=positive_int, nargs='*', default=[],
                        help='more F for the hierarchy\'s models only (e.g. 144 192)')
    parser.add_argument('--models', nargs='+', choices=MODELS_, default=list(MODELS_))
    for model in MODELS_:
        parser.add_argument(f'--{model}-config', default=DEFAULT_CONFIGS[model],
                            help=f'config of the {model} model')
    parser.add_argument('--width', type=positive_float, default=1.0,
                        help='factor on every base_channels (1: the configs\' widths)')
    parser.add_argument('--batch-size', type=positive_int, default=1)
    parser.add_argument('--cycles', type=positive_int, default=1,
                        help='timed D/G cycles per point (at least 1)')
    parser.add_argument('--warmup-cycles', type=non_negative_int, default=1,
                        help='untimed D/G cycles first (0: time the first cycle, '
                        'first-call overheads included; the peak is the same)')
    parser.add_argument('--budget-mb', type=positive_float, nargs='*',
                        help='memory budgets (MiB) for the longest-F report '
                        '(default: level 2\'s peak and the flat model\'s largest)')
    parser.add_argument('--out-dir', default='work_dirs/memory_scaling')
    parser.add_argument('--from-csv', nargs='+', metavar='CSV',
                        help='measure nothing: merge these CSVs of earlier runs, '
                        'then write the table, budgets, CSV and plot')
    parser.add_argument('--no-exact-rss', dest='exact_rss', action='store_false',
                        help='CPU: do not pin glibc\'s mmap threshold (see above)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every model\'s config')
    # internal: what a child process measures
    parser.add_argument('--measure', choices=MODELS_, help=argparse.SUPPRESS)
    parser.add_argument('--point-config', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.measure:
        args.frames = args.frames[0]
        return measure(args)

    os.makedirs(args.out_dir, exist_ok=True)
    if args.from_csv:
        rows = sorted(read_csv(args.from_csv),
                      key=lambda r: (MODELS_.index(r['model']), r['frames']))
        report(args, rows)
        return
    rows = measure_all(args)
    report(args, rows)


def measure_all(args) -> List[dict]:
    """Every (model, F) point, each in a fresh process, with a progress line."""
    todo = [(m, f) for m in args.models for f in args.frames]
    todo += [(m, f) for m in args.models if m != 'flat'
             for f in args.extra_frames if f not in args.frames]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (model, frames) in enumerate(todo):
            config_file = osp.join(tmp, f'{model}_{frames}.py')
            point_config(getattr(args, f'{model}_config'), model, frames, args.width,
                         args.cfg_options).dump(config_file)
            start = time.perf_counter()
            row = run_point(args, model, frames, config_file)
            rows.append(row)
            # written after every point: a long sweep stopped halfway keeps its rows
            write_csv(rows, osp.join(args.out_dir, 'memory_scaling.csv'))
            status = row.get('error') or f'peak {row["peak_mb"]:.1f} MiB'
            print(f'[{i + 1}/{len(todo)}] {model:>6} F={frames:<4} '
                  f'clip {clip_frames(model, frames)} frames: {status} '
                  f'({time.perf_counter() - start:.0f} s)', flush=True)
    return rows


def report(args, rows: List[dict]) -> None:
    """Table, level 2's flatness, budgets; the CSV and the plot."""
    print_table(rows)

    good = [r for r in rows if 'error' not in r]
    level2 = [(r['frames'], r['peak_mb']) for r in good if r['model'] == 'level2']
    if len(level2) > 1:
        mems = [m for _, m in level2]
        print(f'\nlevel 2 max/min over F: {max(mems) / min(mems):.3f} '
              f'({"flat" if is_flat(level2) else "NOT flat"} within 5%)')
    budgets = args.budget_mb
    if not budgets:
        budgets = sorted({max(m for _, m in level2)} if level2 else set())
        flat = [r['peak_mb'] for r in good if r['model'] == 'flat']
        if flat:
            budgets = sorted(set(budgets) | {max(flat)})
    print()
    for line in budget_report(good, budgets):
        print(line)

    csv_path = osp.join(args.out_dir, 'memory_scaling.csv')
    write_csv(rows, csv_path)
    print(f'\nwrote {csv_path}')
    if good:  # describe the rows as measured (they may come from --from-csv)
        device, batch, width = (good[0][k] for k in ('device', 'batch_size', 'width'))
    else:
        device, batch, width = args.device, args.batch_size, args.width
    if device.startswith('cuda') and torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    elif device == 'cpu':
        device = f'CPU, {os.cpu_count()} cores'
    title = f'{device}, batch {batch}, width x{width:g}'
    png_path = osp.join(args.out_dir, 'memory_scaling.png')
    if write_plot(good, png_path, budgets, title):
        print(f'wrote {png_path}')


if __name__ == '__main__':
    main()
