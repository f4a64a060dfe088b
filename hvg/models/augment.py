"""Differentiable augmentation of what the discriminators see (DiffAugment).

Not in the paper. Zhao et al. 2020 ("Differentiable Augmentation for
Data-Efficient GAN Training"): on a small dataset the discriminators memorise
the real clips within a few hundred steps and stop giving the generator a
useful signal. Applying the same random, differentiable transformations to
real and fake inputs of every discriminator (and back-propagating through them
in the generator step) keeps them from memorising, without leaking the
augmentation into the generated distribution. The demo trains on three clips,
where this matters; the paper configs leave it off (``model.augment=None``).

Video and pair conventions:

- one set of parameters per video, shared by all of its frames, so the
  temporal discriminator never sees augmentation flicker;
- for an upsampling level's pair ``(x_l, x_{l-1})`` (the matching
  discriminator's input) the *same* transformation is applied to both
  members, in fractions of the frame: a translation by ``k`` low-res pixels is
  ``k * H / h`` high-res pixels, a cutout covers the same image area. A real
  pair stays a consistent pair, so the matching discriminator still judges
  consistency and not the augmentation.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS
from .batch_random import batch_rand, batch_randint

POLICIES = ('color', 'translation', 'cutout')


def _translate(video: Tensor, shift_y: Tensor, shift_x: Tensor) -> Tensor:
    """Shift each video (B, C, T, H, W) by integer pixels, zero-filled."""
    B, C, T, H, W = video.shape
    pad = int(max(shift_y.abs().max(), shift_x.abs().max(), 0))
    if pad == 0:
        return video
    padded = F.pad(video, [pad, pad, pad, pad])
    rows = (torch.arange(H, device=video.device)[None] + pad - shift_y[:, None])
    cols = (torch.arange(W, device=video.device)[None] + pad - shift_x[:, None])
    rows = rows.view(B, 1, 1, H, 1).expand(B, C, T, H, W + 2 * pad)
    out = padded.gather(3, rows)
    cols = cols.view(B, 1, 1, 1, W).expand(B, C, T, H, W)
    return out.gather(4, cols)


def _cutout_mask(size: Tuple[int, int], centre: Tensor, ratio: float,
                 device) -> Tensor:
    """(B, 1, 1, H, W) mask, 0 inside a square of ``ratio`` of the frame."""
    H, W = size
    ys = (torch.arange(H, device=device) + 0.5) / H
    xs = (torch.arange(W, device=device) + 0.5) / W
    cy, cx = centre[:, 0:1], centre[:, 1:2]
    inside_y = (ys[None] - cy).abs() < ratio / 2
    inside_x = (xs[None] - cx).abs() < ratio / 2
    inside = inside_y[:, :, None] & inside_x[:, None, :]
    return (~inside).to(torch.float32)[:, None, None]


@MODELS.register_module()
class DiffAugment(nn.Module):
    """Random colour, translation and cutout, the same for a pair's two videos.

    Args:
        policy: any of ``('color', 'translation', 'cutout')``, applied in
            that order (DiffAugment's default policy is all three).
        translation_ratio: the largest shift, as a fraction of the frame
            (DiffAugment: 1/8).
        cutout_ratio: the side of the cut-out square, as a fraction of the
            frame (DiffAugment: 1/2).
        prob: probability that a video is augmented at all (1.0 in
            DiffAugment; lower values are ADA-style).

    Shapes: ``forward(video (B, C, T, H, W), lowres (B, C, t, h, w) or None)``
    returns ``(video, lowres)`` of the same shapes, in roughly [-1, 1].
    """

    def __init__(self, policy: Sequence[str] = POLICIES,
                 translation_ratio: float = 0.125, cutout_ratio: float = 0.5,
                 prob: float = 1.0):
        super().__init__()
        unknown = set(policy) - set(POLICIES)
        if unknown:
            raise ValueError(f'unknown DiffAugment policy {sorted(unknown)}; '
                             f'choose from {POLICIES}')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.policy = tuple(policy)
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio
        self.prob = prob

    def forward(self, video: Tensor,
                lowres: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor]]:
        B, device = video.shape[0], video.device
        videos = [video] if lowres is None else [video, lowres]
        on = (batch_rand(B, device=device) < self.prob).float()
        if 'color' in self.policy:
            bright = (batch_rand(B, device=device) - 0.5) * on
            sat = 1 + (batch_rand(B, device=device) * 2 - 1) * on
            contrast = 1 + (batch_rand(B, device=device) - 0.5) * on
            videos = [self._color(v, bright, sat, contrast) for v in videos]
        if 'translation' in self.policy:
            # drawn on the coarsest grid, so every member shifts by whole pixels
            h, w = videos[-1].shape[-2:]
            max_y = int(h * self.translation_ratio + 0.5)
            max_x = int(w * self.translation_ratio + 0.5)
            dy = (batch_randint(2 * max_y + 1, B, device=device) - max_y) * on.long()
            dx = (batch_randint(2 * max_x + 1, B, device=device) - max_x) * on.long()
            videos = [_translate(v, dy * (v.shape[-2] // h), dx * (v.shape[-1] // w))
                      for v in videos]
        if 'cutout' in self.policy:
            centre = batch_rand(B, 2, device=device)
            masks = [_cutout_mask(v.shape[-2:], centre, self.cutout_ratio, device)
                     for v in videos]
            videos = [v * (1 - on.view(B, 1, 1, 1, 1) * (1 - m))
                      for v, m in zip(videos, masks)]
        return videos[0], (videos[1] if lowres is not None else None)

    @staticmethod
    def _color(video: Tensor, bright: Tensor, sat: Tensor, contrast: Tensor) -> Tensor:
        shape = (-1, 1, 1, 1, 1)
        video = video + bright.view(shape)
        mean = video.mean(dim=1, keepdim=True)
        video = (video - mean) * sat.view(shape) + mean
        mean = video.mean(dim=(1, 2, 3, 4), keepdim=True)
        return (video - mean) * contrast.view(shape) + mean

    def extra_repr(self) -> str:
        return (f'policy={self.policy}, translation_ratio={self.translation_ratio}, '
                f'cutout_ratio={self.cutout_ratio}, prob={self.prob}')
