"""The base of every HVG metric: what it needs, how it is fed, how it reports.

A metric is a registered class (``hvg.registry.METRICS``) that streams
statistics of real and generated videos and computes its numbers from them.
Its class attributes declare what it needs, so that one evaluation path
(``hvg.apis.evaluate_hierarchy``, run by ``tools/test.py``) and a training
``val_evaluator`` (``GenerationValLoop``) feed every metric the same way:

- ``needs_real``: it compares with real clips (statistics computed once,
  cached on disk by ``tools/test.py`` when ``real_arrays`` is implemented).
- ``network``: ``None``, ``'i3d_k400'`` (K400 logits or pooled features) or
  ``'i3d_fid'`` (the FID network: K600 pooled features when given, else
  K400's): the metric then takes an ``I3DExtractor`` (or its weights).
- ``pairs``: it scores ``(x_l, x_{l-1})`` pairs, an upsampling level's output
  with its input (real pairs: ``x_{l-1} = T(S(x_l))``).
- ``levels``: which levels of a hierarchy it scores: ``'final'`` (the
  output, plain keys), ``'every'`` (``level{l}/key`` for each, the final
  level's also plain), ``'upsampling'`` or ``'class_conditional'``
  (``level{l}/key``); ``only_levels`` (1-based) narrows the choice.

A subclass implements ``new_state(role)``, ``update(role, batch)``,
``finish_real()`` and ``result()`` (``docs/adding_components.md``).
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_dist_info, get_world_size
from mmengine.evaluator import BaseMetric
from torch import Tensor

from ..extractor import I3DExtractor, shared_extractor

ROLES = ('real', 'fake')


@dataclass
class VideoBatch:
    """One batch of real or generated videos, as every metric receives it.

    Attributes:
        videos: ``(B, C, T, H, W)`` uint8, or float in ``[-1, 1]``.
        indices: their global indices (IS splits, PSD sets and held-out
            clips follow them, whatever the rank).
        labels: ``(B,)`` class labels, -1 for none.
        lowres: ``(B, C, t, h, w)``: the input ``x_{l-1}`` of each video (for
            ``pairs`` metrics; None otherwise).
    """
    videos: Tensor
    indices: List[int]
    labels: List[int]
    lowres: Optional[Tensor] = None


def sum_over_ranks(*values: float) -> List[float]:
    """Numbers summed over every rank (themselves without a process group)."""
    if get_world_size() == 1:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64)
    all_reduce(tensor, op='sum')
    return tensor.tolist()


class VideoMetric(BaseMetric):
    """A metric of generated videos, streamed; an mmengine metric too.

    As a ``val_evaluator`` it reads data samples ``dict(real=video)`` or
    ``dict(fake=video)`` (``(C, T, H, W)``, uint8 or float in [-1, 1]), with
    ``label`` and, for pairs, ``real_lowres`` / ``fake_lowres``; videos are
    grouped into batches of ``batch_size`` before ``update``. Real statistics
    do not change during training: with ``cache_real`` they are computed at
    the first validation and kept.

    Args:
        only_levels: 1-based levels of a hierarchy to score (of those
            ``levels`` allows); None: all of them.
        batch_size: videos per ``update`` in a ``val_evaluator``.
        cache_real: keep the real statistics after the first evaluation.
        prefix: key prefix in the logs (default ``video``).
    """

    needs_real: bool = True
    network: Optional[str] = None
    pairs: bool = False
    levels: str = 'final'
    default_prefix = 'video'

    def __init__(self, only_levels: Optional[Sequence[int]] = None, batch_size: int = 8,
                 cache_real: bool = True, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.only_levels = None if only_levels is None else [int(i) for i in only_levels]
        self.batch_size, self.cache_real = batch_size, cache_real
        self.level: Optional[int] = None  # the 1-based level it scores (evaluate_hierarchy)
        self.artifacts: Dict[str, str] = {}  # files it wrote ({'psd_plot': path})
        self._states: Dict[str, object] = dict(real=None, fake=None)
        self._pending: Dict[str, List[dict]] = dict(real=[], fake=[])
        self._seen = dict(real=0, fake=0)
        self.real_done = False

    # --- what a metric implements ------------------------------------------------
    def new_state(self, role: str):
        """Fresh statistics of ``'real'`` or ``'fake'`` videos (None: none kept)."""
        raise NotImplementedError

    def update(self, role: str, batch: VideoBatch) -> None:
        """Add a batch of ``'real'`` or ``'fake'`` videos to the statistics."""
        raise NotImplementedError

    def finish_real(self) -> None:
        """Combine the real statistics of every rank (called once, on every rank)."""

    def result(self) -> Dict[str, float]:
        """The numbers, every rank's statistics combined (called on every rank)."""
        raise NotImplementedError

    def prepare(self, shape: Sequence[int]) -> None:
        """Before any data: ``(C, T, H, W)`` of the generated videos it will see."""

    def check_sample(self, role: str, sample: dict) -> None:
        """Refuse a data sample this metric cannot score (a ``val_evaluator``)."""

    # the real-statistics cache (optional): plain arrays, keyed by real_key()
    def real_arrays(self) -> Optional[Dict]:
        """The real statistics as plain arrays, or None if they are not cached."""
        return None

    def load_real_arrays(self, arrays) -> bool:
        """Take the real statistics from ``arrays``; False if they are not there."""
        return False

    def real_key(self) -> dict:
        """The settings the real statistics depend on (beyond the clips, the network)."""
        return {}

    # --- the common machinery ----------------------------------------------------
    @property
    def real_on_disk(self) -> bool:
        """Its real statistics can be cached on disk (it implements ``real_arrays``)."""
        return type(self).real_arrays is not VideoMetric.real_arrays

    @property
    def needs_real_data(self) -> bool:
        """False once the real statistics are complete (or for a metric without)."""
        return self.needs_real and not self.real_done

    # statistics are made at first use: a subclass's __init__ has set its options
    @property
    def real(self):
        if self._states['real'] is None and self.needs_real:
            self._states['real'] = self.new_state('real')
        return self._states['real']

    @real.setter
    def real(self, state) -> None:
        self._states['real'] = state

    @property
    def fake(self):
        if self._states['fake'] is None:
            self._states['fake'] = self.new_state('fake')
        return self._states['fake']

    @fake.setter
    def fake(self, state) -> None:
        self._states['fake'] = state

    def reset(self, keep_real: bool = False) -> None:
        """New generated statistics; new real ones too unless they are kept."""
        self.fake, self._seen['fake'] = None, 0
        self._pending = dict(real=[], fake=[])
        if not (keep_real and self.real_done):
            self.real, self._seen['real'], self.real_done = None, 0, False

    def mark_real_done(self) -> None:
        """The real statistics are complete (after ``finish_real`` or from the cache)."""
        self.real_done = True

    @staticmethod
    def role_of(sample: dict) -> str:
        role = 'real' if 'real' in sample else 'fake'
        if role not in sample:
            raise KeyError("each data sample needs a 'real' or a 'fake' video")
        return role

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """mmengine: queue the data samples, ``update`` a batch at a time."""
        for sample in data_samples:
            role = self.role_of(sample)
            if self.pairs and f'{role}_lowres' not in sample:
                raise KeyError(f'{type(self).__name__} scores an upsampling level: each '
                               f"data sample needs '{role}' and '{role}_lowres' (got "
                               f'{sorted(sample)})')
            self.check_sample(role, sample)
            if role == 'real' and not self.needs_real_data:
                continue
            self._pending[role].append(sample)
            if len(self._pending[role]) >= self.batch_size:
                self._flush(role)

    def _flush(self, role: str) -> None:
        pending, self._pending[role] = self._pending[role], []
        if not pending:
            return
        rank, world = get_dist_info()
        # distinct global indices per rank: IS splits and PSD sets use them
        first = self._seen[role]
        self._seen[role] += len(pending)
        # the inputs go along wherever every sample has one (pairs metrics
        # require them; FVD's upsampled-input reference uses them if there)
        has_lowres = all(s.get(f'{role}_lowres') is not None for s in pending)
        self.update(role, VideoBatch(
            torch.stack([s[role].detach().cpu() for s in pending]),
            [(first + i) * world + rank for i in range(len(pending))],
            [int(s.get('label', -1)) for s in pending],
            torch.stack([s[f'{role}_lowres'].detach().cpu() for s in pending])
            if has_lowres else None))

    def evaluate(self, size: int = 0) -> dict:
        """mmengine: combine the ranks' statistics and compute (every rank)."""
        for role in ROLES:
            self._flush(role)
        if self.needs_real_data:
            self.finish_real()
            self.mark_real_done()
        values = self.result()
        self.reset(keep_real=self.cache_real)
        prefix = self.prefix or self.default_prefix
        return {f'{prefix}/{name}': value for name, value in values.items()}

    def compute_metrics(self, results: list) -> dict:  # pragma: no cover - unused
        raise NotImplementedError(f'{type(self).__name__} streams its statistics: '
                                  'evaluate() computes the metrics')


