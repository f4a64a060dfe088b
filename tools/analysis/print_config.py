"""Print a config as the Runner will see it: bases merged, overrides applied.

    python tools/analysis/print_config.py configs/hvg/l2_kinetics_6f.py \
        --cfg-options model.generator.base_channels=24 [--check]

``--check`` also runs the checks ``tools/train.py`` runs before any work (the
data pipeline's clip shape against the generator's, the classes, the hooks'
arguments and the schedule, the low-res source's checkpoints), so a config
edit can be checked without training.
"""
import argparse

import hvg.models  # noqa: F401 (registers the low-res sources)
from hvg.models.lowres_sources import check_lowres_source
from hvg.utils.cli import DictAction, load_config, tool_parser
from hvg.utils.config_checks import check_clip_shape, check_train_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. model.generator.base_channels=8')
    parser.add_argument('--check', action='store_true',
                        help="run tools/train.py's config checks too")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    if args.check:
        try:
            check_clip_shape(cfg, args.config)
            check_train_config(cfg, args.config)
            if 'model' in cfg:
                check_lowres_source(cfg.model)
        except (ValueError, FileNotFoundError) as error:
            raise SystemExit(f'error: {error}')
        print(f'# checks passed: {args.config}')


if __name__ == '__main__':
    main()
