"""A validation loop for a GAN level: real clips in, generated clips out, metrics.

mmengine's ``ValLoop`` feeds the model the validation data and scores its
predictions; a generator has no predictions of the data. This loop instead
gives the evaluator the real clips of ``val_dataloader`` (skipped once the
metrics have cached their real statistics) and ``num_samples`` generated
clips, split across ranks, with fixed seeds so that successive validations
compare the same noise. For an upsampling level both carry their low-res
view: real samples ``dict(real=x_l, real_lowres=x_{l-1}, label)`` from
``inputs['highres']`` / ``inputs['lowres']``, generated ones ``dict(fake=x_l,
fake_lowres=x_{l-1}, label)`` with the input they were upsampled from
(``GroundingMetric`` reads the pairs; other metrics ignore the extra keys).

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


def generate_level_samples(level, num: int, noise_std: float, seed: int,
                           with_lowres: bool = False):
    """``(videos (N, C, T, H, W) in [-1, 1], labels (N,) or None)`` of one level.

    Level 1 samples from noise; an upsampling level upsamples the output of
    its frozen previous levels (the paper's inference). ``with_lowres=True``
    adds a third item, the low-res input ``x_{l-1}`` each video was made from
    (None for level 1): what grounding compares the output with.
    """
    generator = unwrap(level.generator)
    rng = torch.Generator().manual_seed(seed)
    labels = (torch.randint(generator.num_classes, (num, ), generator=rng)
              if generator.num_classes else None)
    lowres = None
    if hasattr(level, 'sample_with_inputs'):  # the level chain over its frozen levels
        videos, lowres = level.sample_with_inputs(num, labels, noise_std, seed)
    else:
        videos = level.sample(num, labels=labels, noise_std=noise_std, seed=seed)
    return (videos, labels, lowres) if with_lowres else (videos, labels)


def _real_videos(data_batch: dict):
    """``(x_l (B, C, T, H, W), x_{l-1} or None)`` of a batch of real clips."""
    inputs, lowres = data_batch['inputs'], None
    if isinstance(inputs, dict):  # upsampling-level pairs
        inputs, lowres = inputs['highres'], inputs.get('lowres')
    if isinstance(inputs, (list, tuple)):
        inputs = torch.stack(list(inputs))
    if isinstance(lowres, (list, tuple)):
        lowres = torch.stack(list(lowres))
    return inputs, lowres


def _samples(role: str, videos, lowres, labels) -> list:
    """Data samples ``{role, role_lowres (upsampling levels), label}``."""
    samples = []
    for i, video in enumerate(videos):
        sample = {role: video, 'label': -1 if labels is None else int(labels[i])}
        if lowres is not None:
            sample[f'{role}_lowres'] = lowres[i]
        samples.append(sample)
    return samples


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
                videos, lowres = _real_videos(data_batch)
                labels = data_batch.get('data_samples', {}).get('label')
                self.evaluator.process(_samples('real', videos, lowres, labels),
                                       data_batch)
                self.runner.call_hook('after_val_iter', batch_idx=idx,
                                      data_batch=data_batch, outputs=None)
        rank, world = get_dist_info()
        batches = range(rank, -(-self.num_samples // self.batch_size), world)
        with torch.no_grad():
            for b in batches:
                num = min(self.batch_size, self.num_samples - b * self.batch_size)
                videos, labels, lowres = generate_level_samples(
                    level, num, self.noise_std, self.seed + 1000 * b, with_lowres=True)
                # quantised as real clips are decoded, the input as the output
                videos = quantize_videos(videos.cpu())
                lowres = None if lowres is None else quantize_videos(lowres.cpu())
                self.evaluator.process(_samples('fake', videos, lowres, labels), None)
        metrics = self.evaluator.evaluate(self.num_samples)
        level.train(was_training)
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
