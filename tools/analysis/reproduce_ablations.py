"""The paper's ablations at small scale: one level 1, four level-2 variants, a report.

    python tools/analysis/reproduce_ablations.py --out-dir work_dirs/reproduction \
        --seeds 2 --i3d work_dirs/i3d/i3d_k400.pth [--report docs/reproduction.md]

Per seed (``randomness.seed``): ``tools/train.py`` trains the demo level 1
(``configs/hvg/demo_l1_clips.py``), then, on its final checkpoint, every
variant of ``configs/hvg/repro/`` with the same seed and iterations:
6f / 6f_nomd (6/32x32 -> 12/64x64, with and without the matching D) and
3f / 3f_nomd (3 -> 6). Each variant is scored by ``tools/test.py`` (the one
evaluation path) on two protocols: ``window`` (level 2 at its training length,
``--window``) and ``unrolled`` (level 2 over all 12 level-1 frames: 24 frames),
with FVD (I3D at ``--i3d-size``), grounding and PSD. Training peak memory: the
peak RSS of ``tools/analysis/benchmark_train.py`` (the level's own train step on
a synthetic batch, frozen level 1 excluded) in a fresh process per variant.

Every finished step leaves ``done.json`` in its folder; a rerun skips it, so an
interrupted study resumes. Writes ``results.csv`` (one row per seed x variant x
protocol), ``results.json`` and the report (paper Tables 2-3 beside ours, the
verdicts, Fig. 8 and Fig. 10 counterparts) with its figures and CSV next to it.
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from hvg.utils.atomic_files import atomic_write_text
from hvg.utils.cli import (DictAction, load_config, load_tool, positive_int, tool_parser,
                           writable_file)

REPO = osp.abspath(osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
CONFIG_DIR = osp.join(REPO, 'configs', 'hvg')
LEVEL1 = osp.join(CONFIG_DIR, 'demo_l1_clips.py')
# name: (config, level-1 frames per training window, matching discriminator)
VARIANTS: Dict[str, Tuple[str, int, bool]] = {
    '6f': ('repro/l2_clips_6f.py', 6, True),
    '6f_nomd': ('repro/l2_clips_6f_nomd.py', 6, False),
    '3f': ('repro/l2_clips_3f.py', 3, True),
    '3f_nomd': ('repro/l2_clips_3f_nomd.py', 3, False),
}
PROTOCOLS = ('window', 'unrolled')
# The report is rewritten by every run; the text after this line is kept.
NOTES_MARKER = '<!-- Analysis: the text below this line is kept when the report is rewritten. -->'
# The paper's Kinetics-600 numbers (hvg-paper.txt, configs/hvg/README.md):
# Table 2 is the 3-frame level 2 with / without the matching D.
PAPER_TABLE2 = {'3f_nomd': dict(window=594.99, unrolled=1037.79),
                '3f': dict(window=565.95, unrolled=790.97)}
PAPER_TABLE3 = {'3f': 714.74, '6f': 517.21}
COLUMNS = ['seed', 'variant', 'window_frames', 'matching_d', 'protocol', 'num_frames',
           'fvd', 'grounding_corr_mean', 'grounding_corr_p10', 'grounding_psnr_mean',
           'grounding_real_corr_mean', 'grounding_mismatched_corr_mean',
           'psd_gap_first', 'psd_gap_middle', 'psd_gap_last',
           'psd_high_first', 'psd_high_middle', 'psd_high_last',
           'psd_high_real_first', 'psd_high_real_middle', 'psd_high_real_last',
           'train_seconds', 'peak_rss_mib', 'step_rss_mib']


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = tool_parser(description=__doc__.split('\n')[0])
    p.add_argument('--out-dir', default='work_dirs/reproduction',
                   help='checkpoints, scores, done markers, CSV and JSON')
    p.add_argument('--seeds', type=positive_int, default=2, help='seeds 0 .. N-1')
    p.add_argument('--i3d', default='work_dirs/i3d/i3d_k400.pth',
                   help='Kinetics-400 I3D weights (tools/misc/prepare_i3d.py)')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), help=', '.join(VARIANTS))
    p.add_argument('--l1-iters', type=positive_int, help="level 1 (default: the config's)")
    p.add_argument('--l2-iters', type=positive_int, help="every variant (default: config's)")
    p.add_argument('--num-samples', type=positive_int, default=48,
                   help='generated videos, and real clips, per evaluation')
    p.add_argument('--i3d-size', type=positive_int, default=112,
                   help='I3D input size: 112 compares variants, not the 224 protocol')
    p.add_argument('--bn-passes', type=positive_int, default=8)
    p.add_argument('--batch-size', type=positive_int, default=8, help='evaluation batch')
    p.add_argument('--report', default='docs/reproduction.md', type=writable_file)
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='applied to every training and memory run (tiny tests)')
    args = p.parse_args(argv)
    # every error before the first training
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f'unknown variant(s) {", ".join(unknown)}; choose from {", ".join(VARIANTS)}')
    if not osp.isfile(args.i3d):
        p.error(f'I3D weights not found: {args.i3d} (python tools/misc/prepare_i3d.py '
                f'--out {args.i3d})')
    if args.num_samples < 3:
        p.error('--num-samples must be >= 3 (the PSD deals videos into 3 sets)')
    options = argparse.ArgumentParser(prog=p.prog)
    options.add_argument('--cfg-options', nargs='+', action=DictAction)
    args.cfg_dict = (options.parse_args(['--cfg-options', *args.cfg_options]).cfg_options
                     if args.cfg_options else {})
    args.variants = list(dict.fromkeys(args.variants))
    return args


# --- steps: each leaves done.json, a rerun skips it ------------------------------------
def read_done(folder: str) -> Optional[dict]:
    path = osp.join(folder, 'done.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def final_checkpoint(work_dir: str) -> str:
    found = {int(re.search(r'iter_(\d+)\.pth$', p).group(1)): p
             for p in glob.glob(osp.join(work_dir, 'iter_*.pth'))}
    if not found:
        raise SystemExit(f'error: training left no iter_*.pth in {work_dir}')
    return found[max(found)]


def run_logged(cmd: List[str], log: str) -> None:
    """Run a tool in a fresh process (its own peak RSS, no Runner-global state)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, *filter(None, [os.environ.get('PYTHONPATH')])]))
    with open(log, 'w') as f:
        code = subprocess.run(cmd, cwd=REPO, env=env, stdout=f,
                              stderr=subprocess.STDOUT).returncode
    if code:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'error: {" ".join(cmd[1:3])} failed (exit {code}); {log}:\n{tail}')


