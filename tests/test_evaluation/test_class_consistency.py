"""Class consistency: nearest class mean on I3D features, helper and metric.

A random-weight I3D (no K400 weights in CI) at 64x64 separates squares of
three colours (at 32x32 its pooled features do not, reliably).
"""
import numpy as np
import pytest
import torch

from hvg.evaluation import (ClassConsistencyMetric, I3DExtractor, NearestClassMean,
                            class_consistency)
from hvg.evaluation.class_consistency import ClassConsistency, heldout_mask

COLOURS = torch.tensor([[220, 30, 30], [30, 200, 40], [40, 40, 230]], dtype=torch.float)






def coloured_clips(labels, frames=8, size=32, seed=0):
    """uint8 (N, 3, T, H, W): class c is a square of colour c moving on noise."""
    g = torch.Generator().manual_seed(seed)
    videos = torch.randint(0, 60, (len(labels), 3, frames, size, size), generator=g).float()
    for n, c in enumerate(labels):
        y, x = torch.randint(0, size // 2, (2, ), generator=g).tolist()
        for t in range(frames):
            xx = (x + 2 * t) % (size - 12)
            videos[n, :, t, y:y + 12, xx:xx + 12] = COLOURS[c][:, None, None]
    return videos.to(torch.uint8)


def test_nearest_class_mean_streams_and_standardises():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 5))
    labels = np.repeat(np.arange(3), 20)
    features = centres[labels] + 0.1 * rng.normal(size=(60, 5))
    features[:, 0] *= 1e4  # one huge, uninformative-scale dimension
    features[:, 4] = 7.0  # a constant one
    whole = NearestClassMean().fit(features, labels)
    streamed = NearestClassMean()
    for start in range(0, 60, 7):
        streamed.partial_fit(features[start:start + 7], labels[start:start + 7])
    assert whole.accuracy(features, labels) == 1.0
    distances = whole.distances(features)
    assert distances.shape == (60, 3) and (distances >= 0).all()
    np.testing.assert_array_equal(distances.argmin(1), labels)
    # a clip far from every class is far by this measure, whichever class is nearest
    assert whole.distances(features[:1] + 50.0).min() > 100 * distances.min(1).max()
    np.testing.assert_array_equal(streamed.predict(features), whole.predict(features))
    assert streamed.classes == [0, 1, 2] and streamed.count == 60
    with pytest.raises(ValueError, match='at least 2 classes'):
        NearestClassMean().fit(features[:20], labels[:20]).predict(features)
    with pytest.raises(ValueError, match='label -1'):
        NearestClassMean().fit(features, -np.ones(60))
    assert heldout_mask(range(8)).tolist() == [False, False, False, True] * 2


def test_class_consistency_is_one_for_real_clips_and_chance_for_shuffled_labels(i3d_file):
    extractor = I3DExtractor(i3d_file, size=64, batch_size=6)
    real_labels = [0, 1, 2] * 4
    real = coloured_clips(real_labels, seed=1)
    fake_labels = np.array([0, 1, 2] * 5)
    fake = coloured_clips(fake_labels, seed=2)  # other clips of the same classes
    good = class_consistency(extractor, real, real_labels, fake, fake_labels)
    per_class = {f'{key}/{c}': value for c in range(3)
                 for key, value in (('class_consistency', 1.0), ('confused_as', -1))}
    assert good == dict(class_consistency=1.0, real_heldout_accuracy=1.0, num_fake=15,
                        num_real_fit=9, num_real_heldout=3, **per_class)
    shuffled = np.random.default_rng(0).permutation(fake_labels)
    chance = float((shuffled == fake_labels).mean())
    assert chance < 0.5
    bad = class_consistency(extractor, real, real_labels, fake, shuffled)
    assert bad['class_consistency'] == pytest.approx(chance)
    # float [-1, 1] videos are quantised first: the same numbers
    as_float = class_consistency(extractor, real.float() / 127.5 - 1, real_labels,
                                 fake.float() / 127.5 - 1, shuffled)
    assert as_float == bad
    with pytest.raises(ValueError, match='at least 2 classes'):
        class_consistency(extractor, real, [0] * 12, fake, fake_labels)


def test_per_class_results_say_which_class_fails_and_what_it_is_taken_for(i3d_file):
    extractor = I3DExtractor(i3d_file, size=64, batch_size=6)
    real_labels = [0, 1, 2] * 4
    real = coloured_clips(real_labels, seed=1)
    generated_for = [0, 1, 2] * 5
    looks_like = [0, 1, 1] * 5  # every class-2 sample is a class-1 square
    values = class_consistency(extractor, real, real_labels,
                               coloured_clips(looks_like, seed=2), generated_for)
    assert values['class_consistency'] == pytest.approx(2 / 3)
    assert [values[f'class_consistency/{c}'] for c in range(3)] == [1.0, 1.0, 0.0]
    assert [values[f'confused_as/{c}'] for c in range(3)] == [-1, -1, 1]
    # above the limit only the totals are reported (one log key per class)
    score = ClassConsistency()
    features = np.eye(30)[np.arange(60) % 30] * 10
    score.add_real(features, np.arange(60) % 30, range(60))
    score.add_fake(features[:30], np.arange(30))
    result = score.result()
    assert result['class_consistency'] == 1.0
    assert not [k for k in result if '/' in k]
    assert score.confusion_matrix().trace() == 30
    score.reset_fake()
    assert not score.confusion and score.counts['fake'] == 0


def test_class_consistency_metric_caches_the_classifier(i3d_file):
    metric = ClassConsistencyMetric(i3d_file, i3d_size=64, batch_size=4, device='cpu')
    real_labels = [0, 1, 2] * 4
    metric.process(None, [dict(real=v, label=c) for v, c in
                          zip(coloured_clips(real_labels, seed=1), real_labels)])
    fake_labels = [0, 1, 2, 2, 1, 0]
    fake = coloured_clips(fake_labels, seed=3)
    metric.process(None, [dict(fake=v, label=c) for v, c in zip(fake, fake_labels)])
    values = metric.evaluate()
    assert values['video/class_consistency'] == 1.0
    assert values['video/real_heldout_accuracy'] == 1.0
    assert values['video/num_real_heldout'] == 3 and values['video/num_fake'] == 6
    assert not metric.needs_real_data
    wrong = [(c + 1) % 3 for c in fake_labels]
    metric.process(None, [dict(fake=v, label=c) for v, c in zip(fake, wrong)])
    again = metric.evaluate()
    assert again['video/class_consistency'] == 0.0
    # the per-class results are of this evaluation's samples only
    assert again['video/class_consistency/0'] == 0.0 and again['video/confused_as/0'] == 2
    assert again['video/real_heldout_accuracy'] == 1.0 and again['video/num_real_fit'] == 9
    with pytest.raises(ValueError, match='label -1'):
        metric.process(None, [dict(fake=fake[0], label=-1)])
    with pytest.raises(RuntimeError, match='after finish_real'):
        score = ClassConsistency()
        score.finish_real()
        score.add_real(np.zeros((1, 4)), [0], [0])
