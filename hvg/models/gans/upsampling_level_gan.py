"""An upsampling level p(x_l | x_{l-1}), trained on frozen previous levels (eq. 3)."""
import os.path as osp
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from torch import Tensor

from hvg.registry import MODELS
from hvg.utils.safe_checkpoint import load_checkpoint_file
from ..generators.streaming import stream_upsample
from ..layers.resample import repeat_frames, resize_frames
from ..batch_random import batch_randint, batch_randn
from .base_level_gan import BaseLevelGAN, unwrap

LOWRES_SOURCES = ('generated', 'data')


def random_windows(video: Tensor, length: int, generator=None) -> Tensor:
    """A random window of ``length`` consecutive frames per sample (partial view).

    video: (B, C, T, H, W) -> (B, C, length, H, W).
    """
    B, _, T = video.shape[:3]
    if length > T:
        raise ValueError(f'cannot take a {length}-frame window of a {T}-frame video')
    starts = batch_randint(T - length + 1, B, generator=generator)
    return torch.stack([v[:, s:s + length] for v, s in zip(video, starts.tolist())])


def load_frozen_level(config: str, checkpoint: Optional[str]) -> BaseLevelGAN:
    """Build a trained level from its config and checkpoint, frozen, in eval mode."""
    hint = (f'Train it first (python tools/train.py {config}) and name its '
            'checkpoint, e.g. --cfg-options model.prev_levels.0.checkpoint='
            'work_dirs/<name>/iter_<N>.pth, or set model.lowres_source=data to '
            'train on real low-resolution inputs instead.')
    if checkpoint is None:
        raise ValueError(f'no checkpoint is set for the previous level {config}. {hint}')
    if not osp.isfile(config):
        raise FileNotFoundError(f'previous-level config not found: {config}')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'previous-level checkpoint not found: {checkpoint}. {hint}')
    model_cfg = Config.fromfile(config).model
    if model_cfg.get('type') == 'UpsamplingLevelGAN':
        # its own input comes from the levels listed before it, not from its config
        model_cfg.update(lowres_source='data', prev_levels=[])
    level = MODELS.build(model_cfg)
    state = load_checkpoint_file(checkpoint)
    level.load_state_dict(state.get('state_dict', state), strict=True)
    level.requires_grad_(False)
    return level.eval()


