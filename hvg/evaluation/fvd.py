"""``compute_fvd``: the Frechet Video Distance of two arrays of videos."""
from typing import Union

import numpy as np
import torch

from .extractor import I3DExtractor
from .feature_stats import FeatureStats
from .frechet import frechet_distance
from .protocol import as_uint8_bcthw


def compute_fvd(real: Union[np.ndarray, torch.Tensor], fake: Union[np.ndarray, torch.Tensor],
                i3d_weights: str, device: str = 'cpu', resize: str = 'tf_legacy',
                batch_size: int = 8, cov_ddof: int = 1, i3d_size: int = 224) -> float:
    """FVD between two sets of videos with the reference protocol.

    Args:
        real, fake: uint8 ``(N, T, H, W, 3)`` arrays (or ``(N, 3, T, H, W)``
            uint8 tensors); any size, resized to 224x224. The two sets may
            differ in N, not in T.
        i3d_weights: the Kinetics-400 I3D file written by
            ``tools/misc/prepare_i3d.py``.
        device, batch_size: where and how many videos per I3D forward.
        resize: ``'tf_legacy'`` (TF FVD, default) or ``'half_pixel'``.
        cov_ddof: 1 (TF FVD, default) or 0 (StyleGAN-V).
        i3d_size: 224 is the protocol; smaller only for quick tests.

    Example:
        >>> fvd = compute_fvd(real_uint8, fake_uint8, 'work_dirs/i3d/i3d_k400.pth')
    """
    real, fake = as_uint8_bcthw(real), as_uint8_bcthw(fake)
    if real.shape[2] != fake.shape[2]:
        raise ValueError(f'real videos have {real.shape[2]} frames, generated '
                         f'{fake.shape[2]}: FVD compares clips of one length')
    extractor = I3DExtractor(i3d_weights, device=device, resize=resize,
                             batch_size=batch_size, size=i3d_size)
    stats = []
    for videos in (real, fake):
        stats.append(FeatureStats(extractor.num_classes))
        for start in range(0, videos.shape[0], batch_size):
            stats[-1].update(extractor(videos[start:start + batch_size])['logits'])
    return frechet_distance(*stats[0].mean_cov(cov_ddof), *stats[1].mean_cov(cov_ddof))
