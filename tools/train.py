"""Train one level of an HVG hierarchy (or any ablation) from its config.

    python tools/train.py configs/hvg/l1_kinetics_24f_32.py \
        --cfg-options train_dataloader.dataset.data_root=data/kinetics600
"""
import argparse
import importlib.util
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config

import hvg  # noqa: F401  (every checkpoint load weights-only, see hvg.utils.safe_checkpoint)
from hvg.engine import (CheckpointResumeError, CheckpointSaveError, HVGRunner,
                        NonFiniteError, VideoReadFailureError)
from hvg.engine.optimizers import use_mixed_precision
from hvg.engine.resume_check import ResumeConfigError, check_resume
from hvg.models.lowres_sources import check_lowres_source
from hvg.utils.cli import DictAction, non_negative_int, tool_parser
from hvg.utils.config_checks import check_clip_shape, check_train_config
from hvg.utils.dist import finish_launcher, init_launcher
from hvg.utils.safe_checkpoint import UnsafeCheckpointError


# --vis-backends name: (mmengine backend, the package it needs)
VIS_BACKENDS = dict(tensorboard=('TensorboardVisBackend', 'tensorboard'),
                    wandb=('WandbVisBackend', 'wandb'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Train an HVG level')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs, checkpoints and samples go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: bf16 autocast where the device supports it '
                        '(CUDA compute capability 8.0+, the CPU), else fp16 with dynamic '
                        'loss scaling; docs/mixed_precision.md')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. model.generator.base_channels=8')
    parser.add_argument('--vis-backends', nargs='+', choices=sorted(VIS_BACKENDS),
                        default=[], help='also log scalars and sample grids to these '
                        '(their package must be installed: pip install tensorboard)')
    parser.add_argument('--verbose', action='store_true',
                        help='print the environment, config and hook order on the '
                        'console too (always in the log file of the work dir)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=non_negative_int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    if not osp.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.verbose:
        cfg.console_log = 'verbose'
    for name in args.vis_backends:
        backend, package = VIS_BACKENDS[name]
        if importlib.util.find_spec(package) is None:
            raise SystemExit(f'--vis-backends {name} needs the {package} package: '
                             f'pip install {package}')
        cfg.visualizer.setdefault('vis_backends', []).append(dict(type=backend))
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not torch.cuda.is_available():
        # NCCL needs GPUs; gloo runs the same torch.distributed job on CPUs.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if args.amp:
        # bf16 where the device has it (the CPU too), else fp16 with loss scaling
        use_mixed_precision(cfg.optim_wrapper)
    if args.launcher != 'none' and not torch.cuda.is_available():
        # DDP takes device_ids=None for CPU modules (mmengine passes LOCAL_RANK).
        wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
        cfg.model_wrapper_cfg = dict(wrapper, device_ids=None)
    if args.resume:
        cfg.resume = True
        cfg.load_from = None
        if not osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            print(f'--resume: no checkpoint in {cfg.work_dir} yet; starting from scratch',
                  file=sys.stderr)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    try:
        check_clip_shape(cfg, args.config)
        check_train_config(cfg, args.config)
        check_lowres_source(cfg.model)
        # before the Runner: a resume that cannot continue the run touches no file
        resume_report = check_resume(cfg) if args.resume else None
    except (ValueError, FileNotFoundError, ResumeConfigError) as error:
        raise SystemExit(f'error: {error}')
    if args.launcher != 'none' and not torch.cuda.is_available():
        # mmengine's init_dist needs CUDA: start the gloo group here, the Runner reuses it
        dist_cfg = cfg.env_cfg.get('dist_cfg', {})
        try:
            init_launcher(args.launcher, dist_cfg.get('backend'), dist_cfg.get('timeout'))
        except RuntimeError as error:
            raise SystemExit(f'error: {error}')
    runner = HVGRunner.from_cfg(cfg)
    if resume_report is not None and resume_report.message():
        runner.logger.warning(resume_report.message())
    try:
        runner.train()
    except (NonFiniteError, VideoReadFailureError, CheckpointSaveError,
            CheckpointResumeError, UnsafeCheckpointError) as error:
        raise SystemExit(f'error: {error}')
    # Close the process group before the interpreter exits: left to exit-time
    # teardown, gloo's threads can abort a rank ("terminate called without an
    # active exception", SIGABRT) after every checkpoint is written.
    finish_launcher()


if __name__ == '__main__':
    main()
