"""Streaming mean and covariance of feature vectors, in float64.

A Frechet distance needs the mean and covariance of the features, not the
features: keeping the count, the sum and the sum of outer products makes the
memory ``O(d^2)`` whatever the number of videos, and two accumulators merge by
adding their sums (batches, ranks, resumed runs), exactly.

Covariance normalisation: the reference FVD (TF-GAN's
``frechet_classifier_distance_from_activations``) uses the unbiased estimate
(divide by ``N - 1``); StyleGAN-V's ``FeatureStats`` divides by ``N``.
``mean_cov(ddof=1)`` is the default; ``ddof=0`` reproduces StyleGAN-V.

The sums are of raw features, so ``cov = (S - N mu mu^T) / (N - ddof)``.
In float64 the cancellation costs ~1e-16 relative to ``|mu|^2``: for I3D
logits (``|mu| ~ 10``) that is far below the float32 noise of the features.
"""
from typing import Dict, Optional, Tuple

import numpy as np
import torch


class FeatureStats:
    """Running ``N``, ``sum x`` and ``sum x x^T`` of ``(N, d)`` features.

    Args:
        dim: feature size; fixed by the first batch when None.
    """

    def __init__(self, dim: Optional[int] = None):
        self.dim = dim
        self.count = 0
        self.sum = None if dim is None else np.zeros(dim, np.float64)
        self.outer = None if dim is None else np.zeros((dim, dim), np.float64)

    def _init(self, dim: int) -> None:
        if self.dim is None:
            self.dim = dim
            self.sum = np.zeros(dim, np.float64)
            self.outer = np.zeros((dim, dim), np.float64)
        elif dim != self.dim:
            raise ValueError(f'features of size {dim} added to statistics of size {self.dim}')

    def update(self, features) -> 'FeatureStats':
        """Add a batch ``(n, d)`` (numpy or tensor, any float type)."""
        if isinstance(features, torch.Tensor):
            features = features.detach().cpu().numpy()
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f'features must be (n, d), got shape {x.shape}')
        self._init(x.shape[1])
        if not np.isfinite(x).all():
            raise ValueError('non-finite features: check the videos and the I3D weights')
        self.count += x.shape[0]
        self.sum += x.sum(axis=0)
        self.outer += x.T @ x
        return self

    def merge(self, other: 'FeatureStats') -> 'FeatureStats':
        """Add another accumulator's sums into this one (exact)."""
        if other.count == 0:
            return self
        self._init(other.dim)
        self.count += other.count
        self.sum += other.sum
        self.outer += other.outer
        return self

    def all_reduce(self) -> 'FeatureStats':
        """Sum the statistics of every rank (no-op without a process group).

        Every rank must have seen at least one batch (so ``dim`` is known).
        """
        from mmengine.dist import all_reduce, get_world_size
        if get_world_size() == 1:
            return self
        if self.dim is None:
            raise RuntimeError('all_reduce before any features on this rank')
        for name in ('sum', 'outer'):
            tensor = torch.from_numpy(getattr(self, name))
            all_reduce(tensor, op='sum')
            setattr(self, name, tensor.numpy())
        count = torch.tensor([self.count], dtype=torch.float64)
        all_reduce(count, op='sum')
        self.count = int(count.item())
        return self

    def mean_cov(self, ddof: int = 1) -> Tuple[np.ndarray, np.ndarray]:
        """``(mu (d,), sigma (d, d))``; ``ddof=1`` unbiased (TF FVD), 0 biased."""
        if self.count <= ddof:
            raise ValueError(f'a covariance needs more than {ddof} features, '
                             f'got {self.count}')
        mean = self.sum / self.count
        cov = (self.outer - self.count * np.outer(mean, mean)) / (self.count - ddof)
        return mean, (cov + cov.T) / 2

    # --- persistence (plain arrays: np.load(allow_pickle=False)) ---------------
    def to_arrays(self, prefix: str) -> Dict[str, np.ndarray]:
        if self.dim is None:
            raise ValueError(f'statistics {prefix!r} are empty')
        return {f'{prefix}.count': np.array(self.count, np.int64),
                f'{prefix}.sum': self.sum, f'{prefix}.outer': self.outer}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> 'FeatureStats':
        stats = cls(int(arrays[f'{prefix}.sum'].shape[0]))
        stats.count = int(arrays[f'{prefix}.count'])
        stats.sum = np.array(arrays[f'{prefix}.sum'], np.float64)
        stats.outer = np.array(arrays[f'{prefix}.outer'], np.float64)
        return stats
