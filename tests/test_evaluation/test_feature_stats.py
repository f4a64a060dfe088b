"""Streaming feature statistics: equal to batch statistics, exact merges, npz."""
import numpy as np
import pytest
import torch

from hvg.evaluation import FeatureStats


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    return rng.normal(size=(103, 12)) * rng.uniform(0.5, 5, 12) + rng.normal(size=12) * 10


def test_streaming_equals_batch_statistics(features):
    stats = FeatureStats()
    for start in range(0, len(features), 17):  # uneven batches, float32 and tensors
        chunk = features[start:start + 17]
        stats.update(torch.from_numpy(chunk) if start % 2 else chunk)
    mean, cov = stats.mean_cov()
    np.testing.assert_allclose(mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-10)
    _, biased = stats.mean_cov(ddof=0)  # StyleGAN-V's normalisation
    np.testing.assert_allclose(biased, np.cov(features, rowvar=False, bias=True),
                               rtol=1e-9, atol=1e-10)
    assert stats.count == 103


def test_merge_is_exact(features):
    whole = FeatureStats().update(features)
    parts = [FeatureStats().update(features[i::3]) for i in range(3)]
    merged = FeatureStats()
    for part in parts:
        merged.merge(part)
    assert merged.count == whole.count
    np.testing.assert_allclose(merged.sum, whole.sum, rtol=1e-13)
    np.testing.assert_allclose(merged.outer, whole.outer, rtol=1e-13)
    merged.merge(FeatureStats())  # merging an empty accumulator changes nothing
    assert merged.count == whole.count


def test_arrays_round_trip_and_errors(features):
    stats = FeatureStats().update(features)
    back = FeatureStats.from_arrays(stats.to_arrays('x'), 'x')
    assert back.count == stats.count
    np.testing.assert_array_equal(back.outer, stats.outer)
    with pytest.raises(ValueError, match='size 5'):
        stats.update(np.zeros((2, 5)))
    with pytest.raises(ValueError, match='non-finite'):
        FeatureStats().update(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match='more than 1'):
        FeatureStats().update(features[:1]).mean_cov()
