"""FVD / IS / FID / PSD, grounding and class consistency as mmengine metrics.

For a ``val_evaluator``.

``process`` receives data samples that are dicts with either ``real`` or
``fake`` (a ``(C, T, H, W)`` video, uint8 or float in [-1, 1]) and optionally
``label``; ``GenerationValLoop`` feeds both. Statistics are streamed (no
features kept) and summed over ranks in ``evaluate``. Real statistics do not
change during training, so they are computed at the first validation and
kept (``cache_real``).

    val_evaluator = dict(type='VideoGenerationMetric', scores=['fvd', 'is'],
                         i3d_weights='work_dirs/i3d/i3d_k400.pth')

(The argument is ``scores``, not ``metrics``: mmengine reads a
``val_evaluator`` dict with a ``metrics`` key as an ``Evaluator`` config.)
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric

from hvg.registry import METRICS
from .class_consistency import ClassConsistency
from .grounding import GroundingAccumulator, grounding_summary
from .video_stats import I3DExtractor, VideoSetStats, compute_video_metrics


class StreamedVideoMetric(BaseMetric):
    """What the metrics below share: real/fake data samples, streamed statistics.

    ``process`` reads each sample's role (``real`` or ``fake``) and, for the
    metrics that run a network, queues videos until a network batch is full
    (``_queue``; the subclass's ``_flush`` consumes them). ``evaluate``
    computes the result from the streamed statistics, so ``compute_metrics``
    is never used.
    """

    default_prefix = 'video'

    @staticmethod
    def role_of(sample: dict) -> str:
        role = 'real' if 'real' in sample else 'fake'
        if role not in sample:
            raise KeyError("each data sample needs a 'real' or a 'fake' video")
        return role

    def _queue(self, role: str, sample: dict, batch_size: int) -> None:
        self._pending[role].append(sample)
        if len(self._pending[role]) >= batch_size:
            self._flush(role)

    def _flush(self, role: str) -> None:
        raise NotImplementedError

    def compute_metrics(self, results: list) -> dict:  # pragma: no cover - unused
        raise NotImplementedError(f'{type(self).__name__} streams its statistics: '
                                  'evaluate() computes the metrics')


@METRICS.register_module()
class VideoGenerationMetric(StreamedVideoMetric):
    """Video-generation metrics of generated against real clips.

    Args:
        i3d_weights: Kinetics-400 I3D file (``tools/misc/prepare_i3d.py``).
        scores: subset of ``('fvd', 'is', 'fid', 'psd')``.
        fid_weights: Kinetics-600 I3D file for FID; None uses K400 features.
        resize: ``'tf_legacy'`` (TF FVD) or ``'half_pixel'``.
        batch_size: videos per I3D forward.
        is_splits: IS chunks.
        cov_ddof: 1 (TF FVD) or 0 (StyleGAN-V).
        psd_frames, psd_sets: PSD frame numbers (1-based) and sets.
        cache_real: keep the real statistics after the first evaluation.
        device: where the I3D runs (default: CUDA if available).
        i3d_size: frame size for the I3D (224 = the protocol; less for tests).
        prefix: key prefix in the logs (default ``video``).
    """


    def __init__(self, i3d_weights: str, scores: Sequence[str] = ('fvd', ),
                 fid_weights: Optional[str] = None, resize: str = 'tf_legacy',
                 batch_size: int = 8, is_splits: int = 10, cov_ddof: int = 1,
                 psd_frames: Sequence[int] = (1, ), psd_sets: int = 3,
                 cache_real: bool = True, device: Optional[str] = None,
                 i3d_size: int = 224,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.extractor = I3DExtractor(i3d_weights, fid_weights, self.device, resize,
                                      batch_size, i3d_size)
        self.metric_names = tuple(scores)
        self.is_splits, self.cov_ddof, self.cache_real = is_splits, cov_ddof, cache_real
        self._set_kwargs = dict(metrics=self.metric_names,
                                logit_dim=self.extractor.num_classes,
                                psd_frames=psd_frames, psd_sets=psd_sets)
        self.real = VideoSetStats(**self._set_kwargs)
        self.fake = VideoSetStats(**self._set_kwargs)
        self._real_done = False
        self._seen = dict(real=0, fake=0)
        self._pending: Dict[str, List[dict]] = dict(real=[], fake=[])

    @property
    def needs_real_data(self) -> bool:
        """False once real statistics are cached, or for IS alone."""
        needs = bool(set(self.metric_names) & {'fvd', 'fid', 'psd'})
        return needs and not self._real_done

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            role = self.role_of(sample)
            if role == 'real' and self._real_done:
                continue
            self._queue(role, sample, self.extractor.batch_size)

    def _flush(self, role: str) -> None:
        pending, self._pending[role] = self._pending[role], []
        if not pending:
            return
        videos = torch.stack([s[role].detach().cpu() for s in pending])
        labels = [int(s.get('label', -1)) for s in pending]
        rank, world = get_dist_info()
        # distinct global indices per rank: IS splits and PSD sets use them
        first = self._seen[role]
        indices = [(first + i) * world + rank for i in range(len(pending))]
        self._seen[role] += len(pending)
        stats = self.real if role == 'real' else self.fake
        stats.update(self.extractor(videos), videos, indices, labels)

    def evaluate(self, size: int = 0) -> dict:
        """Sum the statistics over ranks and compute the metrics (every rank)."""
        for role in ('real', 'fake'):
            self._flush(role)
        if not self._real_done:
            self.real.all_reduce()
        self.fake.all_reduce()
        values = compute_video_metrics(self.real, self.fake, self.metric_names,
                                       self.is_splits, self.cov_ddof)
        self._real_done = self.cache_real and self.real.count > 0
        if not self._real_done:
            self.real = VideoSetStats(**self._set_kwargs)
            self._seen['real'] = 0
        self.fake = VideoSetStats(**self._set_kwargs)
        self._seen['fake'] = 0
        prefix = self.prefix or self.default_prefix
        return {f'{prefix}/{name}': value for name, value in values.items()}


@METRICS.register_module()
class GroundingMetric(StreamedVideoMetric):
    """Grounding of an upsampling level (``grounding.py``) for a ``val_evaluator``.

    Generated pairs come as data samples ``dict(fake=x_l, fake_lowres=x_{l-1})``
    and real pairs as ``dict(real=x_l, real_lowres=x_{l-1})`` (``GenerationValLoop``
    makes both for an upsampling level), ``(C, T, H, W)`` uint8 or float in
    [-1, 1]. Reports ``{prefix}/grounding_corr_mean`` ... for generated pairs,
    ``grounding_real_*`` for real pairs (the ceiling, kept after the first
    validation with ``cache_real``) and ``grounding_mismatched_*`` (the floor).

        val_evaluator = [dict(type='VideoGenerationMetric', ...),
                         dict(type='GroundingMetric')]

    Args:
        temporal_factor: the level's factor; None infers it from the shapes.
        cache_real: keep the real-pair scores after the first evaluation.
        prefix: key prefix in the logs (default ``video``).
    """


    def __init__(self, temporal_factor: Optional[int] = None, cache_real: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.temporal_factor, self.cache_real = temporal_factor, cache_real
        self.real = GroundingAccumulator(temporal_factor, mismatched=False)
        self.fake = GroundingAccumulator(temporal_factor)
        self._real_done = False

    @property
    def needs_real_data(self) -> bool:
        return not self._real_done

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        pairs = dict(real=[], fake=[])
        for sample in data_samples:
            role = self.role_of(sample)
            if f'{role}_lowres' not in sample:
                raise KeyError(f"GroundingMetric scores an upsampling level: each data "
                               f"sample needs '{role}' and '{role}_lowres' (got "
                               f'{sorted(sample)})')
            if role == 'real' and self._real_done:
                continue
            pairs[role].append(sample)
        for role, samples in pairs.items():
            if samples:
                accumulator = self.real if role == 'real' else self.fake
                accumulator.update(torch.stack([s[f'{role}_lowres'] for s in samples]),
                                   torch.stack([s[role] for s in samples]))

    def evaluate(self, size: int = 0) -> dict:
        if not self._real_done:
            self.real.all_gather()
        self.fake.all_gather()
        values = grounding_summary(self.fake, self.real if self.real.count else None)
        self._real_done = self.cache_real and self.real.count > 0
        if not self._real_done:
            self.real = GroundingAccumulator(self.temporal_factor, mismatched=False)
        self.fake = GroundingAccumulator(self.temporal_factor)
        prefix = self.prefix or self.default_prefix
        return {f'{prefix}/{name}': value for name, value in values.items()}


@METRICS.register_module()
class ClassConsistencyMetric(StreamedVideoMetric):
    """Class consistency (``class_consistency.py``) for a ``val_evaluator``.

    Real clips (``dict(real=..., label=c)``) fit a nearest-class-mean
    classifier on I3D-K400 pooled features, every ``heldout_every``-th one
    held out to measure its accuracy (the ceiling); generated videos
    (``dict(fake=..., label=c)``) score the fraction classified as ``c``.
    The fitted classifier is kept after the first validation (``cache_real``).
    Generated features wait for ``evaluate`` (``(N, 1024)`` float32, 4 KB a
    video), where the ranks' sums meet.

        val_evaluator = [dict(type='VideoGenerationMetric', ...),
                         dict(type='ClassConsistencyMetric',
                              i3d_weights='work_dirs/i3d/i3d_k400.pth', i3d_size=112)]

    Args:
        i3d_weights: Kinetics-400 I3D file (``tools/misc/prepare_i3d.py``).
        i3d_size: I3D frame size (224 = the protocol; 112 for a CPU).
        heldout_every: every n-th real clip is held out.
        resize, batch_size, device: as ``VideoGenerationMetric``.
        cache_real: keep the fitted classifier after the first evaluation.
        prefix: key prefix in the logs (default ``video``).
    """


    def __init__(self, i3d_weights: str, i3d_size: int = 224, heldout_every: int = 4,
                 resize: str = 'tf_legacy', batch_size: int = 8,
                 device: Optional[str] = None, cache_real: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.extractor = I3DExtractor(i3d_weights, None, self.device, resize, batch_size,
                                      i3d_size)
        self.heldout_every, self.cache_real = heldout_every, cache_real
        self.score = ClassConsistency(heldout_every)
        self._seen_real = 0
        self._pending: Dict[str, List[dict]] = dict(real=[], fake=[])
        self._fake_features: List[tuple] = []

    @property
    def needs_real_data(self) -> bool:
        return not self.score.finished

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            role = self.role_of(sample)
            if int(sample.get('label', -1)) < 0:
                raise ValueError('ClassConsistencyMetric needs labelled real clips and a '
                                 'class-conditional model (got label -1)')
            if role == 'real' and self.score.finished:
                continue
            self._queue(role, sample, self.extractor.batch_size)

    def _flush(self, role: str) -> None:
        pending, self._pending[role] = self._pending[role], []
        if not pending:
            return
        features = self.extractor(torch.stack([s[role].detach().cpu() for s in pending]))
        labels = [int(s['label']) for s in pending]
        if role == 'fake':
            self._fake_features.append((features['features'].float().numpy(), labels))
            return
        rank, world = get_dist_info()
        first = self._seen_real
        self._seen_real += len(pending)
        self.score.add_real(features['features'], labels,
                            [(first + i) * world + rank for i in range(len(pending))])

    def evaluate(self, size: int = 0) -> dict:
        for role in ('real', 'fake'):
            self._flush(role)
        if not self.score.finished:
            self.score.finish_real()
        for features, labels in self._fake_features:
            self.score.add_fake(features, labels)
        self._fake_features = []
        values = self.score.result()
        fitted = self.score
        self.score = ClassConsistency(self.heldout_every)
        if self.cache_real:  # the same classifier and ceiling next time
            self.score.classifier, self.score.finished = fitted.classifier, True
            self.score.counts.update(real_correct=fitted.counts['real_correct'],
                                     real_heldout=fitted.counts['real_heldout'])
        else:
            self._seen_real = 0
        prefix = self.prefix or self.default_prefix
        return {f'{prefix}/{name}': value for name, value in values.items()}
