"""The Python side of ``gpu_benchmark.sh``: config options, and the report.

    python tools/analysis/gpu_benchmark.py options CONFIG [--synthetic-data]
        [--base-channels N] [--batch-size B]
    python tools/analysis/gpu_benchmark.py report OUT_DIR [--peak-tflops X]
        [--dry-run]

``options`` prints ``--cfg-options`` tokens, one a line, for a level config:
``--synthetic-data`` swaps its dataset for ``SyntheticClipsDataset`` of the
level's clip shape (and an upsampling level's frozen previous levels for
``RealLowres``), so ``tools/train.py`` runs with no data and no checkpoint on
disk; ``--base-channels N`` sets the generator's and every discriminator's
width (the dry run's tiny models).

``report`` reads what the script's steps wrote in OUT_DIR and writes
``gpu_benchmark.json`` and ``gpu_benchmark.md``. Model FLOP utilisation is the
FLOPs of one D/G cycle (``FlopCounterMode``) per second over the card's dense
bf16 peak (``PEAK_TFLOPS``, by device name, or ``--peak-tflops``); for fp32
runs too, so the two precisions compare on one scale.
"""
import csv
import glob
import json
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config

from hvg.utils.cli import tool_parser
from hvg.utils.config_checks import level_num_classes

# Dense (no sparsity) bf16 tensor-core peaks, TFLOP/s, from the vendors' data
# sheets; the first name that occurs in torch.cuda.get_device_name() wins.
PEAK_TFLOPS = [
    ('H100 PCIe', 756.0),
    ('H100 NVL', 835.0),
    ('H100', 989.0),  # SXM
    ('H200', 989.0),
    ('GH200', 989.0),
    ('A100', 312.0),
    ('L40S', 362.0),
    ('A10G', 70.0),
]


def peak_tflops(device_name: str) -> Optional[float]:
    for key, peak in PEAK_TFLOPS:
        if key in device_name:
            return peak
    return None


# --- options ----------------------------------------------------------------------
def level_options(config: str, synthetic_data: bool, base_channels: Optional[int],
                  batch_size: Optional[int]) -> List[str]:
    cfg = Config.fromfile(config)
    gen = cfg.model.generator
    options = []
    if synthetic_data:
        data = 'train_dataloader.dataset.'
        options += [f'{data}type=SyntheticClipsDataset', f'{data}num_frames={gen.num_frames}',
                    f'{data}size={gen.out_size}',
                    f'{data}num_classes={level_num_classes(cfg.model)}',
                    'train_dataloader.num_workers=0',
                    'train_dataloader.persistent_workers=False']
        if 'in_size' in gen:
            options += [f'{data}lowres_frames={gen.num_frames // gen.temporal_factor}',
                        f'{data}lowres_size={gen.in_size}']
        if cfg.model.get('lowres_source') is not None:
            options.append('model.lowres_source.type=RealLowres')
    if base_channels is not None:
        options.append(f'model.generator.base_channels={base_channels}')
        for name, sub in cfg.model.discriminator.items():
            if isinstance(sub, dict):
                options.append(f'model.discriminator.{name}.base_channels={base_channels}')
    if batch_size is not None:
        options.append(f'train_dataloader.batch_size={batch_size}')
    return options


# --- report -----------------------------------------------------------------------
def read_jsonl(path: str) -> List[dict]:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith('{')]


