"""Parameters and FLOPs of a level, per network and per training step, from its config.

    python tools/analysis/get_flops.py configs/hvg/l2_kinetics_6f.py [--batch-size 1]

Nothing is read but the config: the level is built with random weights (an
upsampling level with ``lowres_source=RealLowres``, so no checkpoint is
needed) and run on a synthetic batch of its clip shape. FLOPs are counted by
``torch.utils.flop_counter.FlopCounterMode`` (matrix multiplications and
convolutions, forward and backward; one multiply-add counts 2 FLOPs):

- ``generator_forward``: one sampling forward pass of the generator;
- ``discriminator_step``: one D update (a fake made under no_grad, real and
  fake scored, backward);
- ``generator_step``: one G update (forward, the discriminators, backward);
- ``cycle``: what the schedule repeats, ``discriminator_steps`` D updates and
  one G update (appendix A: 2 + 1).
"""
import argparse
import json

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

import hvg.engine  # noqa: F401 (registers the optim-wrapper constructor)
from hvg.registry import MODELS
from hvg.utils.cli import DictAction, load_config, positive_int, tool_parser
from hvg.utils.example_batch import example_batch


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='level config')
    parser.add_argument('--batch-size', type=positive_int, default=1,
                        help='clips per step')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. model.generator.base_channels=8')
    parser.add_argument('--out', help='also write the numbers as JSON here')
    return parser.parse_args(argv)


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def level_costs(cfg: Config, batch_size: int) -> dict:
    """Parameters per network and FLOPs per step of the level a config builds."""
    init_default_scope('hvg')
    if cfg.model.get('lowres_source') is not None:
        cfg.model.lowres_source = dict(type='RealLowres')  # no checkpoint to read
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = example_batch(cfg, batch_size)
    networks = {'generator': parameters(model.generator)}
    for name in model.discriminator.names:
        networks[f'discriminator.{name}'] = parameters(getattr(model.discriminator, name))
    gen = model.generator
    model.eval()
    # an upsampling level's inputs are {'highres', 'lowres'}; level 1's a tensor
    if isinstance(data['inputs'], dict) and 'lowres' in data['inputs']:
        lowres = data['inputs']['lowres'][:1].float() / 127.5 - 1
        forward = count_flops(lambda: model.sample(lowres, seed=0))
    else:
        forward = count_flops(lambda: model.sample(1, seed=0))
    model.train()
    hub = MessageHub.get_current_instance()
    steps = model.discriminator_steps
    hub.update_info('iter', 0)  # a D update only
    d_step = count_flops(lambda: model.train_step(data, optim_wrapper))
    hub.update_info('iter', steps - 1)  # a D update and a G update
    g_step = count_flops(lambda: model.train_step(data, optim_wrapper)) - d_step
    return dict(config=cfg.filename, batch_size=batch_size, parameters=networks,
                parameters_total=sum(networks.values()),
                clip=dict(frames=gen.num_frames, size=gen.out_size),
                gflops=dict(generator_forward=round(forward / 1e9, 3),
                            discriminator_step=round(d_step / 1e9, 3),
                            generator_step=round(g_step / 1e9, 3),
                            cycle=round((steps * d_step + g_step) / 1e9, 3)))


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    costs = level_costs(cfg, args.batch_size)
    for name, count in costs['parameters'].items():
        print(f'{name:32s} {count / 1e6:10.3f} M parameters')
    print(f'{"total":32s} {costs["parameters_total"] / 1e6:10.3f} M parameters')
    for name, value in costs['gflops'].items():
        print(f'{name:32s} {value:10.3f} GFLOPs (batch {args.batch_size})')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(costs, f, indent=2)


if __name__ == '__main__':
    main()