def train(config: str, work_dir: str, seed: int, iters: Optional[int],
          options: Sequence[str], extra: Sequence[str] = ()) -> dict:
    if osp.isdir(work_dir):  # an interrupted run: start it again from scratch
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir,
           '--cfg-options', *options, f'randomness.seed={seed}', *extra]
    if iters:
        cmd.append(f'train_cfg.max_iters={iters}')
    run_logged(cmd, osp.join(work_dir, 'train.out'))
    return dict(checkpoint=final_checkpoint(work_dir))


def measure_memory(config: str, folder: str, args: argparse.Namespace) -> dict:
    """Peak RSS of one level's training step at its configured batch (benchmark_train)."""
    os.makedirs(folder, exist_ok=True)
    batch = load_config(config, args.cfg_dict).train_dataloader.batch_size
    cmd = [sys.executable, osp.join(REPO, 'tools', 'analysis', 'benchmark_train.py'), config,
           '--batch-size', str(batch), '--iters', '2', '--warmup', '1', '--device', 'cpu']
    if args.cfg_options:
        cmd += ['--cfg-options', *args.cfg_options]
    log = osp.join(folder, 'benchmark.out')
    run_logged(cmd, log)
    with open(log) as f:
        result = json.loads([line for line in f if line.startswith('{')][-1])
    return dict(peak_rss_mib=result['peak_rss_mib'], batch_size=batch,
                step_rss_mib=round(result['peak_rss_mib'] - result['model_rss_mib'], 1))


