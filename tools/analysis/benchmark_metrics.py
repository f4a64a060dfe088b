"""Speed and correctness checks of the video metrics.

    python tools/analysis/benchmark_metrics.py --i3d work_dirs/i3d/i3d_k400.pth

1. I3D clips per second at the protocol's input (16 frames, 224x224), batch
   ``--batch-size``, after one warm-up batch (``--i3d`` omitted: random weights,
   the same speed).
2. Frechet distance time at d=400 (FVD) and d=1024 (FID): ours (two symmetric
   eigen-decompositions) against ``scipy.linalg.sqrtm``, on covariances of
   ``2 d`` random features, and their relative difference.
3. With real weights: the TF-Hub check. For a black 15-frame 224x224 clip,
   TF-Hub's ``i3d-kinetics-400/1`` (the reference FVD's network) prints the
   logits below (first and last three of 400, as printed by a TF1 run of the
   reference code in github.com/zhanganny/cal_FVD, ``my_suc.py``); our port
   must give the same to float32 precision.
4. With real weights: top-5 Kinetics-400 class indices of 16-frame clips of
   the sample clips (a sanity check that the network classifies, not that it
   matches TF).

One JSON line per measurement (``--json FILE``: also appended there).
``--device cuda`` runs I3D on the GPU (the other checks stay on the CPU).
"""
import json
import time

import numpy as np
import torch

from hvg.evaluation import frechet_distance, load_i3d, random_i3d
from hvg.evaluation.frechet import frechet_distance_scipy
from hvg.evaluation.protocol import as_uint8_bcthw, i3d_input
from hvg.utils.cli import positive_int, tool_parser

# TF-Hub i3d-kinetics-400/1 logits of zeros(1, 15, 224, 224, 3) uint8 (-1 after scaling)
TFHUB_BLACK_FIRST = [0.7422105, 2.829727, 0.39993525]
TFHUB_BLACK_LAST = [-0.38092658, 0.65539014, -1.4021297]


JSON_OUT = None  # --json: a file every report is appended to


def report(**fields) -> None:
    print(json.dumps(fields), flush=True)
    if JSON_OUT:
        with open(JSON_OUT, 'a') as f:
            f.write(json.dumps(fields) + '\n')


def bench_i3d(model, batch_size: int, repeats: int, device: str = 'cpu') -> None:
    videos = torch.randint(0, 256, (batch_size, 3, 16, 224, 224), dtype=torch.uint8,
                           device=device)
    model = model.to(device)
    cuda = device.startswith('cuda')
    with torch.no_grad():
        model(i3d_input(videos))  # warm-up
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            model(i3d_input(videos))
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    report(what='i3d', frames=16, size=224, batch=batch_size, device=device,
           device_name=torch.cuda.get_device_name(device) if cuda else 'cpu',
           threads=torch.get_num_threads(),
           clips_per_s=round(batch_size * repeats / seconds, 3),
           s_per_clip=round(seconds / (batch_size * repeats), 3))


def bench_frechet(dim: int, repeats: int) -> None:
    rng = np.random.default_rng(dim)
    stats = []
    for shift in (0.0, 0.5):
        x = rng.normal(size=(2 * dim, dim)) @ rng.normal(size=(dim, dim)) / np.sqrt(dim)
        stats.append(((x + shift).mean(0), np.cov(x + shift, rowvar=False)))
    times = {}
    values = {}
    for name, fn in (('ours', frechet_distance), ('scipy_sqrtm', frechet_distance_scipy)):
        start = time.perf_counter()
        for _ in range(repeats):
            values[name] = fn(*stats[0], *stats[1])
        times[name] = (time.perf_counter() - start) / repeats
    report(what='frechet', dim=dim, ours_s=round(times['ours'], 4),
           scipy_sqrtm_s=round(times['scipy_sqrtm'], 4),
           speedup=round(times['scipy_sqrtm'] / times['ours'], 2),
           value=values['ours'],
           rel_diff=abs(values['ours'] - values['scipy_sqrtm']) / values['scipy_sqrtm'])


def tfhub_check(model) -> None:
    black = torch.zeros(1, 3, 15, 224, 224, dtype=torch.uint8)
    with torch.no_grad():
        logits = model(i3d_input(black))['logits'][0]
    ours = logits[:3].tolist() + logits[-3:].tolist()
    reference = TFHUB_BLACK_FIRST + TFHUB_BLACK_LAST
    report(what='tfhub_black_clip', ours=[round(v, 6) for v in ours], tfhub=reference,
           max_abs_diff=float(np.max(np.abs(np.array(ours) - np.array(reference)))))


def classify_sample_clips(model) -> None:
    import decord

    from hvg.datasets.sample_clips import find_sample_clips
    for name, path in find_sample_clips().items():
        reader = decord.VideoReader(str(path))
        frames = reader.get_batch(list(range(0, 32, 2))).asnumpy()  # 16 frames
        with torch.no_grad():
            logits = model(i3d_input(as_uint8_bcthw(frames[None])))['logits'][0]
        probs = logits.softmax(0)
        top = probs.topk(5)
        report(what='top5', clip=name, classes=top.indices.tolist(),
               probs=[round(p, 3) for p in top.values.tolist()],
               logit_std=round(float(logits.std()), 3))


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('--i3d', help='Kinetics-400 weights (else random: speed only)')
    parser.add_argument('--batch-size', type=positive_int, default=1)
    parser.add_argument('--repeats', type=positive_int, default=3)
    parser.add_argument('--skip', nargs='*', default=[],
                        choices=['i3d', 'frechet', 'tfhub', 'top5'])
    parser.add_argument('--device', default='cpu', help='where I3D runs (cpu, cuda)')
    parser.add_argument('--json', help='also append every JSON line to this file')
    args = parser.parse_args(argv)
    global JSON_OUT
    JSON_OUT = args.json
    model = load_i3d(args.i3d) if args.i3d else random_i3d()
    if 'i3d' not in args.skip:
        bench_i3d(model, args.batch_size, args.repeats, args.device)
        model = model.cpu()
    if 'frechet' not in args.skip:
        for dim in (400, 1024):
            bench_frechet(dim, args.repeats)
    if args.i3d and 'tfhub' not in args.skip:
        tfhub_check(model)
    if args.i3d and 'top5' not in args.skip:
        classify_sample_clips(model)


if __name__ == '__main__':
    main()
