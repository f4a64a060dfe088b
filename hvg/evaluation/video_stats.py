"""I3D embeddings of video batches and the streaming statistics of a video set.

``I3DExtractor`` runs the protocol (uint8 -> 224x224 -> [-1, 1] -> I3D) and
returns the K400 logits (FVD, IS) and the FID features (K600 pooled features
when K600 weights are given, else K400's). ``VideoSetStats`` accumulates what
every metric needs from one set of videos (real or generated) without keeping
features: Frechet statistics, IS logits, PSD sums, per-class statistics.
``compute_video_metrics`` turns a real and a generated set into numbers.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .feature_stats import FeatureStats
from .frechet import frechet_distance
from .i3d import FEATURE_DIM, load_i3d
from .inception_score import inception_score
from .protocol import I3D_SIZE, i3d_input, quantize_videos
from .psd import PSDAccumulator, psd_summary

METRICS = ('fvd', 'is', 'fid', 'psd')
_MODELS: Dict[tuple, torch.nn.Module] = {}


def _cached_i3d(path: str, device: str):
    """One network per weights file and device (metrics and tools share it)."""
    stat = os.stat(path) if osp.isfile(path) else None
    key = (osp.abspath(path), str(device), stat and (stat.st_mtime_ns, stat.st_size))
    if key not in _MODELS:
        _MODELS[key] = load_i3d(path, device)
    return _MODELS[key]


def file_digest(path: str) -> str:
    """sha256 of a file (names the network in cache keys and results)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


class I3DExtractor:
    """uint8 or [-1, 1] videos -> ``{'logits': (B, 400), 'fid', 'features': (B, 1024)}``.

    ``features`` are the K400 network's pooled features (class consistency),
    ``fid`` the FID network's (the same unless ``fid_weights`` is given).

    Args:
        i3d_weights: the Kinetics-400 I3D file (``prepare_i3d.py``).
        fid_weights: a Kinetics-600 I3D file for FID (the paper); None uses
            the K400 network's pooled features (recorded as such).
        device: where the networks run.
        resize: ``'tf_legacy'`` (the reference FVD) or ``'half_pixel'``.
        batch_size: videos per I3D forward (memory).
        size: frame size the I3D sees: 224 is the protocol; smaller sizes
            only make tests fast (and are recorded in ``describe()``).
    """

    def __init__(self, i3d_weights: str, fid_weights: Optional[str] = None,
                 device: str = 'cpu', resize: str = 'tf_legacy', batch_size: int = 8,
                 size: int = I3D_SIZE):
        self.i3d = _cached_i3d(i3d_weights, device)
        self.fid_net = _cached_i3d(fid_weights, device) if fid_weights else None
        self.device, self.resize, self.batch_size = device, resize, batch_size
        self.size = size
        self.num_classes = self.i3d.num_classes
        self.fid_network = (f'i3d-k{self.fid_net.num_classes}-pooled' if self.fid_net
                            else f'i3d-k{self.num_classes}-pooled')
        self.i3d_weights, self.fid_weights = i3d_weights, fid_weights

    def describe(self) -> dict:
        """What produced the features (for cache keys and results)."""
        return dict(fvd_network=f'i3d-k{self.num_classes}-logits',
                    fid_network=self.fid_network, resize=self.resize, i3d_size=self.size,
                    i3d_sha256=file_digest(self.i3d_weights),
                    fid_sha256=file_digest(self.fid_weights) if self.fid_weights else None)

    @torch.no_grad()
    def __call__(self, videos: Tensor) -> Dict[str, Tensor]:
        """``videos``: ``(B, 3, T, H, W)`` uint8, or float in [-1, 1] (quantised first)."""
        videos = quantize_videos(videos)
        logits, features, pooled = [], [], []
        for start in range(0, videos.shape[0], self.batch_size):
            clip = i3d_input(videos[start:start + self.batch_size].to(self.device),
                             self.resize, self.size)
            out = self.i3d(clip)
            logits.append(out['logits'].double().cpu())
            pooled.append(out['features'].double().cpu())
            fid_out = self.fid_net(clip) if self.fid_net is not None else out
            features.append(fid_out['features'].double().cpu())
        return dict(logits=torch.cat(logits), fid=torch.cat(features),
                    features=torch.cat(pooled))


