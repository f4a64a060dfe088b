"""Frechet distance between two Gaussians (FID, FVD).

``d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})``.

The hard term is ``tr((S1 S2)^{1/2})``. ``S1 S2`` is not symmetric, but it is
similar to the symmetric positive semi-definite ``A = L^{1/2} U^T S2 U L^{1/2}``
where ``S1 = U L U^T``; so the trace is the sum of the square roots of the
eigenvalues of ``A``: two symmetric eigen-decompositions in float64, no
complex Schur form (``scipy.linalg.sqrtm``), no iterative refinement, and
tiny negative eigenvalues (round-off of rank-deficient covariances, e.g.
fewer videos than dimensions) are clipped to 0 instead of turning complex.
TF-GAN's ``trace_sqrt_product`` uses the same similarity with SVDs.
"""
import numpy as np


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr((sigma1 @ sigma2)^{1/2})`` for symmetric PSD ``(d, d)`` matrices."""
    sigma1 = np.asarray(sigma1, np.float64)
    sigma2 = np.asarray(sigma2, np.float64)
    eigvals, eigvecs = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root = np.sqrt(np.clip(eigvals, 0, None))
    inner = (eigvecs.T @ sigma2 @ eigvecs) * root[:, None] * root[None, :]
    product_eigvals = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(product_eigvals, 0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
    """Frechet distance of ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: ``(d,)`` means.
        sigma1, sigma2: ``(d, d)`` covariances.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or \
            sigma1.shape != mu1.shape * 2:
        raise ValueError(f'shapes do not match: mu {mu1.shape} {mu2.shape}, '
                         f'sigma {sigma1.shape} {sigma2.shape}')
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2 * trace_sqrt_product(sigma1, sigma2))
    return float(max(value, 0.0))  # round-off can dip a hair below 0 for equal inputs


def frechet_distance_scipy(mu1, sigma1, mu2, sigma2) -> float:
    """The common reference (pytorch-fid / StyleGAN-V): ``scipy.linalg.sqrtm``.

    Kept for validation and benchmarks; ``frechet_distance`` is the one used.
    """
    import scipy.linalg
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    covmean = scipy.linalg.sqrtm(np.asarray(sigma1) @ np.asarray(sigma2))
    return float(np.real(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                         - 2 * np.trace(covmean)))