class I3DMetric(VideoMetric):
    """A metric that reads I3D embeddings (``network = 'i3d_k400'``).

    Args:
        i3d_weights: Kinetics-400 I3D file (``tools/misc/prepare_i3d.py``).
        fid_weights: Kinetics-600 I3D file for FID; None uses K400 features.
        resize: ``'tf_legacy'`` (TF FVD) or ``'half_pixel'``.
        batch_size: videos per I3D forward.
        i3d_size: I3D frame size (224 = the protocol; less for tests).
        device: where the I3D runs (default: CUDA if available).
        extractor: an ``I3DExtractor`` instead of the weights (what
            ``evaluate_hierarchy`` passes: one network for every metric).
        **kwargs: ``VideoMetric``'s.
    """

    network = 'i3d_k400'

    def __init__(self, i3d_weights: Optional[str] = None, fid_weights: Optional[str] = None,
                 resize: str = 'tf_legacy', batch_size: int = 8, i3d_size: int = 224,
                 device: Optional[str] = None, extractor: Optional[I3DExtractor] = None,
                 **kwargs):
        if extractor is None:
            if i3d_weights is None:
                raise ValueError(f'{type(self).__name__} needs i3d_weights (python '
                                 'tools/misc/prepare_i3d.py --out FILE) or an extractor')
            device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
            extractor = shared_extractor(i3d_weights, fid_weights, device, resize,
                                         batch_size, i3d_size)
        self.extractor = extractor
        super().__init__(batch_size=extractor.batch_size, **kwargs)
