"""Grounding of an upsampling level (``hvg/evaluation/grounding.py``) as a metric."""
from typing import Dict, Optional

from hvg.registry import METRICS
from ..grounding import GroundingAccumulator, grounding_summary
from .base import VideoBatch, VideoMetric


@METRICS.register_module(name=['GroundingMetric', 'grounding'])
class GroundingMetric(VideoMetric):
    """Does an upsampling level keep its input's structure?

    Scores generated pairs ``(x_l, x_{l-1})`` (``grounding_corr_mean`` ...),
    real pairs ``x_{l-1} = T(S(x_l))`` (``grounding_real_*``, the ceiling) and
    mismatched generated pairs (``grounding_mismatched_*``, the floor).

        val_evaluator = [dict(type='FVDMetric', ...), dict(type='GroundingMetric')]

    Args:
        temporal_factor: the level's factor; None infers it from the shapes.
        **kwargs: ``VideoMetric``'s.
    """

    pairs = True
    levels = 'upsampling'

    def __init__(self, temporal_factor: Optional[int] = None, **kwargs):
        self.temporal_factor = temporal_factor
        super().__init__(**kwargs)

    def new_state(self, role: str) -> GroundingAccumulator:
        return GroundingAccumulator(self.temporal_factor, mismatched=role == 'fake')

    def update(self, role: str, batch: VideoBatch) -> None:
        state = self.real if role == 'real' else self.fake
        state.update(batch.lowres, batch.videos)

    def finish_real(self) -> None:
        self.real.all_gather()

    def result(self) -> Dict[str, float]:
        self.fake.all_gather()
        return grounding_summary(self.fake, self.real if self.real.count else None)
