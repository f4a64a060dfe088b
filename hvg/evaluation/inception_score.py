"""Inception Score of a set of classifier logits (here: I3D-Kinetics-400).

``IS = exp(E_x KL(p(y|x) || p(y)))``, in float64, over ``splits`` contiguous
chunks of the samples in their global order (chunk ``k`` holds samples
``[k N/s, (k+1) N/s)``, the remainder of ``N / s`` goes to no chunk, as in the
reference implementations); reported as the mean and standard deviation of
the chunks' scores. DVD-GAN and the HVG paper report the I3D IS this way.

IS needs per-sample class probabilities, so unlike the Frechet statistics it
keeps ``(N, classes)`` logits (1.6 MB per 1000 videos at 400 classes).
"""
from typing import Tuple

import numpy as np
from scipy.special import log_softmax, logsumexp


def inception_score(logits: np.ndarray, splits: int = 10) -> Tuple[float, float]:
    """``(mean, std)`` of the IS of ``(N, C)`` logits over ``splits`` chunks."""
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 2:
        raise ValueError(f'logits must be (N, C), got shape {logits.shape}')
    num = logits.shape[0]
    if splits < 1 or num < splits:
        raise ValueError(f'{num} samples cannot make {splits} splits')
    log_p = log_softmax(logits, axis=1)
    size = num // splits
    scores = []
    for k in range(splits):
        part = log_p[k * size:(k + 1) * size]
        log_marginal = logsumexp(part, axis=0) - np.log(size)  # log p(y), stable
        kl = (np.exp(part) * (part - log_marginal[None])).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
