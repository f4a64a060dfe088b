"""One registered class per metric (``hvg.registry.METRICS``), one base.

Each serves a training ``val_evaluator`` (``GenerationValLoop``) and
``tools/test.py`` (``hvg.apis.evaluate_hierarchy``); ``--metrics NAME`` or
``dict(type=NAME)`` picks it by its class name or its short name.
"""
from .base import I3DMetric, VideoBatch, VideoMetric, sum_over_ranks
from .class_consistency import ClassConsistencyMetric
from .fid import FIDMetric
from .fvd import FVDMetric
from .grounding import GroundingMetric
from .inception_score import ISMetric
from .psd import PSDMetric

__all__ = [
    'VideoMetric', 'I3DMetric', 'VideoBatch', 'sum_over_ranks', 'FVDMetric', 'FIDMetric',
    'ISMetric', 'PSDMetric', 'GroundingMetric', 'ClassConsistencyMetric'
]
