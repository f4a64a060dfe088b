"""Is a low class consistency the samples' fault or the classifier's?

    python tools/analysis/class_consistency_probe.py configs/hvg/demo_l1_clips.py \
        --i3d work_dirs/i3d/i3d_k400.pth \
        --checkpoint work_dirs/demo/level1/iter_600.pth --noise-stds 1.0 0.5 0.0

Class consistency (docs/metrics.md section 5) fits a nearest-class-mean
classifier on I3D features of real clips and asks it which class each
generated video shows. A low figure has two readings: the samples are not
their class, or the classifier is fragile and misreads videos that differ
from real clips in ways unrelated to their class (a generator's blur, noise
or colour shifts). This tool measures both sides, on a level-1 config's own
dataset:

1. **Real clips, degraded** (``--degradations``): the classifier is fitted
   on the clean fitting clips (every 4th clip held out, as the metric), then
   asked about degraded copies of every clip (blur, noise, contrast,
   brightness, saturation: what a poor generator does to a video whatever
   its class). A robust classifier keeps its accuracy. Two more take the
   motion away (``frozen``: the middle frame throughout) or scramble it
   (``shuffled``): how much the I3D's judgement rests on motion. Three classifiers
   are compared: the metric's (nearest class mean on standardised
   features), the same on raw features, and on cosine similarity.
2. **Generated videos** (``--checkpoint``, optional): class consistency at
   each ``--noise-stds`` (truncation, the paper's appendix H: if the misses
   are samples from the tails of the noise, they vanish at small std), per
   class, and how far the samples lie from the class means, beside the
   held-out real clips' distance to their own class mean: samples far from
   *every* class are off the real distribution, and the class they land
   nearest to says little.

Distances are squared Euclidean distances of the standardised features per
dimension (divided by the 1024 dimensions: about 1 for a clip as far from
its class mean as the clips' spread). Writes ``OUT.json`` and prints tables.
"""
import argparse
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor

import hvg  # noqa: F401
from hvg.apis.real_clips import eval_dataset_cfg, real_batches
from hvg.evaluation import I3DExtractor, NearestClassMean, quantize_videos
from hvg.evaluation.class_consistency import heldout_mask
from hvg.utils.cli import (DictAction, non_negative_float, non_negative_int, positive_int,
                           tool_parser, writable_file)
from hvg.utils.config_checks import level_num_classes

PREPARE_I3D = 'python tools/misc/prepare_i3d.py --out work_dirs/i3d/i3d_k400.pth'


# --- degradations: float (N, 3, T, H, W) in [-1, 1] -> the same ---------------

