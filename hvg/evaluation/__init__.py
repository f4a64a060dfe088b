"""Evaluation: the I3D network, the reference protocol, IS / FID / FVD / PSD.

- ``i3d``: Inception-v1 I3D with TF ``SAME`` padding (converted TF-Hub weights
  give TF's numbers); ``i3d_convert``: the restricted-unpickler converter.
- ``protocol``: uint8 quantisation, TF-legacy bilinear resize to 224, [-1, 1].
- ``feature_stats``, ``frechet``, ``inception_score``, ``psd``: the maths,
  streamed in float64 and mergeable across ranks.
- ``video_stats``: I3D embeddings and a video set's statistics;
  ``compute_fvd``: the one-call FVD of two uint8 arrays.
- ``metrics``, ``val_loop``: mmengine ``VideoGenerationMetric`` and
  ``GenerationValLoop`` to track FVD while training.
"""
from .feature_stats import FeatureStats
from .frechet import frechet_distance, trace_sqrt_product
from .fvd import compute_fvd
from .i3d import InceptionI3d, load_i3d, random_i3d
from .inception_score import inception_score
from .metrics import VideoGenerationMetric
from .protocol import i3d_input, quantize_videos
from .psd import PSDAccumulator, plot_psd, radial_power_spectrum
from .val_loop import GenerationValLoop
from .video_stats import I3DExtractor, VideoSetStats, compute_video_metrics

__all__ = [
    'FeatureStats', 'frechet_distance', 'trace_sqrt_product', 'compute_fvd',
    'InceptionI3d', 'load_i3d', 'random_i3d', 'inception_score', 'VideoGenerationMetric',
    'i3d_input', 'quantize_videos', 'PSDAccumulator', 'plot_psd',
    'radial_power_spectrum', 'GenerationValLoop', 'I3DExtractor', 'VideoSetStats',
    'compute_video_metrics'
]
