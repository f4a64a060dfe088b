"""Evaluation: the I3D network, the reference protocol, IS / FID / FVD / PSD.

- ``i3d``: Inception-v1 I3D with TF ``SAME`` padding (converted TF-Hub weights
  give TF's numbers); ``i3d_convert``: the restricted-unpickler converter.
- ``protocol``: uint8 quantisation, TF-legacy bilinear resize to 224, [-1, 1].
- ``feature_stats``, ``frechet``, ``inception_score``, ``psd``: the maths,
  streamed in float64 and mergeable across ranks.
- ``video_stats``: I3D embeddings and a video set's statistics;
  ``compute_fvd``: the one-call FVD of two uint8 arrays.
- ``grounding``: does an upsampling level keep its input's structure
  (correlation / PSNR of ``S(T(x_l))`` against ``x_{l-1}``);
  ``class_consistency``: are class-conditional samples classified as their
  class by a nearest-class-mean classifier fitted on real clips.
- ``metrics``, ``val_loop``: mmengine ``VideoGenerationMetric``,
  ``GroundingMetric``, ``ClassConsistencyMetric`` and ``GenerationValLoop``
  to track them while training.
"""
from .class_consistency import ClassConsistency, NearestClassMean, class_consistency
from .feature_stats import FeatureStats
from .frechet import frechet_distance, trace_sqrt_product
from .fvd import compute_fvd
from .grounding import GroundingAccumulator, grounding_scores, grounding_summary, summarise
from .i3d import InceptionI3d, load_i3d, random_i3d
from .inception_score import inception_score
from .metrics import ClassConsistencyMetric, GroundingMetric, VideoGenerationMetric
from .protocol import i3d_input, quantize_videos
from .psd import PSDAccumulator, plot_psd, radial_power_spectrum
from .val_loop import GenerationValLoop
from .video_stats import I3DExtractor, VideoSetStats, compute_video_metrics

__all__ = [
    'ClassConsistency', 'NearestClassMean', 'class_consistency', 'GroundingAccumulator',
    'grounding_scores', 'grounding_summary', 'summarise', 'ClassConsistencyMetric',
    'GroundingMetric',
    'FeatureStats', 'frechet_distance', 'trace_sqrt_product', 'compute_fvd',
    'InceptionI3d', 'load_i3d', 'random_i3d', 'inception_score', 'VideoGenerationMetric',
    'i3d_input', 'quantize_videos', 'PSDAccumulator', 'plot_psd',
    'radial_power_spectrum', 'GenerationValLoop', 'I3DExtractor', 'VideoSetStats',
    'compute_video_metrics'
]
