"""I3D embeddings of video batches: what the network metrics read.

``I3DExtractor`` runs the protocol (uint8 -> 224x224 -> [-1, 1] -> I3D) and
returns the K400 logits (FVD, IS), the FID features (K600 pooled features
when K600 weights are given, else K400's) and the K400 pooled features
(class consistency). It remembers its last few batches, so the metrics of
one evaluation that see the same videos share one forward pass
(``shared_extractor`` hands every metric of one setting the same extractor).
"""
import hashlib
import sys
import warnings
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

import torch
from torch import Tensor

from .i3d import load_i3d
from .protocol import I3D_SIZE, i3d_input, quantize_videos

_MODELS: Dict[tuple, torch.nn.Module] = {}
_EXTRACTORS: Dict[tuple, 'I3DExtractor'] = {}


def _file_key(path: str) -> tuple:
    stat = os.stat(path) if osp.isfile(path) else None
    return osp.abspath(path), stat and (stat.st_mtime_ns, stat.st_size)


def _cached_i3d(path: str, device: str):
    """One network per weights file and device (metrics and tools share it)."""
    key = (_file_key(path), str(device))
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
        memo: batches remembered (by their quantised content).
    """

    def __init__(self, i3d_weights: str, fid_weights: Optional[str] = None,
                 device: str = 'cpu', resize: str = 'tf_legacy', batch_size: int = 8,
                 size: int = I3D_SIZE, memo: int = 8):
        self.i3d = _cached_i3d(i3d_weights, device)
        self.fid_net = _cached_i3d(fid_weights, device) if fid_weights else None
        self.device, self.resize, self.batch_size = device, resize, batch_size
        self.size = size
        self.num_classes = self.i3d.num_classes
        self.fid_network = (f'i3d-k{self.fid_net.num_classes}-pooled' if self.fid_net
                            else f'i3d-k{self.num_classes}-pooled')
        self.i3d_weights, self.fid_weights = i3d_weights, fid_weights
        self._memo: 'OrderedDict[str, Dict[str, Tensor]]' = OrderedDict()
        self._memo_size = memo
        # prepare_i3d.py --random writes weights for smoke tests: their FVD
        # looks like a number; every result says what it is
        self.random = [path for path, net in ((i3d_weights, self.i3d),
                                              (fid_weights, self.fid_net))
                       if net is not None and getattr(net, 'meta', {}).get('source')
                       == 'random']
        if self.random:
            message = (f'RANDOM I3D WEIGHTS ({", ".join(self.random)}): every metric of '
                       'this run is meaningless, for smoke tests only. Prepare the real '
                       'network: python tools/misc/prepare_i3d.py --out '
                       'work_dirs/i3d/i3d_k400.pth')
            warnings.warn(message, stacklevel=2)
            print(f'\n{"!" * 78}\n{message}\n{"!" * 78}\n', file=sys.stderr, flush=True)

    def describe(self) -> dict:
        """What produced the features (for cache keys and results)."""
        random = ' (RANDOM WEIGHTS: meaningless)' if self.random else ''
        return dict(fvd_network=f'i3d-k{self.num_classes}-logits{random}',
                    random_weights=bool(self.random),
                    fid_network=self.fid_network, resize=self.resize, i3d_size=self.size,
                    i3d_sha256=file_digest(self.i3d_weights),
                    fid_sha256=file_digest(self.fid_weights) if self.fid_weights else None)

    @torch.no_grad()
    def __call__(self, videos: Tensor) -> Dict[str, Tensor]:
        """``videos``: ``(B, 3, T, H, W)`` uint8, or float in [-1, 1] (quantised first)."""
        videos = quantize_videos(videos.detach().cpu()).contiguous()
        key = hashlib.sha1(videos.numpy().tobytes()).hexdigest() + str(tuple(videos.shape))
        if key in self._memo:
            self._memo.move_to_end(key)
            return dict(self._memo[key])
        logits, features, pooled = [], [], []
        for start in range(0, videos.shape[0], self.batch_size):
            clip = i3d_input(videos[start:start + self.batch_size].to(self.device),
                             self.resize, self.size)
            out = self.i3d(clip)
            logits.append(out['logits'].double().cpu())
            pooled.append(out['features'].double().cpu())
            fid_out = self.fid_net(clip) if self.fid_net is not None else out
            features.append(fid_out['features'].double().cpu())
        result = dict(logits=torch.cat(logits), fid=torch.cat(features),
                      features=torch.cat(pooled))
        self._memo[key] = result
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return dict(result)


def shared_extractor(i3d_weights: str, fid_weights: Optional[str] = None,
                     device: str = 'cpu', resize: str = 'tf_legacy', batch_size: int = 8,
                     size: int = I3D_SIZE) -> I3DExtractor:
    """The one ``I3DExtractor`` of a setting (metrics built from a config share it)."""
    key = (_file_key(i3d_weights), fid_weights and _file_key(fid_weights), str(device),
           resize, batch_size, size)
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = I3DExtractor(i3d_weights, fid_weights, device, resize,
                                        batch_size, size)
    return _EXTRACTORS[key]
