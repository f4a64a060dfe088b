"""An upsampling level p(x_l | x_{l-1}), trained on frozen previous levels (eq. 3)."""
from typing import Optional

import torch
from torch import Tensor

from hvg.registry import MODELS
from ..batch_random import Seed, batch_randn, draw_noise_and_labels
from ..generators.streaming import stream_upsample
from ..layers.resample import repeat_frames, resize_frames
from ..level_chain import run_levels, training_windows
from .base_level_gan import BaseLevelGAN, unwrap
from .step import LevelBatch, Sample


@MODELS.register_module()
class UpsamplingLevelGAN(BaseLevelGAN):
    """Upsamples a low-resolution video: more frames, more pixels.

    Real pairs ``(x_l, x_{l-1})`` come from the data (``inputs['highres']``,
    ``inputs['lowres']``: one clip seen through the paper's S and T operators,
    cropped to the same window). Fake pairs are ``(G_l(z, x_{l-1}), x_{l-1})``
    with ``x_{l-1}`` from ``lowres_source`` (``hvg.models.lowres_sources``):
    ``FrozenLevels`` (the paper's eq. 3: the trained previous levels, frozen,
    through the level chain) or ``RealLowres`` (the batch's real low-res
    clip: levels train in parallel, tests need no checkpoint).

    Building the level loads nothing; the source reads its checkpoints the
    first time inputs are needed (``prepare_lowres_source``, at the first
    training step), on the level's device.

    Args:
        generator: config of an upsampling generator
            (``forward(noise, lowres, labels)``).
        discriminator: config of a ``DiscriminatorGroup``, usually with a
            matching discriminator.
        lowres_source: config of the low-res source, e.g.
            ``dict(type='FrozenLevels', levels=[dict(checkpoint=...)])``.
    """

    def __init__(self, generator: dict, discriminator: dict,
                 lowres_source: dict = dict(type='RealLowres'), **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not isinstance(lowres_source, dict) or 'type' not in lowres_source:
            raise ValueError("lowres_source must be a config dict, e.g. "
                             "dict(type='FrozenLevels', levels=[dict(checkpoint=...)]) "
                             f"or dict(type='RealLowres'); got {lowres_source!r}")
        # a plain attribute, not a submodule: frozen levels have their own
        # checkpoints, optimizers never see them, DDP never wraps them
        self.lowres_source = MODELS.build(lowres_source)
        self._last_real_lowres: Optional[Tensor] = None

    def prepare_lowres_source(self) -> None:
        """Load the source's levels onto this level's device (once)."""
        if not self.lowres_source.loaded:
            self.lowres_source.load(next(unwrap(self.generator).parameters()).device)

    @property
    def input_frames(self) -> int:
        """Frames of the low-res input window this level is trained on."""
        gen = unwrap(self.generator)
        return gen.num_frames // gen.temporal_factor

    # --- what BaseLevelGAN needs -----------------------------------------------------
    def unpack(self, data: dict) -> LevelBatch:
        inputs = data['inputs']
        if not isinstance(inputs, dict) or not {'highres', 'lowres'} <= set(inputs):
            raise ValueError("an upsampling level needs inputs={'highres', 'lowres'}: "
                             "pack them with PackVideoInputs(input_keys=dict("
                             "highres='imgs', lowres='lowres_imgs'))")
        self._last_real_lowres = inputs['lowres'].detach()
        return LevelBatch(real=inputs['highres'], lowres=inputs['lowres'],
                          labels=self.batch_labels(data))

    def generate_fake(self, batch: LevelBatch) -> Sample:
        self.prepare_lowres_source()
        lowres = self.lowres_source(batch.size, batch.labels, self.input_frames,
                                    real_lowres=batch.lowres).to(batch.lowres.device)
        noise = batch_randn(batch.size, unwrap(self.generator).noise_dim,
                            device=lowres.device)
        return Sample(video=self.generator(noise, lowres, batch.labels), lowres=lowres)

    # --- inference -----------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, lowres: Tensor, labels: Optional[Tensor] = None,
               noise_std: float = 1.0, seed: Seed = None,
               chunk_frames: Optional[int] = None) -> Tensor:
        """Upsample ``lowres`` (N, C, T_in, h, w) -> (N, C, T_in * factor, H, W).

        Call in eval mode for reproducible samples (train mode updates BatchNorm
        statistics). ``seed`` fixes the noise without touching the global RNG;
        a list of N seeds gives each video its own (``draw_noise_and_labels``).
        ``T_in * factor`` must be the length of the BatchNorm statistics in use:
        the training length, or another inside ``LengthStatistics.at_length``.
        ``chunk_frames``: None runs the generator over the whole
        video at once; an int (a multiple of the temporal factor) makes it
        ``chunk_frames`` output frames at a time (``stream_upsample``, eval mode
        only): the same video to float rounding, in memory that does not grow
        with the length.
        """
        gen = unwrap(self.generator)
        device = next(gen.parameters()).device
        num = lowres.shape[0]
        noise, drawn = draw_noise_and_labels(num, gen.noise_dim, gen.num_classes, seed,
                                             self.conditional and labels is None)
        noise = noise * noise_std
        labels = drawn if labels is None else labels
        labels = labels.to(device) if labels is not None else None
        noise, lowres = noise.to(device), lowres.to(device)
        if chunk_frames is None:
            return gen(noise, lowres, labels)
        return stream_upsample(gen, noise, lowres, labels, chunk_frames)

    @torch.no_grad()
    def sample_with_inputs(self, num: int, labels: Optional[Tensor] = None,
                           noise_std: float = 1.0, seed: Optional[int] = None):
        """``(x_l, x_{l-1})``: this level's output on the previous levels' output.

        The level chain (``run_levels``) over the frozen previous levels and
        this level, each given a window of its training length: what
        validation scores and the samples hook shows.
        """
        self.prepare_lowres_source()
        if not self.lowres_source.levels:
            raise RuntimeError(
                f'{type(self.lowres_source).__name__} has no previous levels to '
                'sample inputs from: validation and previews of an upsampling level '
                "need lowres_source=dict(type='FrozenLevels', ...)")
        levels = [*self.lowres_source.levels, self]
        outputs, inputs = run_levels(levels, num, labels, noise_std, seed,
                                     windows=training_windows(levels))
        return outputs[-1], inputs[-1]

    @torch.no_grad()
    def preview(self, num_samples: int, labels: Optional[Tensor] = None,
                noise_std: float = 1.0, seed: Optional[int] = None) -> Tensor:
        """Input (upscaled, nearest) beside output, for the samples hook."""
        self.prepare_lowres_source()
        if self.lowres_source.levels:
            output, lowres = self.sample_with_inputs(num_samples, labels, noise_std, seed)
        elif self._last_real_lowres is not None:
            lowres = self._last_real_lowres[:num_samples]
            labels = None if labels is None else labels[:lowres.shape[0]]
            output = self.sample(lowres, labels=labels, noise_std=noise_std, seed=seed)
        else:
            raise RuntimeError('no low-res input to preview yet: train a step first')
        shown_input = repeat_frames(resize_frames(lowres.to(output.device),
                                                  output.shape[-2:], mode='nearest'),
                                    output.shape[2])
        return torch.cat([shown_input, output], dim=-1)
