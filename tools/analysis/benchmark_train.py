"""Seconds per training iteration, clips/s, peak memory and FLOPs of a level.

    python tools/analysis/benchmark_train.py configs/hvg/l1_kinetics_24f_32.py \
        --batch-size 2 --iters 6 [--precision fp32 amp] [--flops] [--json OUT]

Runs the level's real ``train_step`` (D step every iteration, G step every
``discriminator_steps``) on a synthetic uint8 batch of the config's clip
shape, so data loading is excluded. Upsampling levels run with
``lowres_source=RealLowres`` (no checkpoint of the previous levels needed): the
frozen previous levels' no-grad forward pass is not counted. Reports the mean over whole D/G cycles.

``--precision``: ``fp32``, and/or ``amp`` (``MixedPrecisionOptimWrapper``:
bf16 where the device has it, else fp16 with loss scaling, as
``tools/train.py --amp``); each with fresh optimizers, on one level built once. ``--flops`` also counts
the FLOPs of one D/G cycle (``FlopCounterMode``, as ``get_flops.py``) on the
device, so ``cycle_tflops_per_s`` (achieved) can be set against a card's peak.
Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` (reset per
precision); on the CPU, the process's peak resident set size (``ru_maxrss``)
and its growth over the model-only baseline: per process, so a second
precision's peak includes the first's (run one per process for CPU memory).
"""
import copy
import json
import os.path as osp
import resource
import sys
import time

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import hvg.engine  # noqa: F401 (registers the optim-wrapper constructor)
from hvg.engine.optimizers import use_mixed_precision
from hvg.registry import MODELS
from hvg.utils.cli import DictAction, non_negative_int, positive_int, tool_parser
from hvg.utils.example_batch import example_batch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from get_flops import count_flops  # noqa: E402


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def device_name(device: str) -> str:
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    return 'cpu'


def build_level(args):
    """The level (random weights) and its config, built once for every precision."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.model.get('lowres_source'):
        # the level's own step, without the frozen levels' sampling in it
        cfg.model.lowres_source = dict(type='RealLowres')
    init_default_scope('hvg')
    torch.manual_seed(0)
    return MODELS.build(cfg.model).to(args.device), cfg


def measure(args, model, cfg: Config, precision: str) -> dict:
    """Time ``args.iters`` iterations (whole D/G cycles) at one precision.

    Fresh optimizers (and Adam moments) per precision; the level is the same
    (its weights' values do not change the cost).
    """
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    if precision == 'amp':
        use_mixed_precision(optim_cfg)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    data = example_batch(cfg, args.batch_size)
    cycle = model.discriminator_steps
    iters = -(-args.iters // cycle) * cycle
    cuda = args.device.startswith('cuda')
    baseline = rss_mib()
    hub = MessageHub.get_current_instance()

    def step(iteration: int) -> None:
        hub.update_info('iter', iteration)
        model.train_step(data, optim_wrapper)

    warmup = -(-args.warmup // cycle) * cycle
    for i in range(warmup):
        step(i)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(iters):
        step(i)
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / iters
    result = dict(
        config=args.config, device=args.device, device_name=device_name(args.device),
        precision=precision, batch_size=args.batch_size,
        torch_threads=torch.get_num_threads(), iters=iters,
        sec_per_iter=round(seconds, 4),
        clips_per_s=round(args.batch_size / seconds, 3),
        params_g=sum(p.numel() for p in model.generator.parameters()),
        params_d=sum(p.numel() for p in model.discriminator.parameters()))
    if precision == 'amp':
        result['amp_dtype'] = str(optim_wrapper['generator'].cast_dtype).replace('torch.', '')
    if cuda:
        result['peak_mem_mib'] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    else:
        result['peak_rss_mib'] = round(rss_mib(), 1)
        result['model_rss_mib'] = round(baseline, 1)
    if args.flops:
        # one whole cycle: iterations 0 .. cycle-1 (D every step, G at the last)
        flops = count_flops(lambda: [step(i) for i in range(cycle)])
        result['cycle_gflops'] = round(flops / 1e9, 3)
        result['cycle_tflops_per_s'] = round(flops / (seconds * cycle) / 1e12, 4)
    del optim_wrapper
    model.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.empty_cache()
    return result


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=positive_int, default=1)
    parser.add_argument('--iters', type=positive_int, default=4,
                        help='timed iterations (rounded up to whole D/G cycles)')
    parser.add_argument('--warmup', type=non_negative_int, default=2,
                        help='untimed iterations first (rounded up to whole cycles)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--precision', nargs='+', choices=['fp32', 'amp'], default=['fp32'],
                        help='amp: bf16 where supported, else fp16 (tools/train.py --amp)')
    parser.add_argument('--flops', action='store_true',
                        help='also count the FLOPs of one D/G cycle (FlopCounterMode)')
    parser.add_argument('--json', help='append one JSON line per measurement to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    model, cfg = build_level(args)
    for precision in args.precision:
        result = measure(args, model, cfg, precision)
        print(json.dumps(result), flush=True)
        if args.json:
            with open(args.json, 'a') as f:
                f.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    main()