def gaussian_blur(videos: Tensor, sigma: float) -> Tensor:
    """Each frame blurred by a Gaussian of ``sigma`` pixels (of the clip's size)."""
    radius = max(1, int(round(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=videos.dtype)
    kernel = torch.exp(-x**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    n, c, t, h, w = videos.shape
    frames = videos.permute(0, 2, 1, 3, 4).reshape(n * t * c, 1, h, w)
    frames = F.pad(frames, (radius, ) * 4, mode='replicate')
    frames = F.conv2d(frames, kernel.view(1, 1, 1, -1))
    frames = F.conv2d(frames, kernel.view(1, 1, -1, 1))
    return frames.reshape(n, t, c, h, w).permute(0, 2, 1, 3, 4)


def gaussian_noise(videos: Tensor, std: float, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return videos + std * torch.randn(videos.shape, generator=g, dtype=videos.dtype)


def contrast(videos: Tensor, factor: float) -> Tensor:
    mean = videos.mean(dim=(1, 2, 3, 4), keepdim=True)
    return (videos - mean) * factor + mean


def saturation(videos: Tensor, factor: float) -> Tensor:
    grey = videos.mean(dim=1, keepdim=True)
    return (videos - grey) * factor + grey


def frozen(videos: Tensor) -> Tensor:
    """Every frame replaced by the middle one: the clip's look without its motion."""
    t = videos.shape[2]
    return videos[:, :, t // 2:t // 2 + 1].expand_as(videos)


def shuffled(videos: Tensor, seed: int = 0) -> Tensor:
    """The frames in a random order (one per call): its look with incoherent motion."""
    g = torch.Generator().manual_seed(seed)
    return videos[:, :, torch.randperm(videos.shape[2], generator=g)]


DEGRADATIONS: Dict[str, Callable[[Tensor], Tensor]] = {
    'clean': lambda v: v,
    'blur_sigma1': lambda v: gaussian_blur(v, 1.0),
    'blur_sigma2': lambda v: gaussian_blur(v, 2.0),
    'noise_0.1': lambda v: gaussian_noise(v, 0.1),
    'contrast_0.7': lambda v: contrast(v, 0.7),
    'brightness_-0.2': lambda v: v - 0.2,
    'saturation_0.5': lambda v: saturation(v, 0.5),
    'frozen': frozen,
    'shuffled': shuffled,
}


def degrade(videos_uint8: Tensor, name: str) -> Tensor:
    videos = videos_uint8.float() / 127.5 - 1
    return quantize_videos(DEGRADATIONS[name](videos))


# --- the classifiers compared -------------------------------------------------

class RawNearestClassMean:
    """Nearest class mean on unstandardised features (Euclidean or cosine)."""

    def __init__(self, cosine: bool = False):
        self.cosine = cosine

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        if self.cosine:
            return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return x

    def fit(self, features, labels) -> 'RawNearestClassMean':
        x, y = self._prepare(np.asarray(features, np.float64)), np.asarray(labels)
        self.classes = sorted(set(y.tolist()))
        self.means = self._prepare(np.stack([x[y == c].mean(0) for c in self.classes]))
        return self

    def predict(self, features) -> np.ndarray:
        x = self._prepare(np.asarray(features, np.float64))
        if self.cosine:
            scores = -x @ self.means.T
        else:
            scores = ((x[:, None, :] - self.means[None])**2).sum(-1)
        return np.asarray(self.classes)[scores.argmin(1)]


METRIC = 'ncm_standardised (the metric)'
CLASSIFIERS = {
    METRIC: NearestClassMean,
    'ncm_raw': RawNearestClassMean,
    'ncm_cosine': lambda: RawNearestClassMean(cosine=True),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Robustness of the class-consistency classifier, '
                         'and where generated videos lie from the real classes')
    parser.add_argument('config', help='a class-conditional level-1 config (its dataset '
                        'gives the real clips)')
    parser.add_argument('--i3d', required=True, help='Kinetics-400 I3D weights '
                        f'({PREPARE_I3D})')
    parser.add_argument('--i3d-size', type=positive_int, default=224,
                        help='I3D frame size (224: the protocol)')
    parser.add_argument('--checkpoint', help='a level-1 checkpoint: also probe its samples')
    parser.add_argument('--noise-stds', type=non_negative_float, nargs='+', default=[1.0],
                        help='noise scales to sample at (1.0: the protocol)')
    parser.add_argument('--bn-passes', type=positive_int, default=8,
                        help="BatchNorm-statistics passes before sampling (8: the demo "
                        "hierarchy's)")
    parser.add_argument('--num-real', type=positive_int, default=48)
    parser.add_argument('--num-samples', type=positive_int, default=48,
                        help='generated videos per noise std (random classes, as '
                        'tools/test.py)')
    parser.add_argument('--degradations', nargs='+', choices=sorted(DEGRADATIONS),
                        default=list(DEGRADATIONS))
    parser.add_argument('--batch-size', type=positive_int, default=8)
    parser.add_argument('--seed', type=non_negative_int, default=0)
    parser.add_argument('--out', type=writable_file,
                        default='work_dirs/class_consistency_probe/probe.json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help="override the config's keys (say the dataset's data_root)")
    args = parser.parse_args(argv)
    if not osp.isfile(args.i3d):
        parser.error(f'I3D weights not found: {args.i3d}; prepare them with {PREPARE_I3D}')
    if args.checkpoint and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint}')
    if 'clean' not in args.degradations:
        args.degradations = ['clean'] + args.degradations
    return args


def real_clips(cfg: Config, args) -> tuple:
    gen = cfg.model.generator
    dataset = eval_dataset_cfg(cfg, gen.num_frames, gen.out_size)
    videos, labels = [], []
    for batch in real_batches(dataset, args.num_real, args.seed, args.batch_size):
        videos.append(batch['video'])
        labels += batch['label'].tolist()
    labels = np.asarray(labels)
    if (labels < 0).any():
        raise SystemExit(f'error: {args.config} has unlabelled clips: class consistency '
                         'needs a class-conditional dataset')
    return torch.cat(videos), labels


def features_of(extractor: I3DExtractor, videos: Tensor) -> np.ndarray:
    """The metric's features (the extractor batches by its own ``batch_size``)."""
    return extractor(videos)['features'].numpy()


def probe_real(extractor, videos, labels, args) -> tuple:
    held = heldout_mask(range(len(labels)))
    clean = features_of(extractor, videos)
    fitted = {name: make().fit(clean[~held], labels[~held])
              for name, make in CLASSIFIERS.items()}
    metric = fitted[METRIC]
    rows = []
    for name in args.degradations:
        feats = clean if name == 'clean' else features_of(
            extractor, degrade(videos, name))
        dims = feats.shape[1]
        own = metric.distances(feats)[np.arange(len(labels)),
                                      np.searchsorted(metric.classes, labels)] / dims
        for classifier, model in fitted.items():
            predicted = model.predict(feats)
            rows.append(dict(degradation=name, classifier=classifier,
                             heldout_accuracy=float((predicted[held] == labels[held]).mean()),
                             all_accuracy=float((predicted == labels).mean()),
                             heldout_distance_own_class=float(np.median(own[held]))))
        print(f'[probe] real clips, {name}: done', flush=True)
    return rows, fitted


def probe_generated(extractor, fitted, args, num_classes: int) -> List[dict]:
    """The checkpoint's samples as ``tools/test.py`` draws them, at every noise std.

    Level 1 as a one-level hierarchy (its BatchNorm statistics re-estimated
    with ``--bn-passes`` passes, as the demo's hierarchy does), video ``i``
    of ``--seed`` with its own random class: at noise std 1.0 the metric's
    row is ``tools/test.py --metrics class_consistency`` on the same clips.
    """
    from hvg.apis import Hierarchy
    from hvg.apis.evaluate import generated_labels
    hierarchy = Hierarchy.from_checkpoints([args.checkpoint], bn_passes=args.bn_passes)
    indices = list(range(args.num_samples))
    labels = generated_labels(num_classes, indices, args.seed)
    metric = fitted[METRIC]
    rows = []
    for std in args.noise_stds:
        videos = []
        for i in range(0, len(indices), args.batch_size):
            part = indices[i:i + args.batch_size]
            out = hierarchy.sample(len(part), labels=labels[i:i + len(part)], noise_std=std,
                                   seed=args.seed, indices=part)[0]
            videos.append(quantize_videos(out.cpu()))
        feats = features_of(extractor, torch.cat(videos))
        y = labels.numpy()
        dist = metric.distances(feats) / feats.shape[1]
        column = np.searchsorted(metric.classes, y)
        row = dict(noise_std=std, num_samples=len(y),
                   distance_own_class=float(np.median(dist[np.arange(len(y)), column])),
                   distance_nearest_class=float(np.median(dist.min(1))))
        for classifier, model in fitted.items():
            row[f'class_consistency[{classifier}]'] = float((model.predict(feats) == y).mean())
        predicted = metric.predict(feats)
        for c in metric.classes:
            if (y == c).any():
                row[f'class_consistency/{c}'] = float((predicted[y == c] == c).mean())
                # how far class c's samples are from each class mean
                for k, other in enumerate(metric.classes):
                    row[f'distance/{c}_to_{other}'] = float(np.median(dist[y == c, k]))
        rows.append(row)
        print(f'[probe] generated, noise std {std}: done', flush=True)
    return rows


def print_tables(real_rows: Sequence[dict], generated_rows: Sequence[dict]) -> None:
    print('\nreal clips: accuracy held-out / all (classifier fitted on clean clips); '
          'median distance of held-out clips to their class mean (the metric\'s features)')
    classifiers = list(CLASSIFIERS)
    print('| degradation | ' + ' | '.join(classifiers) + ' | distance |')
    print('|' + ' --- |' * (len(classifiers) + 2))
    for name in dict.fromkeys(r['degradation'] for r in real_rows):
        rows = {r['classifier']: r for r in real_rows if r['degradation'] == name}
        cells = [f"{rows[c]['heldout_accuracy']:.2f} / {rows[c]['all_accuracy']:.2f}"
                 for c in classifiers]
        distance = rows[classifiers[0]]['heldout_distance_own_class']
        print(f'| {name} | ' + ' | '.join(cells) + f' | {distance:.2f} |')
    if not generated_rows:
        return
    print('\ngenerated videos: class consistency by classifier, per class (the metric), '
          'median distance to the generated class\'s mean and to the nearest')
    for row in generated_rows:
        per_class = ', '.join(f"{k.split('/')[1]}: {v:.2f}" for k, v in row.items()
                              if k.startswith('class_consistency/'))
        scores = ', '.join(f"{c}: {row[f'class_consistency[{c}]']:.3f}" for c in classifiers)
        print(f"noise std {row['noise_std']}: {scores}; per class {per_class}; distance "
              f"own {row['distance_own_class']:.2f}, nearest {row['distance_nearest_class']:.2f}")
        distances = ', '.join(f"{k.split('/')[1]}: {v:.2f}" for k, v in row.items()
                              if k.startswith('distance/'))
        print(f'  median distance of class c\'s samples to class k\'s mean (c_to_k): {distances}')


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.registry import init_default_scope
    init_default_scope('hvg')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    num_classes = level_num_classes(cfg.model)
    if not num_classes:
        raise SystemExit(f'error: {args.config} is not class-conditional (no classes to probe)')
    extractor = I3DExtractor(args.i3d, size=args.i3d_size, batch_size=args.batch_size)
    videos, labels = real_clips(cfg, args)
    real_rows, fitted = probe_real(extractor, videos, labels, args)
    generated_rows = (probe_generated(extractor, fitted, args, num_classes)
                      if args.checkpoint else [])
    print_tables(real_rows, generated_rows)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                       i3d_size=args.i3d_size, num_real=len(labels), seed=args.seed,
                       real=real_rows, generated=generated_rows), f, indent=1)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
