"""Seconds and peak memory of sampling an upsampling level over long inputs.

    python tools/analysis/benchmark_unroll.py configs/hvg/l2_kinetics_6f.py \
        --frames 48 480 [--chunk-frames C] [--bn-passes K] [--cfg-options ...]

Section 2, "Inference": an upsampling level runs over the whole previous-level
output. For every output length F this compares, at batch 1,
(a) ``full``: the whole video in one pass, ``level.sample(lowres)``, and
(b) ``stream``: ``level.sample(lowres, chunk_frames=C)``, windows of C frames
plus the halo (``hvg.models.generators.stream_upsample``; C defaults to
``default_chunk_frames``), which gives the same video.

The level is built from its config (no checkpoint is read) with random
weights: time and memory do not depend on the weights' values. Neither do they
depend on the BatchNorm statistics' values, which are only needed at the right
length: they are recomputed with ``--bn-passes`` dummy passes
(``LengthStatistics.prepare``, batch ``--bn-batch``, streamed window by window
with the same chunk) in a process of their own, measured too (row ``bn-stats``,
CPU), and loaded by the measurements, which sample inside
``LengthStatistics.at_length``; ``--bn-passes 0`` skips that (statistics at
their initial values).

Each measurement runs in a fresh subprocess, so the CPU peak resident set size
(``ru_maxrss``) is that measurement's; the RSS after building the model and
loading the statistics is reported as the baseline (``model_rss_mib``) and
``growth_mib`` is the difference. On CUDA, ``torch.cuda.max_memory_allocated``
(weights included; ``model_mem_mib`` is the baseline). CPU RSS also counts what
glibc's allocator keeps of freed buffers, which makes it noisy (+-150 MiB at
128x128) for the many equal-sized allocations of streaming; ``--exact-rss``
makes every large buffer its own mapping, returned on free
(``MALLOC_MMAP_THRESHOLD_``), for memory figures that follow the tensors, at
about twice the time: take times from a run without it. One JSON line is printed
per measurement, then a table. A measurement that fails (e.g. killed for
memory) is reported with its exit status.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hvg.models.generators import LengthStatistics, default_chunk_frames, temporal_halo
from hvg.models.layers import FrameBatchNorm, frame_batch_norms
from hvg.registry import MODELS
from hvg.utils.cli import DictAction, non_negative_int, positive_int, tool_parser

MODES = ('full', 'stream')


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build_level(config: str, device: str):
    """The level of a (merged) config file, in eval mode, and its generator."""
    init_default_scope('hvg')
    level = MODELS.build(Config.fromfile(config).model).to(device).eval()
    return level, level.generator


def random_lowres(generator, frames: int, batch: int, device: str):
    lowres = torch.rand(batch, generator.in_channels, frames // generator.temporal_factor,
                        generator.in_size, generator.in_size, device=device) * 2 - 1
    labels = (torch.randint(generator.num_classes, (batch, ), device=device)
              if generator.num_classes else None)
    return lowres, labels


def prepare(args) -> None:
    """Recompute the statistics for ``args.frames`` frames and save them."""
    _, generator = build_level(args.config, args.device)

    def make_inputs():
        lowres, labels = random_lowres(generator, args.frames, args.bn_batch, args.device)
        noise = torch.randn(args.bn_batch, generator.noise_dim, device=args.device)
        return noise, lowres, labels

    chunk = args.chunk_frames or default_chunk_frames(generator)
    stats = LengthStatistics(generator)
    baseline = rss_mib()
    start = time.perf_counter()
    stats.prepare(args.frames, make_inputs, args.bn_passes, seed=0, chunk_frames=chunk)
    seconds = time.perf_counter() - start
    torch.save({name: (mean.cpu(), var.cpu()) for name, (mean, var) in
                stats[args.frames].items()}, args.stats_file)
    print(json.dumps(dict(mode='bn-stats', frames=args.frames, chunk_frames=chunk,
                          bn_passes=args.bn_passes, bn_batch=args.bn_batch,
                          seconds=round(seconds, 2), peak_rss_mib=round(rss_mib(), 1),
                          model_rss_mib=round(baseline, 1),
                          growth_mib=round(rss_mib() - baseline, 1))))


def measure(args) -> None:
    level, generator = build_level(args.config, args.device)
    # resolved at the training length: the default depends on it
    chunk = args.chunk_frames or default_chunk_frames(generator)
    halo = temporal_halo(generator)
    loaded = torch.load(args.stats_file, map_location=args.device, weights_only=True) \
        if args.stats_file else None
    stats = LengthStatistics(generator)
    if args.frames != generator.num_frames:  # the training length has its own
        # without a file, a fresh FrameBatchNorm's statistics at the new length
        stats[args.frames] = loaded or {
            name: (torch.zeros(args.frames, m.num_features, device=args.device),
                   torch.ones(args.frames, m.num_features, device=args.device))
            for name, m in generator.named_modules() if isinstance(m, FrameBatchNorm)}
    lowres, labels = random_lowres(generator, args.frames, 1, args.device)
    cuda = args.device.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        baseline = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
    else:
        baseline = rss_mib()

    def run() -> torch.Tensor:
        with stats.at_length(args.frames):
            return level.sample(lowres, labels, seed=0,
                                chunk_frames=chunk if args.measure == 'stream' else None)

    for _ in range(args.warmup):
        run()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.repeats):
        video = run()
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.repeats
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else rss_mib()
    result = dict(
        mode=args.measure, frames=args.frames, device=args.device,
        chunk_frames=chunk if args.measure == 'stream' else None, halo=halo,
        seconds=round(seconds, 3), repeats=args.repeats,
        torch_threads=torch.get_num_threads(), out_shape=list(video.shape),
        params_g=sum(p.numel() for p in generator.parameters()),
        num_frame_bns=len(frame_batch_norms(generator)),
        stats='recomputed' if loaded is not None else 'initial')
    key = 'mem' if cuda else 'rss'
    result[f'peak_{key}_mib'] = round(peak, 1)
    result[f'model_{key}_mib'] = round(baseline, 1)
    result['growth_mib'] = round(peak - baseline, 1)
    print(json.dumps(result), flush=True)


def child(args, role: List[str], frames: int, stats_file: Optional[str]) -> dict:
    """This script on one task, in a fresh process: its last JSON line, or the error."""
    cmd = [sys.executable, osp.abspath(__file__), args.merged_config, *role,
           '--frames', str(frames), '--device', args.device,
           '--bn-passes', str(args.bn_passes), '--bn-batch', str(args.bn_batch),
           '--repeats', str(args.repeats), '--warmup', str(args.warmup)]
    if args.chunk_frames:
        cmd += ['--chunk-frames', str(args.chunk_frames)]
    if stats_file:
        cmd += ['--stats-file', stats_file]
    env = dict(os.environ)
    if args.exact_rss:
        env['MALLOC_MMAP_THRESHOLD_'] = str(64 * 1024)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        return dict(error=f'exit status {proc.returncode}',
                    stderr=proc.stderr.strip().splitlines()[-3:])
    return json.loads(lines[-1])


def print_table(rows: List[dict]) -> None:
    mem = 'peak_mem_mib' if any('peak_mem_mib' in r for r in rows) else 'peak_rss_mib'
    base = mem.replace('peak', 'model')
    print(f'\n{"frames":>7} {"mode":>8} {"chunk":>6} {"seconds":>9} '
          f'{mem:>13} {base:>14} {"growth_mib":>11}')
    for r in rows:
        if 'error' in r:
            print(f'{r["frames"]:>7} {r["mode"]:>8}  failed: {r["error"]}')
            continue
        print(f'{r["frames"]:>7} {r["mode"]:>8} {str(r.get("chunk_frames") or "-"):>6} '
              f'{r["seconds"]:>9.2f} {r.get(mem, float("nan")):>13.1f} '
              f'{r.get(base, float("nan")):>14.1f} {r.get("growth_mib", float("nan")):>11.1f}')
    # how the peak grows with the length, per mode (the streaming criterion)
    for mode in dict.fromkeys(r['mode'] for r in rows):
        done = sorted((r for r in rows if r['mode'] == mode and mem in r),
                      key=lambda r: r['frames'])
        if len(done) > 1:
            lo, hi = done[0], done[-1]
            print(f'{mode}: peak at {hi["frames"]} frames / peak at {lo["frames"]} '
                  f'frames = {hi[mem] / lo[mem]:.3f}')


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--frames', type=positive_int, nargs='+', default=[48, 480],
                        help='output lengths to measure')
    parser.add_argument('--chunk-frames', type=positive_int,
                        help='output frames per streamed chunk (default: '
                        'default_chunk_frames of the generator)')
    parser.add_argument('--bn-passes', type=positive_int, default=2,
                        help='dummy passes to recompute the statistics of each length '
                        '(0: keep the initial values; they do not change time or memory)')
    parser.add_argument('--bn-batch', type=positive_int, default=1)
    parser.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES),
                        help='what to measure')
    parser.add_argument('--repeats', type=positive_int, default=1, help='timed runs, averaged')
    parser.add_argument('--warmup', type=non_negative_int, default=0, help='untimed runs first')
    parser.add_argument('--exact-rss', action='store_true',
                        help='CPU: allocator-exact peak RSS (slower; see above)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    # internal: what a child process does
    parser.add_argument('--measure', choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument('--prepare', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--stats-file', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.prepare or args.measure:
        args.frames = args.frames[0]
        return prepare(args) if args.prepare else measure(args)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with tempfile.TemporaryDirectory() as tmp:
        # children read the merged config, --cfg-options applied once here
        args.merged_config = osp.join(tmp, 'config.py')
        cfg.dump(args.merged_config)
        rows = []
        for frames in args.frames:
            stats_file = None
            if args.bn_passes > 0:
                stats_file = osp.join(tmp, f'stats_{frames}.pth')
                done = child(args, ['--prepare'], frames, stats_file)
                done = dict(dict(mode='bn-stats', frames=frames), **done)
                print(json.dumps(done), flush=True)
                if args.device == 'cpu' or 'error' in done:
                    rows.append(done)
                if 'error' in done:
                    print(f'[benchmark] statistics for {frames} frames failed; '
                          'measuring with initial statistics', file=sys.stderr)
                    stats_file = None
            for mode in args.modes:
                row = child(args, ['--measure', mode], frames, stats_file)
                row = dict(dict(mode=mode, frames=frames), **row)
                print(json.dumps(row), flush=True)
                rows.append(row)
    print_table(rows)


if __name__ == '__main__':
    main()
