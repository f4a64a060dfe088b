"""Frechet Video Distance: I3D-K400 logits of generated against real clips."""
from typing import Dict

from hvg.registry import METRICS
from ..feature_stats import FeatureStats
from ..frechet import frechet_distance
from .base import I3DMetric, VideoBatch


@METRICS.register_module(name=['FVDMetric', 'fvd'])
class FVDMetric(I3DMetric):
    """FVD (Unterthiner et al.), the reference protocol (docs/metrics.md).

    Scores every level of a hierarchy (``level{l}/fvd`` against real clips at
    that level's length, resolution and frame rate; the final level's is
    ``fvd``).

        val_evaluator = dict(type='FVDMetric', i3d_weights='work_dirs/i3d/i3d_k400.pth')

    Args:
        cov_ddof: 1 (unbiased covariance, TF FVD) or 0 (StyleGAN-V).
        **kwargs: ``I3DMetric``'s (the weights, ``i3d_size``, ``batch_size``...).
    """

    levels = 'every'

    def __init__(self, i3d_weights=None, cov_ddof: int = 1, **kwargs):
        self.cov_ddof = cov_ddof
        super().__init__(i3d_weights, **kwargs)

    def new_state(self, role: str) -> FeatureStats:
        return FeatureStats(self.extractor.num_classes)

    def update(self, role: str, batch: VideoBatch) -> None:
        state = self.real if role == 'real' else self.fake
        state.update(self.extractor(batch.videos)['logits'])

    def finish_real(self) -> None:
        self.real.all_reduce()

    def result(self) -> Dict[str, float]:
        self.fake.all_reduce()
        return dict(fvd=frechet_distance(*self.real.mean_cov(self.cov_ddof),
                                         *self.fake.mean_cov(self.cov_ddof)))

    def real_arrays(self) -> dict:
        return self.real.to_arrays('fvd')

    def load_real_arrays(self, arrays) -> bool:
        if 'fvd.sum' not in arrays:
            return False
        self.real = FeatureStats.from_arrays(arrays, 'fvd')
        return True