def dist_train_summary(work_dir: str) -> Optional[dict]:
    """The torchrun run's logged iterations (mmengine's vis_data/scalars.json)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        return None
    rows = [r for r in read_jsonl(files[-1]) if 'time' in r]
    if not rows:
        return None
    timed = rows[1:] or rows  # the first iteration includes start-up
    summary = dict(iters=rows[-1].get('iter', len(rows)),
                   sec_per_iter=round(sum(r['time'] for r in timed) / len(timed), 4))
    memory = [r['memory'] for r in rows if 'memory' in r]
    if memory:
        summary['max_memory_mib'] = max(memory)  # mmengine: max_memory_allocated, MiB
    overflows = sum(r.get('overflow', 0) for r in rows)
    summary['finite'] = all(r.get('nonfinite', 0) == 0 for r in rows)
    summary['overflow_steps'] = overflows
    return summary


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}g}' if abs(value) < 1e4 else f'{value:.0f}'
    return str(value)


def build_report(out_dir: str, peak_override: Optional[float], dry_run: bool) -> dict:
    train = read_jsonl(osp.join(out_dir, 'train.jsonl'))
    device_name = next((r['device_name'] for r in train if 'device_name' in r), 'unknown')
    peak = peak_override or peak_tflops(device_name)
    for row in train:
        if peak and 'cycle_tflops_per_s' in row:
            row['mfu'] = round(row['cycle_tflops_per_s'] / peak, 4)
    memory = []
    csv_path = osp.join(out_dir, 'memory_scaling', 'memory_scaling.csv')
    if osp.isfile(csv_path):
        with open(csv_path) as f:
            memory = list(csv.DictReader(f))
    steps = []
    steps_path = osp.join(out_dir, 'steps.tsv')
    if osp.isfile(steps_path):
        with open(steps_path) as f:
            steps = [dict(zip(('step', 'rc', 'seconds'), line.split())) for line in f
                     if line.strip()]
    dist = read_jsonl(osp.join(out_dir, 'dist_train.jsonl'))
    for row in dist:
        row.update(dist_train_summary(row.pop('work_dir')) or {})
    return dict(dry_run=dry_run, device_name=device_name, peak_tflops_bf16=peak,
                train=train, dist_train=dist, memory_scaling=memory,
                sampling=read_jsonl(osp.join(out_dir, 'sampling.jsonl')),
                i3d=[r for r in read_jsonl(osp.join(out_dir, 'metrics.jsonl'))
                     if r.get('what') == 'i3d'],
                steps=steps)


def markdown(report: dict) -> str:
    peak = report['peak_tflops_bf16']
    lines = [f'# GPU benchmark: {report["device_name"]}', '']
    if report['dry_run']:
        lines += ['**Dry run**: the CPU at tiny widths, gloo; checks the script, '
                  'not the figures.', '']
    lines += [f'Model FLOP utilisation over a dense bf16 peak of '
              f'{fmt(peak)} TFLOP/s.' if peak else
              'No bf16 peak known for this device: pass --peak-tflops for MFU.', '',
              '## Training step (synthetic batch, benchmark_train.py)', '',
              '| config | precision | batch | s/iter | clips/s | peak MiB | '
              'GFLOP/cycle | TFLOP/s | MFU |',
              '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in report['train']:
        precision = r['precision'] + (f' ({r["amp_dtype"]})' if 'amp_dtype' in r else '')
        mem = r.get('peak_mem_mib', r.get('peak_rss_mib'))
        mfu = f'{100 * r["mfu"]:.1f}%' if 'mfu' in r else '-'
        lines.append(f'| {osp.basename(r["config"])} | {precision} | {r["batch_size"]} | '
                     f'{fmt(r["sec_per_iter"])} | {fmt(r["clips_per_s"])} | {fmt(mem)} | '
                     f'{fmt(r.get("cycle_gflops"))} | {fmt(r.get("cycle_tflops_per_s"))} | '
                     f'{mfu} |')
    lines += ['', '## torchrun training run (tools/dist_train.sh, sync BN)', '',
              '| config | GPUs | backend | flags | exit | iters | s/iter | max MiB | '
              'finite | fp16 overflows |', '| --- | --- | --- | --- | --- | --- | --- | '
              '--- | --- | --- |']
    for r in report['dist_train']:
        lines.append(f'| {osp.basename(r["config"])} | {r["gpus"]} | {r["backend"]} | '
                     f'{r["flags"] or "-"} | {r["rc"]} | {fmt(r.get("iters"))} | '
                     f'{fmt(r.get("sec_per_iter"))} | {fmt(r.get("max_memory_mib"))} | '
                     f'{fmt(r.get("finite"))} | {fmt(r.get("overflow_steps"))} |')
    lines += ['', '## Memory scaling (paper Figure 5, memory_scaling.py)', '',
              '| model | frames | peak MiB | s/cycle | width |',
              '| --- | --- | --- | --- | --- |']
    for r in report['memory_scaling']:
        lines.append(f'| {r["model"]} | {r["frames"]} | {r["peak_mb"]} | '
                     f'{r["seconds_per_step"]} | {r["width"]} |')
    lines += ['', '## Sampling and I3D', '', '| what | shape | batch | per second | weights |',
              '| --- | --- | --- | --- | --- |']
    for r in report['sampling']:
        lines.append(f'| {r["levels"]}-level hierarchy | {r["frames"]}/{r["size"]}x'
                     f'{r["size"]} | {r["batch_size"]} | {fmt(r["videos_per_s"])} videos | '
                     f'{r["weights"]} |')
    for r in report['i3d']:
        lines.append(f'| I3D features | {r["frames"]}/{r["size"]}x{r["size"]} | '
                     f'{r["batch"]} | {fmt(r["clips_per_s"])} clips | random |')
    failed = [s for s in report['steps'] if s.get('rc') != '0']
    lines += ['', '## Steps', '', '| step | exit | seconds |', '| --- | --- | --- |']
    lines += [f'| {s["step"]} | {s["rc"]} | {s["seconds"]} |' for s in report['steps']]
    if failed:
        lines += ['', 'Failed: ' + ', '.join(s['step'] for s in failed) +
                  ' (see their logs in this folder).']
    return '\n'.join(lines) + '\n'


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    opts = sub.add_parser('options', help='--cfg-options tokens for a level config')
    opts.add_argument('config')
    opts.add_argument('--synthetic-data', action='store_true')
    opts.add_argument('--base-channels', type=int)
    opts.add_argument('--batch-size', type=int)
    rep = sub.add_parser('report', help='gpu_benchmark.json and .md from OUT_DIR')
    rep.add_argument('out_dir')
    rep.add_argument('--peak-tflops', type=float,
                     help='dense bf16 peak of the card (default: by device name)')
    rep.add_argument('--dry-run', action='store_true')
    args = parser.parse_args(argv)
    if args.command == 'options':
        print('\n'.join(level_options(args.config, args.synthetic_data,
                                      args.base_channels, args.batch_size)))
        return
    report = build_report(args.out_dir, args.peak_tflops, args.dry_run)
    with open(osp.join(args.out_dir, 'gpu_benchmark.json'), 'w') as f:
        json.dump(report, f, indent=2)
    text = markdown(report)
    with open(osp.join(args.out_dir, 'gpu_benchmark.md'), 'w') as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
