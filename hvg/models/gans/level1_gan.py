"""Level 1 of the hierarchy: an unconditional-in-video GAN, p(x_1) (eq. 2)."""
from typing import Optional

import torch
from torch import Tensor

from hvg.registry import MODELS
from ..batch_random import Seed, batch_randn, draw_noise_and_labels
from .base_level_gan import BaseLevelGAN, unwrap
from .step import LevelBatch, Sample


@MODELS.register_module()
class Level1GAN(BaseLevelGAN):
    """Generates full-length, low-resolution, temporally subsampled videos.

    Real samples are the clips of the batch; fake samples use the batch's
    class labels (so fakes follow the data's class distribution) and fresh
    N(0, 1) noise. See ``BaseLevelGAN`` for the update loop.
    """

    def unpack(self, data: dict) -> LevelBatch:
        return LevelBatch(real=data['inputs'], labels=self.batch_labels(data))

    def generate_fake(self, batch: LevelBatch) -> Sample:
        noise = batch_randn(batch.size, unwrap(self.generator).noise_dim,
                            device=batch.real.device)
        return Sample(video=self.generator(noise, batch.labels))

    @torch.no_grad()
    def sample(self, num_samples: int, labels: Optional[Tensor] = None,
               noise_std: float = 1.0, seed: Seed = None,
               num_frames: Optional[int] = None) -> Tensor:
        """Draw videos ``(N, C, T, H, W)`` in [-1, 1].

        ``labels`` default to random classes for a conditional model. A ``seed``
        makes the noise (and random labels) reproducible without touching the
        global RNG; a list of ``num_samples`` seeds gives each video its own
        (``draw_noise_and_labels``: the same video whatever the batch).
        ``noise_std`` < 1 trades diversity for quality (appendix H).
        ``num_frames``: T, by default the training length; another needs its
        BatchNorm statistics in use (``LengthStatistics.at_length``).
        """
        generator = unwrap(self.generator)
        device = next(generator.parameters()).device
        noise, drawn = draw_noise_and_labels(num_samples, generator.noise_dim,
                                             generator.num_classes, seed,
                                             self.conditional and labels is None)
        labels = drawn if labels is None else labels
        labels = labels.to(device) if labels is not None else None
        return generator((noise * noise_std).to(device), labels, num_frames=num_frames)

    def preview(self, num_samples: int, labels: Optional[Tensor] = None,
                noise_std: float = 1.0, seed: Optional[int] = None) -> Tensor:
        """What the samples hook shows: plain samples."""
        return self.sample(num_samples, labels=labels, noise_std=noise_std, seed=seed)
