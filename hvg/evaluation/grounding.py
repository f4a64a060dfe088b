"""Grounding of an upsampling level: does ``x_l`` keep the structure of ``x_{l-1}``?

Section 3 and appendix I of the paper: a level-2 sample "keeps the overall
structure of the low resolution generation". We measure it with the paper's
own operators. ``x_l`` is brought back to ``x_{l-1}``'s frame rate and size,
``S(T(x_l))`` (every ``temporal_factor``-th frame from the first, then an
antialiased bilinear downsampling, as ``LowResView`` makes real training
pairs), and compared with ``x_{l-1}`` by

- the Pearson correlation over all pixels of a video (1 for a perfect
  upsampler, about 0 for an output that ignores its input), and
- the PSNR in dB for videos in ``[-1, 1]`` (peak-to-peak 2).

Real pairs from the dataset give the ceiling; mismatched generated pairs
(``x_l`` of one sample against ``x_{l-1}`` of another) give the floor.
"""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from hvg.models.layers.resample import resize_frames


def bring_to_lowres(highres: Tensor, temporal_factor: int, size) -> Tensor:
    """``S(T(x_l))``: ``(B, C, T, H, W) -> (B, C, T // factor, h, w)``."""
    if highres.ndim != 5:
        raise ValueError(f'expected (B, C, T, H, W), got {tuple(highres.shape)}')
    frames = highres[:, :, ::temporal_factor].float()
    return resize_frames(frames, size, mode='bilinear', antialias=True)


def grounding_scores(lowres: Tensor, highres: Tensor,
                     temporal_factor: int) -> Tuple[Tensor, Tensor]:
    """Per-sample (correlation, PSNR) between ``S(T(highres))`` and ``lowres``.

    Args:
        lowres: ``(B, C, t, h, w)`` in ``[-1, 1]``, the level's input.
        highres: ``(B, C, t * temporal_factor, H, W)`` in ``[-1, 1]``, its output.
        temporal_factor: the level's frame-rate factor.

    Returns:
        two ``(B,)`` float64 tensors. A constant video has no correlation: its
        score is 0.
    """
    expected = lowres.shape[2] * temporal_factor
    if highres.shape[:2] != lowres.shape[:2] or highres.shape[2] != expected:
        raise ValueError(
            f'a level with temporal factor {temporal_factor} turns (B, C, t, h, w) '
            f'{tuple(lowres.shape)} into t * {temporal_factor} frames, got '
            f'{tuple(highres.shape)}')
    back = bring_to_lowres(highres, temporal_factor, lowres.shape[-2:]).double()
    low = lowres.double()
    a = back.flatten(1) - back.flatten(1).mean(1, keepdim=True)
    b = low.flatten(1) - low.flatten(1).mean(1, keepdim=True)
    denom = a.norm(dim=1) * b.norm(dim=1)
    corr = torch.where(denom > 0, (a * b).sum(1) / denom.clamp_min(1e-12),
                       torch.zeros_like(denom))
    mse = ((back - low)**2).flatten(1).mean(1)
    psnr = 10 * torch.log10(4.0 / mse.clamp_min(1e-12))
    return corr, psnr


def mismatched(lowres: Tensor, highres: Tensor) -> Tuple[Tensor, Tensor]:
    """Pairs ``(x_{l-1}[i], x_l[i + 1 mod B])``: the floor of the grounding scores."""
    if lowres.shape[0] < 2:
        raise ValueError('mismatched pairs need at least 2 samples')
    return lowres, torch.roll(highres, 1, dims=0)


def summarise(values: Tensor, name: str) -> Dict[str, float]:
    """Mean and 10th percentile of per-sample scores, as ``{name_mean, name_p10}``."""
    values = values.double().flatten()
    return {f'{name}_mean': float(values.mean()),
            f'{name}_p10': float(torch.quantile(values, 0.1))}


def to_signed_unit(video: Tensor) -> Tensor:
    """uint8 (as decoded or quantised) or float ``[-1, 1]`` -> float ``[-1, 1]``."""
    if video.dtype == torch.uint8:
        return video.float() / 127.5 - 1.0
    return video.float()


SCORES = ('corr', 'psnr')
PAIR_SETS = ('generated', 'real', 'mismatched')