@MODELS.register_module()
class UpsamplingLevelGAN(BaseLevelGAN):
    """Upsamples a low-resolution video: more frames, more pixels.

    Real pairs ``(x_l, x_{l-1})`` come from the data (``inputs['highres']``,
    ``inputs['lowres']``: one clip seen through the paper's S and T operators,
    cropped to the same window). Fake pairs are ``(G_l(z, x_{l-1}), x_{l-1})``
    where, with ``lowres_source='generated'`` (the paper's eq. 3), ``x_{l-1}``
    is drawn from the trained previous levels, frozen: each level generates
    its output and a random window of the next level's input length is cut
    from it (partial views). With ``lowres_source='data'`` fakes are
    conditioned on the real low-res clip of the batch, so levels can train in
    parallel and tests need no checkpoint.

    Frozen levels get no gradients, stay in eval mode, are not wrapped for DDP
    (they have no trainable parameters), are in no optimizer, and are kept out
    of this level's checkpoints (they have their own).

    Args:
        generator: config of an upsampling generator
            (``forward(noise, lowres, labels)``).
        discriminator: config of a ``DiscriminatorGroup``, usually with a
            matching discriminator.
        prev_levels: ``[dict(config=..., checkpoint=...)]`` from level 1 up to
            level l-1.
        lowres_source: 'generated' (eq. 3) or 'data'.
    """

    def __init__(self, generator: dict, discriminator: dict,
                 prev_levels: Sequence[dict] = (), lowres_source: str = 'generated',
                 **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if lowres_source not in LOWRES_SOURCES:
            raise ValueError(f'lowres_source must be one of {LOWRES_SOURCES}, '
                             f'got {lowres_source!r}')
        self.lowres_source = lowres_source
        levels: List[nn.Module] = []
        if lowres_source == 'generated':
            if not prev_levels:
                raise ValueError("lowres_source='generated' needs prev_levels "
                                 '(config and checkpoint of every previous level)')
            levels = [load_frozen_level(p['config'], p.get('checkpoint'))
                      for p in prev_levels]
            print_log(f'Loaded {len(levels)} frozen previous level(s) for fake inputs',
                      logger='current')
        self.prev_levels = nn.ModuleList(levels)
        self.register_state_dict_post_hook(self._drop_prev_levels)
        self.register_load_state_dict_pre_hook(self._keep_prev_levels)
        self._last_real_lowres: Optional[Tensor] = None

    # --- frozen previous levels ---------------------------------------------------
    @staticmethod
    def _drop_prev_levels(module, state_dict, prefix, local_metadata) -> None:
        for key in [k for k in state_dict if k.startswith(prefix + 'prev_levels.')]:
            del state_dict[key]

    @staticmethod
    def _keep_prev_levels(module, state_dict, prefix, *args) -> None:
        """Loading this level's checkpoint leaves the frozen levels as they are."""
        for key, value in module.prev_levels.state_dict(prefix=prefix + 'prev_levels.').items():
            state_dict.setdefault(key, value)

    def train(self, mode: bool = True) -> 'UpsamplingLevelGAN':
        super().train(mode)
        self.prev_levels.eval()
        return self

    @property
    def input_frames(self) -> int:
        """Frames of the low-res input window this level is trained on."""
        gen = unwrap(self.generator)
        return gen.num_frames // gen.temporal_factor

    @torch.no_grad()
    def generate_lowres(self, batch_size: int, labels: Optional[Tensor],
                        noise_std: float = 1.0, seed: Optional[int] = None) -> Tensor:
        """x_{l-1} from the frozen previous levels, as a window of ``input_frames``."""
        if not len(self.prev_levels):
            raise RuntimeError('no previous levels are loaded '
                               f"(lowres_source={self.lowres_source!r})")
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        window_lengths = [lvl.input_frames for lvl in self.prev_levels[1:]]
        window_lengths.append(self.input_frames)
        video = None
        for level, length in zip(self.prev_levels, window_lengths):
            level_seed = None if rng is None else int(torch.randint(2**31, (1, ), generator=rng))
            if video is None:
                video = level.sample(batch_size, labels=labels, noise_std=noise_std,
                                     seed=level_seed)
            else:
                video = level.sample(video, labels=labels, noise_std=noise_std,
                                     seed=level_seed)
            video = random_windows(video, length, generator=rng)
        return video

    # --- what BaseLevelGAN needs -----------------------------------------------------
    def unpack(self, data: dict) -> dict:
        inputs = data['inputs']
        if not isinstance(inputs, dict) or not {'highres', 'lowres'} <= set(inputs):
            raise ValueError("an upsampling level needs inputs={'highres', 'lowres'}: "
                             "pack them with PackVideoInputs(input_keys=dict("
                             "highres='imgs', lowres='lowres_imgs'))")
        self._last_real_lowres = inputs['lowres'].detach()
        return dict(highres=inputs['highres'], lowres=inputs['lowres'],
                    labels=self.batch_labels(data),
                    batch_size=inputs['highres'].shape[0])

    def real_sample(self, batch: dict) -> dict:
        return dict(video=batch['highres'], lowres=batch['lowres'])

    def generate_fake(self, batch: dict) -> dict:
        if self.lowres_source == 'data':
            lowres = batch['lowres']
        else:
            lowres = self.generate_lowres(batch['batch_size'], batch['labels']).to(
                batch['lowres'].device)
        noise = batch_randn(batch['batch_size'], unwrap(self.generator).noise_dim,
                            device=lowres.device)
        return dict(video=self.generator(noise, lowres, batch['labels']), lowres=lowres)

    def discriminate(self, sample: dict, batch: dict) -> Tensor:
        video, lowres = self.augmented(sample['video'], sample['lowres'])
        return self.discriminator(video, batch['labels'], lowres=lowres)

    # --- inference -----------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, lowres: Tensor, labels: Optional[Tensor] = None,
               noise_std: float = 1.0, seed: Optional[int] = None,
               chunk_frames: Optional[int] = None) -> Tensor:
        """Upsample ``lowres`` (N, C, T_in, h, w) -> (N, C, T_in * factor, H, W).

        Call in eval mode for reproducible samples (train mode updates BatchNorm
        statistics). ``seed`` fixes the noise without touching the global RNG.
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
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        num = lowres.shape[0]
        noise = batch_randn(num, gen.noise_dim, generator=rng) * noise_std
        if self.conditional and labels is None:
            labels = batch_randint(gen.num_classes, num, generator=rng)
        labels = labels.to(device) if labels is not None else None
        noise, lowres = noise.to(device), lowres.to(device)
        if chunk_frames is None:
            return gen(noise, lowres, labels)
        return stream_upsample(gen, noise, lowres, labels, chunk_frames)

    @torch.no_grad()
    def preview(self, num_samples: int, labels: Optional[Tensor] = None,
                noise_std: float = 1.0, seed: Optional[int] = None) -> Tensor:
        """Input (upscaled, nearest) beside output, for the samples hook."""
        if len(self.prev_levels):
            lowres = self.generate_lowres(num_samples, labels, noise_std, seed)
        elif self._last_real_lowres is not None:
            lowres = self._last_real_lowres[:num_samples]
            labels = None if labels is None else labels[:lowres.shape[0]]
        else:
            raise RuntimeError('no low-res input to preview yet: train a step first')
        output = self.sample(lowres, labels=labels, noise_std=noise_std, seed=seed)
        shown_input = repeat_frames(resize_frames(lowres.to(output.device),
                                                  output.shape[-2:], mode='nearest'),
                                    output.shape[2])
        return torch.cat([shown_input, output], dim=-1)
