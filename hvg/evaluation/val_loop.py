"""A validation loop for a GAN level: real clips in, generated clips out, metrics.

mmengine's ``ValLoop`` feeds the model the validation data and scores its
predictions; a generator has no predictions of the data. This loop instead
gives the evaluator the real clips of ``val_dataloader`` (skipped once the
metrics have cached their real statistics) and ``num_samples`` generated
clips, split across ranks, with fixed seeds so that successive validations
compare the same noise.

    val_cfg = dict(type='GenerationValLoop', num_samples=256)
"""
import torch
from mmengine.dist import get_dist_info
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import BaseLoop

from hvg.registry import LOOPS
from .protocol import quantize_videos


def unwrap(model):
    """The model inside a DDP-style wrapper (evaluation imports no model code)."""
    return model.module if is_model_wrapper(model) else model


def generate_level_samples(level, num: int, noise_std: float, seed: int):
    """``(videos (N, C, T, H, W) in [-1, 1], labels (N,) or None)`` of one level.

    Level 1 samples from noise; an upsampling level upsamples the output of
    its frozen previous levels (the paper's inference).
    """
    generator = unwrap(level.generator)
    rng = torch.Generator().manual_seed(seed)
    labels = (torch.randint(generator.num_classes, (num, ), generator=rng)
              if generator.num_classes else None)
    if hasattr(level, 'generate_lowres'):
        lowres = level.generate_lowres(num, labels, noise_std, seed=seed)
        videos = level.sample(lowres, labels=labels, noise_std=noise_std, seed=seed + 1)
    else:
        videos = level.sample(num, labels=labels, noise_std=noise_std, seed=seed)
    return videos, labels


def _real_videos(data_batch: dict) -> torch.Tensor:
    inputs = data_batch['inputs']
    if isinstance(inputs, dict):  # upsampling-level pairs: the high-res clip
        inputs = inputs['highres']
    if isinstance(inputs, (list, tuple)):
        inputs = torch.stack(list(inputs))
    return inputs


@LOOPS.register_module()
class GenerationValLoop(BaseLoop):
    """Validate a level by the metrics of its samples against real clips.

    Args:
        runner, dataloader, evaluator: as mmengine's ``ValLoop``.
        num_samples: generated clips per validation (all ranks together).
        batch_size: clips generated per forward.
        noise_std: sampling noise scale (1.0 for metrics).
        seed: base seed of the generated clips.
    """

    def __init__(self, runner, dataloader, evaluator, num_samples: int = 256,
                 batch_size: int = 8, noise_std: float = 1.0, seed: int = 0):
        super().__init__(runner, dataloader)
        self.evaluator = runner.build_evaluator(evaluator) if isinstance(
            evaluator, (dict, list)) else evaluator
        self.num_samples, self.batch_size = num_samples, batch_size
        self.noise_std, self.seed = noise_std, seed

    def run(self) -> dict:
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        level = unwrap(self.runner.model)
        was_training = level.training
        level.eval()
        if any(getattr(m, 'needs_real_data', True) for m in self.evaluator.metrics):
            for idx, data_batch in enumerate(self.dataloader):
                self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
                videos = _real_videos(data_batch)
                labels = data_batch.get('data_samples', {}).get('label')
                samples = [dict(real=v, label=-1 if labels is None else int(labels[i]))
                           for i, v in enumerate(videos)]
                self.evaluator.process(samples, data_batch)
                self.runner.call_hook('after_val_iter', batch_idx=idx,
                                      data_batch=data_batch, outputs=None)
        rank, world = get_dist_info()
        batches = range(rank, -(-self.num_samples // self.batch_size), world)
        with torch.no_grad():
            for b in batches:
                num = min(self.batch_size, self.num_samples - b * self.batch_size)
                videos, labels = generate_level_samples(level, num, self.noise_std,
                                                        self.seed + 1000 * b)
                videos = quantize_videos(videos.cpu())
                self.evaluator.process(
                    [dict(fake=v, label=-1 if labels is None else int(labels[i]))
                     for i, v in enumerate(videos)], None)
        metrics = self.evaluator.evaluate(self.num_samples)
        level.train(was_training)
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
