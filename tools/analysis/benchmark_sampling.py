"""Sampling throughput of a whole hierarchy: videos per second, peak memory.

    python tools/analysis/benchmark_sampling.py configs/hvg/hvg2_kinetics_48f_128.py \
        --random-weights --batch-size 8 --repeats 3 [--bn-passes 2] [--json OUT]

Samples the hierarchy as ``tools/sample.py`` does (``Hierarchy.sample``:
level 1, then every upsampling level over the whole output of the level
below), e.g. 48/128x128 for the 2-level Kinetics model. ``--random-weights``
builds every level from its config instead of reading checkpoints: speed and
memory do not depend on the weights' values, so a machine without trained
checkpoints measures the same. The per-length BatchNorm statistics are
recomputed once first (``--bn-passes`` dummy passes per upsampling level,
timed apart as ``bn_prepare_s``; appendix A uses 200, which only adds to
that one-off cost), then ``--repeats`` timed batches of ``--batch-size``
videos, each with other seeds. ``--cfg-options`` override keys of every
level config (e.g. tiny widths for a CPU check); a key under a part a level
lacks (level 1 has no matching discriminator) is skipped for that level.
"""
import json
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hvg.apis.hierarchy import Hierarchy, check_chain
from hvg.registry import MODELS
from hvg.utils.cli import DictAction, positive_int, tool_parser


def has_key(cfg, dotted: str) -> bool:
    """Whether ``cfg`` holds the dotted key (``model.discriminator.matching``)."""
    node = cfg
    for part in dotted.split('.'):
        if not isinstance(node, (dict, Config)) or part not in node:
            return False
        node = node[part]
    return True


def random_levels(cfg: Config, device: str, options: dict) -> list:
    """Every level of a hierarchy config, built from its config, random weights."""
    init_default_scope('hvg')
    levels = []
    for entry in cfg.hierarchy['levels']:
        level_cfg = Config.fromfile(entry['config'])
        # keys under a part this level lacks (level 1 has no matching D) skip it
        level_cfg.merge_from_dict({key: value for key, value in options.items()
                                   if has_key(level_cfg, key.rsplit('.', 1)[0])})
        if level_cfg.model.get('lowres_source') is not None:
            level_cfg.model.lowres_source = dict(type='RealLowres')  # no checkpoint
        levels.append(MODELS.build(level_cfg.model).to(device).eval())
    return levels


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='hierarchy config (configs/hvg/hvg*.py)')
    parser.add_argument('--random-weights', action='store_true',
                        help='build the levels from their configs (no checkpoints)')
    parser.add_argument('--checkpoints', nargs='+', help='else: the levels, level 1 first')
    parser.add_argument('--batch-size', type=positive_int, default=8)
    parser.add_argument('--repeats', type=positive_int, default=3)
    parser.add_argument('--bn-passes', type=positive_int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of every level config (--random-weights)')
    parser.add_argument('--json', help='also append the JSON line to this file')
    args = parser.parse_args(argv)
    if args.random_weights == bool(args.checkpoints):
        parser.error('give --random-weights or --checkpoints (one of them)')

    cfg = Config.fromfile(args.config)
    if args.random_weights:
        levels = random_levels(cfg, args.device, args.cfg_options or {})
        check_chain(levels, [entry['config'] for entry in cfg.hierarchy['levels']])
        hierarchy = Hierarchy(levels, bn_passes=args.bn_passes,
                              bn_batch_size=args.batch_size)
    else:
        hierarchy = Hierarchy.from_config(args.config, args.checkpoints, args.device,
                                          bn_passes=args.bn_passes,
                                          bn_batch_size=args.batch_size)
    cuda = args.device.startswith('cuda')

    def timed(fn) -> float:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    with torch.no_grad():
        # the first batch also recomputes the per-length BatchNorm statistics
        first = timed(lambda: hierarchy.sample(args.batch_size, seed=0))
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        seconds = sum(timed(lambda r=r: hierarchy.sample(args.batch_size, seed=r + 1))
                      for r in range(args.repeats)) / args.repeats
    result = dict(
        what='sampling', config=args.config, device=args.device,
        device_name=torch.cuda.get_device_name(args.device) if cuda else 'cpu',
        weights='random' if args.random_weights else 'checkpoints',
        levels=len(hierarchy.levels), frames=hierarchy.natural_frames(),
        size=hierarchy.levels[-1].generator.out_size,
        batch_size=args.batch_size, bn_passes=args.bn_passes,
        bn_prepare_s=round(max(first - seconds, 0.0), 3),
        sec_per_batch=round(seconds, 4), videos_per_s=round(args.batch_size / seconds, 3))
    if cuda:
        result['peak_mem_mib'] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    print(json.dumps(result), flush=True)
    if args.json:
        with open(args.json, 'a') as f:
            f.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    main()