class GroundingAccumulator:
    """Per-sample grounding scores of a stream of pairs, without the videos.

    ``update`` scores the matched pairs of a batch and the mismatched pairs
    ``(x_{l-1}[i], x_l[i - 1])`` across batch boundaries (the first low-res
    clip waits for the last high-res one), so the mismatched set equals
    ``mismatched()`` of the whole stream at once, whatever the batch size.
    Only scalars are kept (two floats per pair and per set).

    Args:
        temporal_factor: the level's frame-rate factor; None infers it from
            the shapes of the first batch (``T_high / T_low``).
        mismatched: also score mismatched pairs (generated sets; not real ones).
    """

    def __init__(self, temporal_factor: Optional[int] = None, mismatched: bool = True):
        self.temporal_factor = temporal_factor
        self.with_mismatched = mismatched
        self.scores: Dict[str, List[Tensor]] = {name: [] for name in SCORES}
        self.mismatched_scores: Dict[str, List[Tensor]] = {name: [] for name in SCORES}
        self._first_lowres: Optional[Tensor] = None
        self._last_highres: Optional[Tensor] = None

    @property
    def count(self) -> int:
        return sum(len(c) for c in self.scores['corr'])

    def _factor(self, lowres: Tensor, highres: Tensor) -> int:
        if self.temporal_factor is None:
            if lowres.ndim != 5 or highres.ndim != 5 or highres.shape[2] % lowres.shape[2]:
                raise ValueError('cannot infer the temporal factor of (B, C, t, h, w) '
                                 f'{tuple(lowres.shape)} -> {tuple(highres.shape)}')
            self.temporal_factor = highres.shape[2] // lowres.shape[2]
        return self.temporal_factor

    def _add(self, target: Dict[str, List[Tensor]], lowres: Tensor, highres: Tensor) -> None:
        corr, psnr = grounding_scores(lowres, highres, self._factor(lowres, highres))
        target['corr'].append(corr)
        target['psnr'].append(psnr)

    def update(self, lowres: Tensor, highres: Tensor) -> None:
        """Add pairs: ``lowres (B, C, t, h, w)``, ``highres (B, C, t * f, H, W)``,
        uint8 or float in ``[-1, 1]``."""
        lowres, highres = to_signed_unit(lowres.detach().cpu()), to_signed_unit(
            highres.detach().cpu())
        self._add(self.scores, lowres, highres)
        if not self.with_mismatched or lowres.shape[0] == 0:
            return
        if self._last_highres is None:
            self._first_lowres = lowres[:1]
        else:
            self._add(self.mismatched_scores, lowres[:1], self._last_highres)
        if lowres.shape[0] > 1:
            self._add(self.mismatched_scores, lowres[1:], highres[:-1])
        self._last_highres = highres[-1:]

    def values(self, mismatched: bool = False) -> Dict[str, Tensor]:
        """``{'corr': (N,), 'psnr': (N,)}`` of the matched (or mismatched) pairs."""
        if mismatched:
            if self.count < 2:
                raise ValueError('mismatched pairs need at least 2 samples')
            source = dict(self.mismatched_scores)
            if self._first_lowres is not None:  # close the cycle
                corr, psnr = grounding_scores(self._first_lowres, self._last_highres,
                                              self.temporal_factor)
                source = {'corr': source['corr'] + [corr], 'psnr': source['psnr'] + [psnr]}
        else:
            source = self.scores
        if not source['corr']:
            raise ValueError('no pairs were added')
        return {name: torch.cat(source[name]) for name in SCORES}

    def all_gather(self) -> 'GroundingAccumulator':
        """Every rank's per-sample scores (mismatched pairs stay within a rank)."""
        from mmengine.dist import all_gather_object, get_world_size
        if get_world_size() == 1:
            return self
        if self.with_mismatched and self._first_lowres is not None:
            self.mismatched_scores = {k: [v] for k, v in self.values(True).items()}
            self._first_lowres = None
        for store in (self.scores, self.mismatched_scores):
            for name in SCORES:
                gathered = all_gather_object([t.tolist() for t in store[name]])
                store[name][:] = [torch.tensor(v, dtype=torch.float64)
                                  for rank in gathered for v in rank]
        return self


def grounding_summary(generated: GroundingAccumulator,
                      real: Optional[GroundingAccumulator] = None,
                      prefix: str = 'grounding') -> Dict[str, float]:
    """The keys of a level's grounding report.

    ``{prefix}_corr_mean/_p10``, ``{prefix}_psnr_mean/_p10`` (generated
    pairs), ``{prefix}_mismatched_*`` (the floor) and, with ``real``,
    ``{prefix}_real_*`` (the ceiling), plus the pair counts.
    """
    out: Dict[str, float] = {}
    sets = [('', generated.values()), ('mismatched_', generated.values(mismatched=True))]
    if real is not None:
        sets.insert(1, ('real_', real.values()))
    for tag, values in sets:
        for name in SCORES:
            out.update(summarise(values[name], f'{prefix}_{tag}{name}'))
    out[f'{prefix}_num_pairs'] = generated.count
    if real is not None:
        out[f'{prefix}_num_real_pairs'] = real.count
    return out
