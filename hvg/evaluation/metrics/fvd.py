"""Frechet Video Distance: I3D-K400 logits of generated against real clips."""
from typing import Dict, Optional

from torch import Tensor

from hvg.models.layers.resample import repeat_frames, resize_frames
from hvg.registry import METRICS
from ..feature_stats import FeatureStats
from ..frechet import frechet_distance
from ..grounding import to_signed_unit
from .base import I3DMetric, VideoBatch


def upsample_input(lowres: Tensor, like: Tensor) -> Tensor:
    """The trivial upsampler: ``lowres (B, C, t, h, w)`` to ``like``'s ``(T, H, W)``.

    Frames repeated (nearest in time, the generator's own view of its input)
    and frames resized bilinearly, in float ``[-1, 1]`` (uint8 in, float out).
    """
    T, H, W = like.shape[2:]
    video = repeat_frames(to_signed_unit(lowres), T)
    return resize_frames(video, (H, W), mode='bilinear').clamp(-1, 1)


@METRICS.register_module(name=['FVDMetric', 'fvd'])
class FVDMetric(I3DMetric):
    """FVD (Unterthiner et al.), the reference protocol (docs/metrics.md).

    Scores every level of a hierarchy (``level{l}/fvd`` against real clips at
    that level's length, resolution and frame rate; the final level's is
    ``fvd``).

        val_evaluator = dict(type='FVDMetric', i3d_weights='work_dirs/i3d/i3d_k400.pth')

    With ``upsampled_input=True`` an upsampling level also gets
    ``fvd_upsampled_input``: the FVD of its own inputs ``x_{l-1}`` brought
    to its output's shape by the trivial upsampler (frames repeated, bilinear
    resizing; :func:`upsample_input`), against the same real clips. It says
    what the level adds: a level whose ``fvd`` is above that reference makes
    its input look *less* like the real clips than blowing it up does.

    Args:
        cov_ddof: 1 (unbiased covariance, TF FVD) or 0 (StyleGAN-V).
        upsampled_input: also score each upsampling level's upsampled input
            (one more I3D pass over the generated videos; nothing for level
            1, which has no input).
        **kwargs: ``I3DMetric``'s (the weights, ``i3d_size``, ``batch_size``...).
    """

    levels = 'every'

    def __init__(self, i3d_weights=None, cov_ddof: int = 1, upsampled_input: bool = False,
                 **kwargs):
        self.cov_ddof = cov_ddof
        self.upsampled_input = upsampled_input
        self.input_stats: Optional[FeatureStats] = None
        super().__init__(i3d_weights, **kwargs)

    def new_state(self, role: str) -> FeatureStats:
        if role == 'fake':
            self.input_stats = None  # a new generated set: a new reference too
        return FeatureStats(self.extractor.num_classes)

    def update(self, role: str, batch: VideoBatch) -> None:
        state = self.real if role == 'real' else self.fake
        state.update(self.extractor(batch.videos)['logits'])
        if role == 'fake' and self.upsampled_input and batch.lowres is not None:
            if self.input_stats is None:
                self.input_stats = FeatureStats(self.extractor.num_classes)
            upsampled = upsample_input(batch.lowres, batch.videos)
            self.input_stats.update(self.extractor(upsampled)['logits'])

    def finish_real(self) -> None:
        self.real.all_reduce()

    def result(self) -> Dict[str, float]:
        self.fake.all_reduce()
        real = self.real.mean_cov(self.cov_ddof)
        values = dict(fvd=frechet_distance(*real, *self.fake.mean_cov(self.cov_ddof)))
        if self.input_stats is not None:
            self.input_stats.all_reduce()
            values['fvd_upsampled_input'] = frechet_distance(
                *real, *self.input_stats.mean_cov(self.cov_ddof))
        return values

    def real_arrays(self) -> dict:
        return self.real.to_arrays('fvd')

    def load_real_arrays(self, arrays) -> bool:
        if 'fvd.sum' not in arrays:
            return False
        self.real = FeatureStats.from_arrays(arrays, 'fvd')
        return True
