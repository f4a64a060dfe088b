"""Frechet distance: against scipy's sqrtm, a closed form, and edge cases."""
import numpy as np
import pytest

from hvg.evaluation import frechet_distance, trace_sqrt_product
from hvg.evaluation.frechet import frechet_distance_scipy


def random_gaussian(rng, dim, num, scale=1.0, shift=0.0):
    x = rng.normal(size=(num, dim)) @ rng.normal(size=(dim, dim)) * scale + shift
    return x.mean(axis=0), np.cov(x, rowvar=False)


@pytest.mark.parametrize('dim,num', [(16, 200), (64, 500)])
def test_matches_scipy_sqrtm(dim, num):
    rng = np.random.default_rng(dim)
    mu1, s1 = random_gaussian(rng, dim, num)
    mu2, s2 = random_gaussian(rng, dim, num, scale=0.5, shift=0.3)
    ours = frechet_distance(mu1, s1, mu2, s2)
    reference = frechet_distance_scipy(mu1, s1, mu2, s2)
    assert ours == pytest.approx(reference, rel=1e-10)
    assert ours > 1


def test_closed_form_for_commuting_covariances():
    # diagonal covariances commute: tr sqrt(S1 S2) = sum sqrt(a_i b_i), so
    # d^2 = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 32), rng.uniform(0.1, 3, 32)
    mu1, mu2 = rng.normal(size=32), rng.normal(size=32)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected,
                                                                               rel=1e-12)
    # a rotation of both keeps the distance (the closed form is basis-free)
    q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    rotated = frechet_distance(q @ mu1, q @ np.diag(a) @ q.T, q @ mu2, q @ np.diag(b) @ q.T)
    assert rotated == pytest.approx(expected, rel=1e-10)


def test_one_dimensional_gaussians():
    # N(1, 4) vs N(3, 9): (1-3)^2 + (2-3)^2 = 5
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(5.0)


def test_identical_and_rank_deficient_statistics():
    rng = np.random.default_rng(1)
    # fewer samples than dimensions: singular covariances, still real and >= 0
    x = rng.normal(size=(10, 40))
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)
    y = rng.normal(size=(10, 40)) + 1
    value = frechet_distance(mu, sigma, y.mean(0), np.cov(y, rowvar=False))
    assert np.isfinite(value) and value > 40  # the mean term alone is ~40
    # tr sqrt(S S) = tr S; the 31 null directions each carry sqrt(round-off ~1e-15)
    assert trace_sqrt_product(sigma, sigma) == pytest.approx(np.trace(sigma), rel=1e-6)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match='shapes do not match'):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