def evaluate(l1: str, l2: str, folder: str, args: argparse.Namespace) -> dict:
    """Both protocols through tools/test.py; its JSON (and PSD plot) per protocol."""
    os.makedirs(folder, exist_ok=True)
    tool, scores = load_tool('test.py'), {}
    for protocol in PROTOCOLS:
        out = osp.join(folder, f'{protocol}.json')
        argv = ['--checkpoints', l1, l2, '--metrics', 'fvd', 'grounding', 'psd',
                '--i3d', args.i3d, '--i3d-size', str(args.i3d_size),
                '--num-samples', str(args.num_samples), '--num-real', str(args.num_samples),
                '--batch-size', str(args.batch_size), '--bn-passes', str(args.bn_passes),
                '--workers', '0', '--device', 'cpu', '--out', out]
        tool.main(argv + (['--window'] if protocol == 'window' else []))
        with open(out) as f:
            report = json.load(f)
        scores[protocol] = dict(report['metrics'], num_frames=report['num_frames'],
                                psd_plot=report.get('psd_plot'))
    return scores


class Study:
    """The ordered steps, their done markers and an ETA from measured durations."""

    def __init__(self) -> None:
        self.steps: List[Tuple[str, str, str, Callable[[], dict]]] = []
        self.seconds: Dict[str, List[float]] = {}
        self.results: Dict[str, dict] = {}

    def add(self, name: str, kind: str, folder: str, action: Callable[[], dict]) -> None:
        self.steps.append((name, kind, folder, action))

    def eta(self, index: int) -> str:
        left = [kind for _, kind, folder, _ in self.steps[index:] if read_done(folder) is None]
        known = [np.mean(self.seconds[k]) for k in left if k in self.seconds]
        unknown = len(left) - len(known)
        text = f'ETA {sum(known) / 60:.1f} min'
        return text + (f' + {unknown} step(s) of a kind not yet timed' if unknown else '')

    def run(self) -> None:
        total = len(self.steps)
        for index, (name, kind, folder, action) in enumerate(self.steps):
            done = read_done(folder)
            if done is not None:
                print(f'[repro] {index + 1}/{total} skipping {name} (done)', flush=True)
            else:
                print(f'[repro] {index + 1}/{total} {name}; {self.eta(index)}', flush=True)
                start = time.time()
                done = dict(action(), seconds=round(time.time() - start, 1))
                atomic_write_text(osp.join(folder, 'done.json'), json.dumps(done, indent=2))
                print(f'[repro] {name} done in {done["seconds"]:.0f} s', flush=True)
            self.seconds.setdefault(kind, []).append(done['seconds'])
            self.results[name] = done


def plan(args: argparse.Namespace) -> Study:
    study, out = Study(), args.out_dir
    options = args.cfg_options
    for variant in args.variants:
        config = osp.join(CONFIG_DIR, VARIANTS[variant][0])
        study.add(f'memory {variant}', 'memory', osp.join(out, 'memory', variant),
                  lambda c=config, v=variant: measure_memory(c, osp.join(out, 'memory', v),
                                                             args))
    for seed in range(args.seeds):
        l1_dir = osp.join(out, f'seed{seed}', 'level1')
        study.add(f'seed {seed} level 1', 'level1', l1_dir,
                  lambda d=l1_dir, s=seed: train(LEVEL1, d, s, args.l1_iters, options))
        for variant in args.variants:
            config = osp.join(CONFIG_DIR, VARIANTS[variant][0])
            l2_dir = osp.join(out, f'seed{seed}', variant)

            def level2(c=config, d=l2_dir, s=seed, l1=l1_dir) -> dict:
                ckpt = read_done(l1)['checkpoint']
                return train(c, d, s, args.l2_iters, options,
                             [f'model.lowres_source.levels.0.checkpoint={ckpt}'])

            def scores(d=l2_dir, l1=l1_dir) -> dict:
                return evaluate(read_done(l1)['checkpoint'], read_done(d)['checkpoint'],
                                osp.join(d, 'eval'), args)

            study.add(f'seed {seed} {variant} training', 'level2', l2_dir, level2)
            study.add(f'seed {seed} {variant} evaluation', 'eval', osp.join(l2_dir, 'eval'),
                      scores)
    return study


