"""Frechet Inception Distance on I3D pooled features (K600's: the paper)."""
from typing import Dict, Sequence

import numpy as np

from hvg.registry import METRICS
from ..feature_stats import FeatureStats
from ..frechet import frechet_distance
from ..i3d import FEATURE_DIM
from .base import I3DMetric, VideoBatch


class ClassFeatureStats:
    """Feature statistics of a set and of each of some classes (appendix E)."""

    def __init__(self, classes: Sequence[int] = ()):
        self.all = FeatureStats(FEATURE_DIM)
        self.classes = {int(c): FeatureStats(FEATURE_DIM) for c in classes}

    @property
    def count(self) -> int:
        return self.all.count

    def update(self, features: np.ndarray, labels: Sequence[int]) -> None:
        self.all.update(features)
        labels = np.asarray(labels)
        for c, stats in self.classes.items():
            if (labels == c).any():
                stats.update(features[labels == c])

    def all_reduce(self) -> None:
        for stats in (self.all, *self.classes.values()):
            stats.all_reduce()


@METRICS.register_module(name=['FIDMetric', 'fid'])
class FIDMetric(I3DMetric):
    """FID of the I3D pooled features: K600's with ``fid_weights`` (the paper),
    else K400's (recorded in the extractor's ``describe()``).

    Args:
        cov_ddof: 1 (unbiased covariance) or 0.
        classes: also ``class{c}/fid`` of videos of these labels (appendix E).
        **kwargs: ``I3DMetric``'s.
    """

    network = 'i3d_fid'

    def __init__(self, i3d_weights=None, cov_ddof: int = 1, classes: Sequence[int] = (),
                 **kwargs):
        self.cov_ddof, self.classes = cov_ddof, tuple(int(c) for c in classes or ())
        super().__init__(i3d_weights, **kwargs)

    def new_state(self, role: str) -> ClassFeatureStats:
        return ClassFeatureStats(self.classes)

    def update(self, role: str, batch: VideoBatch) -> None:
        state = self.real if role == 'real' else self.fake
        state.update(self.extractor(batch.videos)['fid'].numpy(), batch.labels)

    def finish_real(self) -> None:
        self.real.all_reduce()

    def result(self) -> Dict[str, float]:
        self.fake.all_reduce()
        ddof = self.cov_ddof
        out = dict(fid=frechet_distance(*self.real.all.mean_cov(ddof),
                                        *self.fake.all.mean_cov(ddof)))
        for c, fake in self.fake.classes.items():
            real = self.real.classes.get(c)
            if real is not None and real.count > ddof and fake.count > ddof:
                out[f'class{c}/fid'] = frechet_distance(*real.mean_cov(ddof),
                                                        *fake.mean_cov(ddof))
        return out

    def real_arrays(self) -> dict:
        arrays = self.real.all.to_arrays('fid')
        for c, stats in self.real.classes.items():
            if stats.count:
                arrays.update(stats.to_arrays(f'class{c}'))
        return arrays

    def load_real_arrays(self, arrays) -> bool:
        if 'fid.sum' not in arrays:
            return False
        self.real.all = FeatureStats.from_arrays(arrays, 'fid')
        for c in self.classes:
            if f'class{c}.sum' in arrays:
                self.real.classes[c] = FeatureStats.from_arrays(arrays, f'class{c}')
        return True
