"""Evaluation: the I3D network, the reference protocol, IS / FID / FVD / PSD.

- ``i3d``: Inception-v1 I3D with TF ``SAME`` padding (converted TF-Hub weights
  give TF's numbers); ``i3d_convert``: the restricted-unpickler converter.
- ``protocol``: uint8 quantisation, TF-legacy bilinear resize to 224, [-1, 1].
- ``feature_stats``, ``frechet``, ``inception_score``, ``psd``: the maths,
  streamed in float64 and mergeable across ranks.
- ``extractor``: the I3D embeddings of video batches (``I3DExtractor``);
  ``compute_fvd``: the one-call FVD of two uint8 arrays.
- ``grounding``: does an upsampling level keep its input's structure
  (correlation / PSNR of ``S(T(x_l))`` against ``x_{l-1}``);
  ``class_consistency``: are class-conditional samples classified as their
  class by a nearest-class-mean classifier fitted on real clips.
- ``metrics``: one registered class per metric (``FVDMetric``, ``FIDMetric``,
  ``ISMetric``, ``PSDMetric``, ``GroundingMetric``, ``ClassConsistencyMetric``)
  on one base, ``VideoMetric``, that declares what each needs; the same
  classes serve ``tools/test.py`` (``hvg.apis.evaluate_hierarchy``) and a
  ``val_evaluator`` with ``val_loop.GenerationValLoop`` during training.
"""
from .class_consistency import ClassConsistency, NearestClassMean, class_consistency
from .extractor import I3DExtractor, shared_extractor
from .feature_stats import FeatureStats
from .frechet import frechet_distance, trace_sqrt_product
from .fvd import compute_fvd
from .grounding import GroundingAccumulator, grounding_scores, grounding_summary, summarise
from .i3d import InceptionI3d, load_i3d, random_i3d
from .inception_score import inception_score
from .metrics import (ClassConsistencyMetric, FIDMetric, FVDMetric, GroundingMetric, I3DMetric,
                      ISMetric, PSDMetric, VideoBatch, VideoMetric)
from .protocol import i3d_input, quantize_videos
from .psd import PSDAccumulator, high_frequency_power, plot_psd, radial_power_spectrum
from .val_loop import GenerationValLoop

__all__ = [
    'ClassConsistency', 'NearestClassMean', 'class_consistency', 'GroundingAccumulator',
    'grounding_scores', 'grounding_summary', 'summarise', 'ClassConsistencyMetric',
    'GroundingMetric', 'FVDMetric', 'FIDMetric', 'ISMetric', 'PSDMetric', 'VideoMetric',
    'I3DMetric', 'VideoBatch', 'shared_extractor',
    'FeatureStats', 'frechet_distance', 'trace_sqrt_product', 'compute_fvd',
    'InceptionI3d', 'load_i3d', 'random_i3d', 'inception_score',
    'i3d_input', 'quantize_videos', 'PSDAccumulator', 'high_frequency_power', 'plot_psd',
    'radial_power_spectrum', 'GenerationValLoop', 'I3DExtractor'
]
