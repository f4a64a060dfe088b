"""Inception Score of generated videos on I3D-K400 logits (no real clips)."""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.dist import all_gather_object, get_world_size

from hvg.registry import METRICS
from ..inception_score import inception_score
from .base import I3DMetric, VideoBatch


@METRICS.register_module(name=['ISMetric', 'is'])
class ISMetric(I3DMetric):
    """IS and its spread over ``splits`` chunks taken in the videos' global order.

    Keeps ``(index, label, logits)`` rows (1.6 MB per 1000 videos): the chunks
    are the same whatever the ranks.

    Args:
        splits: IS chunks (10, the convention).
        classes: also ``class{c}/is`` of videos generated for these labels.
        **kwargs: ``I3DMetric``'s.
    """

    needs_real = False

    def __init__(self, i3d_weights=None, splits: int = 10, classes: Sequence[int] = (),
                 **kwargs):
        self.splits, self.classes = splits, tuple(int(c) for c in classes or ())
        super().__init__(i3d_weights, **kwargs)

    def new_state(self, role: str) -> List[np.ndarray]:
        return []

    def update(self, role: str, batch: VideoBatch) -> None:
        logits = self.extractor(batch.videos)['logits'].numpy()
        self.fake.append(np.concatenate(
            [np.asarray(batch.indices, np.float64)[:, None],
             np.asarray(batch.labels, np.float64)[:, None], logits], axis=1))

    def result(self) -> Dict[str, float]:
        rows = self.fake
        if get_world_size() > 1:
            rows = [row for rank_rows in all_gather_object(rows) for row in rank_rows]
        rows = np.concatenate(rows)
        rows = rows[np.argsort(rows[:, 0], kind='stable')]
        labels, logits = rows[:, 1].astype(np.int64), rows[:, 2:]
        out = {}
        out['is'], out['is_std'] = inception_score(logits, self.splits)
        for c in self.classes:
            mine = logits[labels == c]
            if len(mine) >= self.splits:
                out[f'class{c}/is'], out[f'class{c}/is_std'] = inception_score(mine,
                                                                               self.splits)
        return out