# --- results -------------------------------------------------------------------------
def result_rows(study: Study, args: argparse.Namespace) -> List[dict]:
    rows = []
    for seed in range(args.seeds):
        for variant in args.variants:
            memory = study.results[f'memory {variant}']
            trained = study.results[f'seed {seed} {variant} training']
            scores = study.results[f'seed {seed} {variant} evaluation']
            for protocol in PROTOCOLS:
                values = scores[protocol]
                frames = values['num_frames']
                picks = dict(first=1, middle=(frames + 1) // 2, last=frames)
                g = 'level2/grounding_'
                row = dict(seed=seed, variant=variant, window_frames=VARIANTS[variant][1],
                           matching_d=VARIANTS[variant][2], protocol=protocol,
                           num_frames=frames, fvd=values.get('fvd'),
                           train_seconds=trained['seconds'], **{
                               k: memory[k] for k in ('peak_rss_mib', 'step_rss_mib')})
                for key in ('corr_mean', 'corr_p10', 'psnr_mean', 'real_corr_mean',
                            'mismatched_corr_mean'):
                    row[f'grounding_{key}'] = values.get(g + key)
                for name, f in picks.items():
                    row[f'psd_gap_{name}'] = values.get(f'psd_log10_gap_frame{f}')
                    row[f'psd_high_{name}'] = values.get(f'psd_high_power_frame{f}')
                    row[f'psd_high_real_{name}'] = values.get(f'psd_high_power_real_frame{f}')
                rows.append(row)
    return rows


def values_of(rows: List[dict], variant: str, protocol: str, key: str) -> List[float]:
    return [r[key] for r in sorted(rows, key=lambda r: r['seed'])
            if r['variant'] == variant and r['protocol'] == protocol and r[key] is not None]


def fmt(value: float) -> str:
    """Values of 100 and more as integers with thousands separators (FVDs, MiB), smaller
    ones to 3 significant digits: a table a reader can scan without exponents."""
    if value is None or not np.isfinite(value):
        return 'n/a'
    return f'{value:,.0f}' if abs(value) >= 100 else f'{value:.3g}'


def mean_std(values: Sequence[float]) -> str:
    if not values:
        return 'n/a'
    if len(values) == 1:
        return fmt(values[0])
    std = float(np.std(values, ddof=1))
    spread = f'{std:,.0f}' if std >= 100 else '0' if std < 1e-9 else f'{std:.2g}'
    return f'{fmt(float(np.mean(values)))} ± {spread}'


def verdict(better: Sequence[float], worse: Sequence[float], lower_is_better: bool) -> str:
    """'holds' only if every seed shows the paper's direction and the mean difference
    exceeds the larger of the two variants' std over seeds (one seed: no verdict)."""
    if len(better) < 2 or len(better) != len(worse):
        return 'not shown (fewer than 2 seeds)'
    sign = -1 if lower_is_better else 1
    agree = sum(sign * (b - w) > 0 for b, w in zip(better, worse))
    diff = abs(np.mean(better) - np.mean(worse))
    spread = max(np.std(better, ddof=1), np.std(worse, ddof=1))
    on_average = 'and on average' if sign * (np.mean(better) - np.mean(worse)) > 0 \
        else 'the opposite on average'
    evidence = (f'the paper\'s direction on {agree} of {len(better)} seeds, {on_average}; '
                f'mean difference {fmt(diff)}, largest std {fmt(spread)}')
    if agree == len(better) and diff > spread:
        return f'**holds** ({evidence})'
    return f'**not shown at this scale** ({evidence})'


def psd_ratio_verdict(rows: List[dict], variant: str) -> str:
    """Claim (c): the generated last/first high-frequency ratio within 10% of the real
    one on every seed (unrolled protocol)."""
    gen = [h / f for h, f in zip(values_of(rows, variant, 'unrolled', 'psd_high_last'),
                                 values_of(rows, variant, 'unrolled', 'psd_high_first'))]
    real = [h / f for h, f in zip(values_of(rows, variant, 'unrolled', 'psd_high_real_last'),
                                  values_of(rows, variant, 'unrolled', 'psd_high_real_first'))]
    if not gen:
        return 'n/a'
    close = [abs(g / r - 1) <= 0.1 for g, r in zip(gen, real)]
    per_seed = ', '.join(f'{g:.2f}' for g in gen)
    blurrier = sum(g < 1 for g in gen)
    text = (f'generated last/first {mean_std(gen)} (per seed {per_seed}), real '
            f'{mean_std(real)}; the generated last frame has less high-frequency power than '
            f'the first on {blurrier} of {len(gen)} seeds: ')
    if len(gen) < 2:
        return text + 'not shown (fewer than 2 seeds)'
    return text + ('**holds** (within 10% of the real ratio on every seed)' if all(close) else
                   f'**not shown at this scale** (within 10% of the real ratio on '
                   f'{sum(close)} of {len(close)} seeds)')


def sample_figure(study: Study, args: argparse.Namespace, path: str) -> Optional[str]:
    """Fig. 8: one unrolled sample of the No-MD and the MD level 2 on the same
    level-1 video, side by side (first, middle and last frames stacked)."""
    import torch
    from PIL import Image
    from hvg.apis import Hierarchy, levels_side_by_side
    from hvg.utils.video_io import label_grid, make_video_grid
    window = '3f' if {'3f', '3f_nomd'} <= set(args.variants) else '6f'
    if not {window, f'{window}_nomd'} <= set(args.variants):
        return None
    l1 = study.results['seed 0 level 1']['checkpoint']
    outputs = []
    for variant in (f'{window}_nomd', window):
        l2 = study.results[f'seed 0 {variant} training']['checkpoint']
        hierarchy = Hierarchy.from_checkpoints([l1, l2], bn_passes=args.bn_passes)
        lowres, highres = hierarchy.sample(1, labels=torch.tensor([0]), seed=0)
        outputs = outputs or [lowres]
        outputs.append(highres)
    titles = [[f'level 1 ({outputs[0].shape[2]} frames)', f'No MD ({window})',
               f'MD ({window})']]
    frames = label_grid(make_video_grid(levels_side_by_side(outputs), nrow=1), 1, 1, titles)
    still = np.concatenate([frames[i] for i in (0, len(frames) // 2, len(frames) - 1)], 0)
    Image.fromarray(still).save(path)
    return path


def write_csv(rows: List[dict], path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def study_minutes(study: Study) -> float:
    """The study's compute time: the sum of every step's measured duration (from the
    done markers), the same figure whether it ran in one go or was resumed."""
    return sum(result['seconds'] for result in study.results.values()) / 60


def kept_notes(report: str) -> str:
    """The hand-written analysis below NOTES_MARKER in an existing report, so that a
    rerun refreshes the numbers without deleting what people wrote about them."""
    text = ''
    if osp.isfile(report):
        with open(report) as f:
            text = f.read()
    notes = text.split(NOTES_MARKER, 1)[1] if NOTES_MARKER in text else '\n'
    return '\n' + NOTES_MARKER + notes


def report_text(rows: List[dict], args: argparse.Namespace, links: Dict[str, str],
                command: str, minutes: float) -> str:
    seeds = args.seeds
    ms = lambda v, p, k: mean_std(values_of(rows, v, p, k))  # noqa: E731
    # memory is measured once per variant (not per seed): one value, no spread
    once = lambda v, k: fmt(values_of(rows, v, 'unrolled', k)[0])  # noqa: E731
    lines = [
        '# Reproducing the paper\'s ablations at small scale (issue #12)', '',
        f'Measured by `tools/analysis/reproduce_ablations.py` over {seeds} seed(s) '
        f'(mean ± std over seeds, std with ddof=1). Our setting: the demo level 1 '
        '(12/32x32) and level-2 variants of `configs/hvg/repro/` (64x64) on the 3 '
        'bundled sample clips; the paper\'s: Kinetics-600 at 128x128. Only the '
        'directions are comparable, not the values. FVD: I3D at '
        f'{args.i3d_size} px over {args.num_samples} generated and {args.num_samples} real '
        'videos (for comparing variants with each other, not the 224-px protocol). '
        'Protocols: *window* = level 2 at its training length (`tools/test.py --window`), '
        '*unrolled* = level 2 over all 12 level-1 frames (24 frames).', '',
        f'Command: `{command}` ({minutes:.1f} min of steps on this machine, '
        'the sum of the durations in the done markers).', '',
        f'Data: [CSV]({links["csv"]}) (one row per seed x variant x protocol), '
        f'[JSON]({links["json"]}).', '',
        '## Table 2: matching discriminator (MD vs No MD)', '',
        '| window | model | FVD window (ours) | FVD unrolled (ours) | grounding corr '
        'unrolled | corr p10 | PSNR dB | paper FVD 6 frames | paper FVD 50 frames |',
        '|---|---|---|---|---|---|---|---|---|']
    for window in ('3f', '6f'):
        for variant, label in ((f'{window}_nomd', 'HVG (No MD)'), (window, 'HVG')):
            if variant not in args.variants:
                continue
            paper = PAPER_TABLE2.get(variant, {})
            lines.append(
                f'| {window} | {label} | {ms(variant, "window", "fvd")} | '
                f'{ms(variant, "unrolled", "fvd")} | '
                f'{ms(variant, "unrolled", "grounding_corr_mean")} | '
                f'{ms(variant, "unrolled", "grounding_corr_p10")} | '
                f'{ms(variant, "unrolled", "grounding_psnr_mean")} | '
                f'{paper.get("window", "")} | {paper.get("unrolled", "")} |')
    lines += ['', 'The paper\'s Table 2 is the 3-frame level 2; the 6-frame pair is ours '
              'only.', '', '## Table 3: temporal window (6f vs 3f, with MD)', '',
              '| model | FVD unrolled (ours) | training peak RSS MiB | step RSS MiB '
              '(peak − model) | paper FVD 48 frames | paper memory |', '|---|---|---|---|---|---|']
    for variant, label, mem in (('3f', '3-frame', '1x'), ('6f', '6-frame', '~2x')):
        if variant in args.variants:
            lines.append(f'| {label} | {ms(variant, "unrolled", "fvd")} | '
                         f'{once(variant, "peak_rss_mib")} | '
                         f'{once(variant, "step_rss_mib")} | '
                         f'{PAPER_TABLE3[variant]} | {mem} |')
    lines += ['', 'Memory: peak resident set size of `tools/analysis/benchmark_train.py` '
              '(one fresh process per variant: the level\'s own D and G steps on a synthetic '
              'batch of the config\'s size, frozen level 1 excluded), on the CPU; "step RSS" '
              'subtracts the process\'s size after building the model.', '',
              '## Verdicts', '',
              'Rule: a claim *holds* only if every seed shows the paper\'s direction and the '
              'mean difference exceeds the larger of the two variants\' std over seeds; '
              'otherwise *not shown at this scale*. No variant was tuned.', '']
    for window in ('3f', '6f'):
        if {window, f'{window}_nomd'} <= set(args.variants):
            md, nomd = window, f'{window}_nomd'
            lines.append(f'- (a) {window}, unrolled FVD, MD < No MD: ' + verdict(
                values_of(rows, md, 'unrolled', 'fvd'),
                values_of(rows, nomd, 'unrolled', 'fvd'), True))
            lines.append(f'- (a) {window}, unrolled grounding corr, MD > No MD: ' + verdict(
                values_of(rows, md, 'unrolled', 'grounding_corr_mean'),
                values_of(rows, nomd, 'unrolled', 'grounding_corr_mean'), False))
    if {'3f', '6f'} <= set(args.variants):
        lines.append('- (b) unrolled FVD, 6f < 3f: ' + verdict(
            values_of(rows, '6f', 'unrolled', 'fvd'), values_of(rows, '3f', 'unrolled', 'fvd'),
            True))
        six, three = (values_of(rows, v, 'unrolled', 'step_rss_mib')[0] for v in ('6f', '3f'))
        lines.append(f'- (b) training memory, 6f vs 3f: step RSS ratio {six / three:.2f}x '
                     '(paper: ~2x; one measurement per variant, deterministic up to the '
                     'allocator)')
    for variant in args.variants:
        lines.append(f'- (c) {variant}, unrolled, high-frequency PSD power (upper half of '
                     'the frequencies) of the last vs the first frame: '
                     + psd_ratio_verdict(rows, variant))
    lines += ['', '## Per seed (unrolled protocol)', '',
              'Every seed trains its own level 1 and, on it, every variant; a direction '
              'that flips between seeds is noise at this scale.', '',
              '| seed | variant | FVD | grounding corr | HF power last/first |',
              '|---|---|---|---|---|']
    for row in sorted((r for r in rows if r['protocol'] == 'unrolled'),
                      key=lambda r: (r['seed'], r['variant'])):
        ratio = (row['psd_high_last'] / row['psd_high_first']
                 if row['psd_high_last'] and row['psd_high_first'] else None)
        lines.append(f'| {row["seed"]} | {row["variant"]} | {fmt(row["fvd"])} | '
                     f'{fmt(row["grounding_corr_mean"])} | {fmt(ratio)} |')
    lines += ['', '## Figures', '']
    if links.get('psd'):
        lines += [f'PSD at the first, middle and last unrolled frame, generated vs real '
                  f'(Fig. 10; seed 0, {links["psd_variant"]}, mean ± std over 3 sets):', '',
                  f'![PSD]({links["psd"]})', '']
    if links.get('sample'):
        lines += ['One unrolled sample, No MD vs MD, on the same level-1 video (Fig. 8; seed '
                  '0; rows: first, middle, last frame):', '', f'![sample]({links["sample"]})',
                  '']
    return '\n'.join(lines) + '\n'


def write_outputs(study: Study, args: argparse.Namespace, command: str) -> None:
    rows = result_rows(study, args)
    write_csv(rows, osp.join(args.out_dir, 'results.csv'))
    with open(osp.join(args.out_dir, 'results.json'), 'w') as f:
        json.dump(dict(rows=rows, command=command, steps=study.results), f, indent=2)
    report_dir = osp.dirname(osp.abspath(args.report))
    assets = osp.join(report_dir, 'figures', 'reproduction')
    os.makedirs(assets, exist_ok=True)
    for name in ('results.csv', 'results.json'):
        shutil.copy(osp.join(args.out_dir, name), osp.join(assets, name))
    rel = lambda p: osp.relpath(p, report_dir)  # noqa: E731
    links = dict(csv=rel(osp.join(assets, 'results.csv')),
                 json=rel(osp.join(assets, 'results.json')))
    psd_variant = next((v for v in ('6f', '3f', *args.variants) if v in args.variants))
    plot = study.results[f'seed 0 {psd_variant} evaluation']['unrolled'].get('psd_plot')
    if plot and osp.isfile(plot):
        shutil.copy(plot, osp.join(assets, 'psd_unrolled.png'))
        links.update(psd=rel(osp.join(assets, 'psd_unrolled.png')), psd_variant=psd_variant)
    sample = sample_figure(study, args, osp.join(assets, 'sample_nomd_vs_md.png'))
    if sample:
        links['sample'] = rel(sample)
    text = report_text(rows, args, links, command, study_minutes(study))
    atomic_write_text(args.report, text + kept_notes(args.report))
    print(f'[repro] wrote {osp.join(args.out_dir, "results.csv")}, {args.report}', flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    command = ' '.join(['python', 'tools/analysis/reproduce_ablations.py',
                        *(sys.argv[1:] if argv is None else argv)])
    os.makedirs(args.out_dir, exist_ok=True)
    study = plan(args)
    start = time.time()
    study.run()
    write_outputs(study, args, command)
    print(f'[repro] study done in {(time.time() - start) / 60:.1f} min', flush=True)


if __name__ == '__main__':
    main()