class VideoSetStats:
    """Everything the metrics need from one set of videos, streamed.

    Args:
        metrics: subset of ``('fvd', 'is', 'fid', 'psd')``.
        logit_dim: classes of the FVD/IS network (400).
        psd_frames: 1-based frame numbers for the PSD.
        psd_sets: sets the PSD videos are dealt into.
        classes: labels for per-class IS / FID (appendix E); empty for none.
    """

    def __init__(self, metrics: Sequence[str] = ('fvd', ), logit_dim: int = 400,
                 psd_frames: Sequence[int] = (1, ), psd_sets: int = 3,
                 classes: Sequence[int] = ()):
        unknown = set(metrics) - set(METRICS)
        if unknown:
            raise ValueError(f'unknown metrics {sorted(unknown)}; choose from {METRICS}')
        self.metrics = tuple(metrics)
        self.classes = tuple(int(c) for c in classes)
        self.fvd = FeatureStats(logit_dim)
        self.fid = FeatureStats(FEATURE_DIM)
        self.class_fid = {c: FeatureStats(FEATURE_DIM) for c in self.classes}
        self.psd = PSDAccumulator(psd_frames, psd_sets) if 'psd' in metrics else None
        # IS keeps (index, label, logits) rows: splits follow the global order
        self._rows: List[np.ndarray] = []

    @property
    def count(self) -> int:
        return self.fvd.count

    def update(self, embeddings: Dict[str, Tensor], videos: Tensor,
               indices: Sequence[int], labels: Optional[Sequence[int]] = None) -> None:
        """Add a batch: I3D outputs, the uint8 videos (for PSD), global indices."""
        logits = embeddings['logits'].numpy()
        fid = embeddings['fid'].numpy()
        self.fvd.update(logits)
        self.fid.update(fid)
        labels = np.full(len(indices), -1) if labels is None else np.asarray(labels)
        for c in self.classes:
            mask = labels == c
            if mask.any():
                self.class_fid[c].update(fid[mask])
        if 'is' in self.metrics:
            self._rows.append(np.concatenate(
                [np.asarray(indices, np.float64)[:, None],
                 labels.astype(np.float64)[:, None], logits], axis=1))
        if self.psd is not None:
            self.psd.update(quantize_videos(videos).cpu(), indices)

    def logits_in_order(self):
        """``(labels (N,), logits (N, C))`` sorted by global index."""
        if not self._rows:
            return np.zeros(0, np.int64), np.zeros((0, self.fvd.dim))
        rows = np.concatenate(self._rows)
        rows = rows[np.argsort(rows[:, 0], kind='stable')]
        return rows[:, 1].astype(np.int64), rows[:, 2:]

    def all_reduce(self) -> 'VideoSetStats':
        """Combine every rank's statistics (sums add; IS rows are gathered)."""
        from mmengine.dist import all_gather_object, get_world_size
        if get_world_size() == 1:
            return self
        for stats in (self.fvd, self.fid, *self.class_fid.values()):
            stats.all_reduce()
        if self.psd is not None:
            self.psd.all_reduce()
        if 'is' in self.metrics:
            gathered = all_gather_object(self._rows)
            self._rows = [row for rank_rows in gathered for row in rank_rows]
        return self

    # --- real-data cache -------------------------------------------------------
    def save(self, path: str, key: dict) -> None:
        """Write the statistics and the key that made them to ``path`` (.npz)."""
        arrays = dict(key=np.array(json.dumps(key, sort_keys=True)))
        arrays.update(self.fvd.to_arrays('fvd'))
        arrays.update(self.fid.to_arrays('fid'))
        for c, stats in self.class_fid.items():
            if stats.count:
                arrays.update(stats.to_arrays(f'class{c}'))
        if self.psd is not None:
            arrays.update(self.psd.to_arrays('psd'))
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix='.npz', dir=osp.dirname(osp.abspath(path)))
        os.close(fd)
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # never a half-written cache

    def load(self, path: str, key: dict) -> bool:
        """Fill from ``path`` if it was made with ``key``; False if it was not.

        A different key (other dataset, length, resolution or network) is an
        error when the user named the file, a cache miss otherwise: the
        caller decides.
        """
        with np.load(path, allow_pickle=False) as arrays:
            stored = json.loads(str(arrays['key']))
            if stored != json.loads(json.dumps(key, sort_keys=True)):
                return False
            self.fvd = FeatureStats.from_arrays(arrays, 'fvd')
            self.fid = FeatureStats.from_arrays(arrays, 'fid')
            for c in self.classes:
                if f'class{c}.sum' in arrays:
                    self.class_fid[c] = FeatureStats.from_arrays(arrays, f'class{c}')
            if self.psd is not None:
                self.psd = PSDAccumulator.from_arrays(arrays, 'psd')
        return True


def compute_video_metrics(real: Optional[VideoSetStats], fake: VideoSetStats,
                          metrics: Iterable[str], is_splits: int = 10,
                          cov_ddof: int = 1) -> Dict[str, float]:
    """The numbers: ``fvd``, ``is`` / ``is_std``, ``fid``, PSD gaps, per class.

    Args:
        real: statistics of the real videos (not needed for IS alone).
        fake: statistics of the generated videos.
        metrics: which to compute.
        is_splits: IS chunks (10, the convention).
        cov_ddof: 1 = unbiased covariance (TF FVD), 0 = StyleGAN-V's.
    """
    metrics = tuple(metrics)
    needs_real = set(metrics) & {'fvd', 'fid', 'psd'}
    if needs_real and (real is None or real.count == 0):
        raise ValueError(f'{sorted(needs_real)} need real videos (none were given)')
    out: Dict[str, float] = {}
    if 'fvd' in metrics:
        out['fvd'] = frechet_distance(*real.fvd.mean_cov(cov_ddof), *fake.fvd.mean_cov(cov_ddof))
    if 'fid' in metrics:
        out['fid'] = frechet_distance(*real.fid.mean_cov(cov_ddof), *fake.fid.mean_cov(cov_ddof))
    if 'is' in metrics:
        labels, logits = fake.logits_in_order()
        out['is'], out['is_std'] = inception_score(logits, is_splits)
        for c in fake.classes:
            mine = logits[labels == c]
            if len(mine) >= is_splits:
                out[f'class{c}/is'], out[f'class{c}/is_std'] = inception_score(mine, is_splits)
    if 'fid' in metrics:
        for c in fake.classes:
            r, f = real.class_fid.get(c), fake.class_fid[c]
            if r is not None and r.count > cov_ddof and f.count > cov_ddof:
                out[f'class{c}/fid'] = frechet_distance(*r.mean_cov(cov_ddof),
                                                        *f.mean_cov(cov_ddof))
    if 'psd' in metrics:
        out.update(psd_summary(real.psd, fake.psd))
    return out
