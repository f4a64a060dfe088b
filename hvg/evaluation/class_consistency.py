"""Class consistency of a class-conditional model: is a "bikes" sample a bike video?

The fraction of generated videos that a classifier fitted on *real* clips
assigns to the class they were generated for; the classifier's accuracy on
held-out real clips is the ceiling it can reach.

Protocol (docs/metrics.md):

- **Features**: the 1024-d average-pooled features of the Kinetics-400 I3D
  (``I3DExtractor(...)(videos)['features']``, the reference protocol's
  uint8 -> bilinear resize -> [-1, 1]). Not the logits: they are a 400-way
  projection trained for Kinetics' classes, which our classes (e.g. the
  three sample clips) need not be, and they discard what the projection
  does not need. The frame size is ``i3d_size`` (224 is the protocol; 112
  is 4x cheaper on a CPU and is recorded).
- **Classifier**: nearest class mean, Euclidean, on features standardised
  per dimension by the mean and standard deviation of the fitting clips.
  Euclidean rather than cosine because then the fit is a few running sums
  (count, sum and sum of squares overall, sum per class: the class means of
  standardised features are ``(mean_c - mean) / std``), so it streams and
  merges across ranks; standardising keeps the few high-variance dimensions
  from deciding alone. A dimension that is constant on the fitting clips
  has the same class means for every class and cannot change a decision,
  whatever its scale (its std is taken as 1).
- **Split**: deterministic by clip index: clip ``i`` is held out when
  ``i % heldout_every == heldout_every - 1`` (every 4th by default), the
  others fit the classifier.
- **Per class** (up to ``PER_CLASS_LIMIT`` classes): the consistency of
  each class's samples and the class most of its misses went to, so that
  a low figure says *which* class fails and what it looks like instead (one
  log key per class: above the limit, e.g. Kinetics-600, only the totals).
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

# per-class results (two keys a class) up to this many classes
PER_CLASS_LIMIT = 20


def _array(values, dtype=np.float64) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


def heldout_mask(indices: Sequence[int], heldout_every: int = 4) -> np.ndarray:
    """Boolean ``(N,)``: True for the held-out clips of these global indices."""
    if heldout_every < 2:
        raise ValueError(f'heldout_every must be >= 2, got {heldout_every}')
    return _array(indices, np.int64) % heldout_every == heldout_every - 1


class NearestClassMean:
    """Nearest class mean (Euclidean) on standardised features.

    ``fit`` at once or ``partial_fit`` batch by batch (the same result):
    only running sums are kept, ``O(classes * d)``, and ``all_reduce`` adds
    them over ranks.
    """

    def __init__(self):
        self.count = 0
        self.sum: Optional[np.ndarray] = None
        self.sum_sq: Optional[np.ndarray] = None
        self.class_count: Dict[int, int] = {}
        self.class_sum: Dict[int, np.ndarray] = {}
        self._means = None

    def partial_fit(self, features, labels) -> 'NearestClassMean':
        """Add fitting clips: ``features (N, d)``, ``labels (N,)``."""
        x, y = _array(features), _array(labels, np.int64)
        if x.ndim != 2 or y.shape != (x.shape[0], ):
            raise ValueError(f'features must be (N, d) and labels (N,), got {x.shape} '
                             f'and {y.shape}')
        if (y < 0).any():
            raise ValueError('class consistency needs labelled clips (got label -1)')
        if self.sum is None:
            self.sum, self.sum_sq = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        self.count += x.shape[0]
        self.sum += x.sum(0)
        self.sum_sq += (x**2).sum(0)
        for c in np.unique(y):
            c = int(c)
            self.class_count[c] = self.class_count.get(c, 0) + int((y == c).sum())
            self.class_sum[c] = self.class_sum.get(c, 0) + x[y == c].sum(0)
        self._means = None
        return self

    def fit(self, features, labels) -> 'NearestClassMean':
        """Fit on ``features (N, d)`` of real clips with ``labels (N,)``."""
        self.__init__()
        return self.partial_fit(features, labels)

    def all_reduce(self, classes: Sequence[int]) -> 'NearestClassMean':
        """Sum the sums of every rank; ``classes``: every label any rank may hold."""
        from mmengine.dist import all_reduce, get_world_size
        if get_world_size() == 1:
            return self
        if self.sum is None:
            raise RuntimeError('all_reduce before any fitting clip on this rank')
        packed = [np.array([self.count], np.float64), self.sum, self.sum_sq]
        for c in classes:
            packed += [np.array([self.class_count.get(c, 0)], np.float64),
                       self.class_sum.get(c, np.zeros_like(self.sum))]
        flat = torch.from_numpy(np.concatenate(packed))
        all_reduce(flat, op='sum')
        flat, d = flat.numpy(), self.sum.shape[0]
        self.count, self.sum, self.sum_sq = int(flat[0]), flat[1:1 + d], flat[1 + d:1 + 2 * d]
        offset = 1 + 2 * d
        self.class_count, self.class_sum = {}, {}
        for c in classes:
            n = int(flat[offset])
            if n:
                self.class_count[c], self.class_sum[c] = n, flat[offset + 1:offset + 1 + d]
            offset += 1 + d
        self._means = None
        return self

    @property
    def classes(self) -> List[int]:
        return sorted(self.class_count)

    def _fitted(self):
        if self._means is None:
            if len(self.class_count) < 2:
                raise ValueError(f'a classifier needs clips of at least 2 classes, got '
                                 f'{self.classes}')
            mean = self.sum / self.count
            std = np.sqrt(np.maximum(self.sum_sq / self.count - mean**2, 0))
            std = np.where(std > 1e-12 * max(float(std.max()), 1e-300), std, 1.0)
            means = np.stack([(self.class_sum[c] / self.class_count[c] - mean) / std
                              for c in self.classes])
            self._means = (mean, std, means)
        return self._means

    def distances(self, features) -> np.ndarray:
        """``(N, K)`` squared distances of standardised ``features`` to each class mean.

        Columns follow ``classes``. Besides deciding, they say how far a clip
        is from *every* class: a generated video far from all of them is off
        the real distribution, whichever class it lands nearest to
        (``tools/analysis/class_consistency_probe.py``).
        """
        mean, std, means = self._fitted()
        z = (_array(features) - mean) / std
        dist = (z**2).sum(1, keepdims=True) - 2 * z @ means.T + (means**2).sum(1)
        return np.maximum(dist, 0)

    def predict(self, features) -> np.ndarray:
        """Labels ``(N,)`` of ``features (N, d)``: the class of the nearest mean."""
        return np.asarray(self.classes)[self.distances(features).argmin(1)]

    def accuracy(self, features, labels) -> float:
        """Fraction of ``features`` predicted as their ``labels``."""
        labels = _array(labels, np.int64)
        if labels.size == 0:
            raise ValueError('no clips to score')
        return float((self.predict(features) == labels).mean())


class ClassConsistency:
    """Streaming class consistency: real clips fit and test, generated are scored.

    1. ``add_real(features, labels, indices)`` for every real clip (the
       global index decides fit or held out; held-out features are kept
       until the fit is done, a ``1 / heldout_every`` share of the real set);
    2. ``finish_real()`` fits (summed over ranks) and scores the held-out clips;
    3. ``add_fake(features, labels)`` batch by batch: only counts are kept;
    4. ``result()``: the numbers (counts summed over ranks).
    """

    def __init__(self, heldout_every: int = 4):
        heldout_mask([0], heldout_every)  # checks the argument
        self.heldout_every = heldout_every
        self.classifier = NearestClassMean()
        self._heldout: List[tuple] = []
        self.counts = dict(real_correct=0, real_heldout=0, fake_correct=0, fake=0)
        # (generated for, classified as) -> count, for the per-class results
        self.confusion: Dict[tuple, int] = {}
        self.finished = False

    def add_real(self, features, labels, indices: Sequence[int]) -> None:
        if self.finished:
            raise RuntimeError('real clips added after finish_real()')
        x, y = _array(features), _array(labels, np.int64)
        held = heldout_mask(indices, self.heldout_every)
        if (~held).any():
            self.classifier.partial_fit(x[~held], y[~held])
        if held.any():
            self._heldout.append((x[held].astype(np.float32), y[held]))

    def finish_real(self, classes: Optional[Sequence[int]] = None) -> None:
        """Fit the classifier and score the held-out clips.

        With several ranks the sums are added first (``classes``: every label;
        by default the union of every rank's).
        """
        from mmengine.dist import all_gather_object, get_world_size
        if get_world_size() > 1:
            if classes is None:
                classes = sorted({c for rank in all_gather_object(self.classifier.classes)
                                  for c in rank})
            self.classifier.all_reduce(classes)
        for x, y in self._heldout:
            self.counts['real_correct'] += int((self.classifier.predict(x) == y).sum())
            self.counts['real_heldout'] += len(y)
        self._heldout = []
        self.finished = True

    def add_fake(self, features, labels) -> None:
        if not self.finished:
            self.finish_real()
        y = _array(labels, np.int64)
        predicted = self.classifier.predict(features)
        self.counts['fake_correct'] += int((predicted == y).sum())
        self.counts['fake'] += len(y)
        for pair in zip(y.tolist(), predicted.tolist()):
            self.confusion[pair] = self.confusion.get(pair, 0) + 1

    def reset_fake(self) -> None:
        """Forget the generated videos scored; keep the classifier and its ceiling."""
        self.counts.update(fake=0, fake_correct=0)
        self.confusion.clear()

    def confusion_matrix(self) -> np.ndarray:
        """``(K, K)`` counts over ranks: row = class generated for, column = classified as.

        ``K`` and the order are the classifier's classes (every rank's, after
        ``finish_real``); a label the classifier was not fitted on is refused.
        """
        from mmengine.dist import all_reduce, get_world_size
        classes = self.classifier.classes
        index = {c: i for i, c in enumerate(classes)}
        matrix = np.zeros((len(classes), len(classes)))
        for (label, predicted), n in self.confusion.items():
            if label not in index:
                raise ValueError(f'samples were generated for class {label}, which no '
                                 f'real clip has (classes {classes})')
            matrix[index[label], index[predicted]] += n
        if get_world_size() > 1:
            tensor = torch.from_numpy(matrix)
            all_reduce(tensor, op='sum')
            matrix = tensor.numpy()
        return matrix.astype(np.int64)

    def per_class(self) -> Dict[str, float]:
        """``class_consistency/{c}`` and ``confused_as/{c}`` (-1: no miss) per class.

        For the classes samples were generated for; empty above
        ``PER_CLASS_LIMIT`` classes (every rank decides alike: the classes
        are the classifier's).
        """
        classes = self.classifier.classes
        if len(classes) > PER_CLASS_LIMIT:
            return {}
        matrix = self.confusion_matrix()
        values = {}
        for i, c in enumerate(classes):
            total = int(matrix[i].sum())
            if not total:
                continue
            misses = matrix[i].copy()
            misses[i] = 0
            values[f'class_consistency/{c}'] = matrix[i, i] / total
            values[f'confused_as/{c}'] = classes[int(misses.argmax())] if misses.any() else -1
        return values

    def result(self) -> Dict[str, float]:
        """``class_consistency``, ``real_heldout_accuracy``, the counts, and per class.

        Per class (``per_class``): ``class_consistency/{c}`` and
        ``confused_as/{c}``, the class most of its misses were taken for.
        """
        from mmengine.dist import all_reduce, get_world_size
        counts = dict(self.counts)
        if get_world_size() > 1:
            names = sorted(counts)
            tensor = torch.tensor([counts[n] for n in names], dtype=torch.float64)
            all_reduce(tensor, op='sum')
            counts = {n: int(v) for n, v in zip(names, tensor.tolist())}
        if not counts['fake']:
            raise ValueError('no generated videos were scored')
        return dict(class_consistency=counts['fake_correct'] / counts['fake'],
                    real_heldout_accuracy=(counts['real_correct'] / counts['real_heldout']
                                           if counts['real_heldout'] else float('nan')),
                    num_fake=counts['fake'], num_real_fit=self.classifier.count,
                    num_real_heldout=counts['real_heldout'], **self.per_class())


def _features(extractor, videos: Tensor) -> np.ndarray:
    out = []
    for start in range(0, videos.shape[0], extractor.batch_size):
        out.append(extractor(videos[start:start + extractor.batch_size])['features'].numpy())
    return np.concatenate(out)


def class_consistency(extractor, real_videos: Tensor, real_labels, fake_videos: Tensor,
                      fake_labels, heldout_every: int = 4) -> Dict[str, float]:
    """Class consistency of generated videos, with the real held-out ceiling.

    Args:
        extractor: an ``I3DExtractor`` (its ``size`` is the I3D frame size).
        real_videos: ``(N, 3, T, H, W)`` uint8 or float in [-1, 1], real clips;
            clip ``i`` is held out when ``i % heldout_every == heldout_every - 1``.
        real_labels: ``(N,)`` their classes.
        fake_videos: ``(M, 3, T', H, W)`` generated videos, same format.
        fake_labels: ``(M,)`` the classes they were generated for.

    Returns:
        ``dict(class_consistency, real_heldout_accuracy, num_fake,
        num_real_fit, num_real_heldout)`` and the per-class keys of
        ``ClassConsistency.result``.

    Example:
        >>> extractor = I3DExtractor('work_dirs/i3d/i3d_k400.pth', size=112)
        >>> class_consistency(extractor, real, real_labels, fake, fake_labels)
    """
    real_labels, fake_labels = _array(real_labels, np.int64), _array(fake_labels, np.int64)
    if real_videos.ndim != 5 or fake_videos.ndim != 5:
        raise ValueError('videos must be (N, 3, T, H, W)')
    if len(real_labels) != real_videos.shape[0] or len(fake_labels) != fake_videos.shape[0]:
        raise ValueError('one label per video')
    fit = ~heldout_mask(range(len(real_labels)), heldout_every)
    if len(np.unique(real_labels[fit])) < 2:
        raise ValueError('the fitting clips need at least 2 classes')
    score = ClassConsistency(heldout_every)
    score.add_real(_features(extractor, real_videos), real_labels, range(len(real_labels)))
    score.finish_real()
    score.add_fake(_features(extractor, fake_videos), fake_labels)
    return score.result()
