"""Score every checkpoint of one level's run on its own, without the other level.

    python tools/analysis/level_checkpoints.py work_dirs/exp/l1_run \
        --i3d work_dirs/i3d/i3d_k400.pth            # level 1: class consistency
    python tools/analysis/level_checkpoints.py work_dirs/exp/l2_run   # level 2: grounding

Made for screening training options quickly (docs/quality.md, "Levers"): a
level is rebuilt from the config its run dumped in the work dir (so runs with
``--cfg-options`` load; this tool's own ``--cfg-options`` override that config
again, e.g. the dataset to score on), and scored on its own:

- a level-1 run: class consistency of ``--num-samples`` samples (equal per
  class) by the nearest-class-mean classifier on I3D features fitted on real
  clips of the level's dataset (every 4th held out: the ceiling);
- an upsampling-level run: grounding on *real* low-res windows of its dataset
  (the training distribution, independent of any level 1), at the training
  window length.

The protocol of the hierarchy as a whole is ``tools/test.py`` (the demo and
docs/metrics.md); these numbers isolate one level.
"""
import argparse
import glob
import json
import os.path as osp
import re

import torch
from mmengine.config import Config

import hvg  # noqa: F401
from hvg.evaluation import I3DExtractor
from hvg.evaluation.class_consistency import class_consistency
from hvg.evaluation.grounding import GroundingAccumulator, grounding_summary
from hvg.apis.real_clips import eval_dataset_cfg, real_batches, training_pairs_cfg
from hvg.models import load_level
from hvg.utils.cli import (DictAction, non_negative_int, positive_int, tool_parser,
                           writable_file)
from hvg.utils.config_checks import level_num_classes



def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Score every checkpoint of one level run')
    parser.add_argument('work_dir', help='a training work dir (iter_*.pth and its config)')
    parser.add_argument('--i3d', help='Kinetics-400 I3D weights (level 1 runs)')
    parser.add_argument('--i3d-size', type=positive_int, default=112)
    parser.add_argument('--num-samples', type=positive_int, default=48)
    parser.add_argument('--num-real', type=positive_int, default=48)
    parser.add_argument('--seed', type=non_negative_int, default=0)
    parser.add_argument('--out', type=writable_file,
                        help='JSON lines file (default: WORK_DIR/checkpoint_scores.jsonl)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help="override the run's dumped config, as tools/train.py "
                        "--cfg-options (say train_dataloader.dataset.data_root=DIR to "
                        "score on other clips); the levels are built from their "
                        "checkpoints with the same overrides, so change data and "
                        "sampling keys here, not widths")
    args = parser.parse_args(argv)
    configs = [p for p in glob.glob(osp.join(args.work_dir, '*.py'))]
    if len(configs) != 1:
        parser.error(f'{args.work_dir} must hold exactly one dumped config, found {configs}')
    args.config = configs[0]
    args.checkpoints = sorted(glob.glob(osp.join(args.work_dir, 'iter_*.pth')),
                              key=lambda p: int(re.search(r'iter_(\d+)', p).group(1)))
    if not args.checkpoints:
        parser.error(f'no iter_*.pth in {args.work_dir}')
    args.out = args.out or osp.join(args.work_dir, 'checkpoint_scores.jsonl')
    return args


def level1_scores(args, level_cfg: Config):
    if not args.i3d or not osp.isfile(args.i3d):
        raise SystemExit('error: a level-1 run is scored by class consistency: pass --i3d '
                         '(python tools/misc/prepare_i3d.py --out work_dirs/i3d/i3d_k400.pth)')
    gen = level_cfg.model.generator
    extractor = I3DExtractor(args.i3d, size=args.i3d_size, batch_size=16)
    dataset = eval_dataset_cfg(level_cfg, gen.num_frames, gen.out_size)
    real, labels = [], []
    for batch in real_batches(dataset, args.num_real, args.seed, 16):
        real.append(batch['video'])
        labels += batch['label'].tolist()
    real = torch.cat(real)
    classes = level_num_classes(level_cfg.model)
    fake_labels = torch.arange(classes).repeat_interleave(-(-args.num_samples // classes))
    fake_labels = fake_labels[:args.num_samples]
    for path in args.checkpoints:
        level = load_level(path, args.config, args.cfg_options)
        videos = level.sample(len(fake_labels), labels=fake_labels, seed=args.seed)
        yield path, class_consistency(extractor, real, labels, videos, fake_labels)


def upsampling_scores(args, level_cfg: Config):
    pairs = list(real_batches(training_pairs_cfg(level_cfg), args.num_real, args.seed, 16))
    real = GroundingAccumulator(mismatched=False)
    for batch in pairs:
        real.update(batch['video']['lowres'], batch['video']['highres'])
    for path in args.checkpoints:
        level = load_level(path, args.config, args.cfg_options)
        scores = GroundingAccumulator()
        for batch in pairs:
            lowres = batch['video']['lowres'].float() / 127.5 - 1
            labels = batch['label'] if level_num_classes(level_cfg.model) else None
            scores.update(lowres, level.sample(lowres, labels=labels, seed=args.seed))
        yield path, grounding_summary(scores, real)


def main(argv=None) -> None:
    args = parse_args(argv)
    level_cfg = Config.fromfile(args.config)
    if args.cfg_options:
        level_cfg.merge_from_dict(args.cfg_options)
    upsampling = level_cfg.model.type == 'UpsamplingLevelGAN'
    scores = upsampling_scores if upsampling else level1_scores
    with open(args.out, 'w') as f:
        for path, values in scores(args, level_cfg):
            iteration = int(re.search(r'iter_(\d+)', path).group(1))
            record = dict(iter=iteration, checkpoint=path, **values)
            f.write(json.dumps(record) + '\n')
            key = 'grounding_corr_mean' if upsampling else 'class_consistency'
            print(f'iter {iteration}: {key} {values[key]:.3f}', flush=True)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
