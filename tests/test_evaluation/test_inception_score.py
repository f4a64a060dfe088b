"""Inception Score in float64 over splits."""
import numpy as np
import pytest

from hvg.evaluation import inception_score


def test_uniform_predictions_score_one():
    mean, std = inception_score(np.zeros((50, 7)), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_confident_balanced_predictions_score_the_class_count():
    # one-hot-like logits, every class equally often in every split
    logits = np.full((400, 8), -1000.0)
    logits[np.arange(400), np.arange(400) % 8] = 1000.0
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(8.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_matches_the_direct_formula_per_split():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(103, 5)) * 3
    mean, std = inception_score(logits, splits=4)
    scores = []
    for k in range(4):  # 103 // 4 = 25 per split, the last 3 samples unused
        p = np.exp(logits[k * 25:(k + 1) * 25])
        p /= p.sum(axis=1, keepdims=True)
        py = p.mean(axis=0)
        scores.append(np.exp((p * (np.log(p) - np.log(py))).sum(axis=1).mean()))
    assert mean == pytest.approx(np.mean(scores), rel=1e-12)
    assert std == pytest.approx(np.std(scores), rel=1e-9)


def test_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match='cannot make 10 splits'):
        inception_score(np.zeros((5, 3)))
