"""Seconds per training iteration and peak memory of a level, from its config.

    python tools/analysis/benchmark_train.py configs/hvg/l1_kinetics_24f_32.py \
        --batch-size 2 --iters 6

Runs the level's real ``train_step`` (D step every iteration, G step every
``discriminator_steps``) on a synthetic uint8 batch of the config's clip
shape, so data loading is excluded. Upsampling levels run with
``lowres_source=RealLowres`` (no checkpoint of the previous levels needed): the
frozen previous levels' no-grad forward pass is not counted. Reports the mean over whole D/G cycles.
Peak memory: on CUDA, ``torch.cuda.max_memory_allocated``; on the CPU, the
process's peak resident set size (``ru_maxrss``) and its growth over the
model-only baseline. Run one config per process: peak RSS is per process.
"""
import json
import resource
import time

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import hvg.engine  # noqa: F401 (registers the optim-wrapper constructor)
from hvg.registry import MODELS
from hvg.utils.cli import DictAction, non_negative_int, positive_int, tool_parser
from hvg.utils.example_batch import example_batch


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=positive_int, default=1)
    parser.add_argument('--iters', type=positive_int, default=4,
                        help='timed iterations (rounded up to whole D/G cycles)')
    parser.add_argument('--warmup', type=non_negative_int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.model.get('lowres_source'):
        # the level's own step, without the frozen levels' sampling in it
        cfg.model.lowres_source = dict(type='RealLowres')
    init_default_scope('hvg')
    model = MODELS.build(cfg.model).to(args.device)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = example_batch(cfg, args.batch_size)
    cycle = model.discriminator_steps
    iters = -(-args.iters // cycle) * cycle
    baseline = rss_mib()

    def step() -> None:
        model.train_step(data, optim_wrapper)

    for _ in range(args.warmup):
        step()
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / iters
    result = dict(
        config=args.config, device=args.device, batch_size=args.batch_size,
        torch_threads=torch.get_num_threads(), iters=iters,
        sec_per_iter=round(seconds, 4),
        params_g=sum(p.numel() for p in model.generator.parameters()),
        params_d=sum(p.numel() for p in model.discriminator.parameters()))
    if args.device.startswith('cuda'):
        result['peak_mem_mib'] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    else:
        result['peak_rss_mib'] = round(rss_mib(), 1)
        result['model_rss_mib'] = round(baseline, 1)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
