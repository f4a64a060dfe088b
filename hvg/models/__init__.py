"""Models: layers, generators, discriminators, losses and per-level GANs."""
from . import (augment, discriminators, gans, generators, layers, losses,  # noqa: F401
               lowres_sources)  # (registers)
from .augment import DiffAugment
from .data_preprocessor import VideoDataPreprocessor
from .discriminators import (DiscriminatorGroup, MatchingDiscriminator,
                             SpatialDiscriminator, TemporalDiscriminator)
from .gans import BaseLevelGAN, Level1GAN, UpsamplingLevelGAN
from .generators import Level1Generator, UpsamplingGenerator
from .level_chain import random_windows, run_levels
from .level_loading import load_level
from .lowres_sources import FrozenLevels, RealLowres
from .losses import GeometricHingeLoss

__all__ = [
    'DiffAugment', 'VideoDataPreprocessor', 'DiscriminatorGroup', 'MatchingDiscriminator',
    'SpatialDiscriminator', 'TemporalDiscriminator', 'BaseLevelGAN', 'Level1GAN',
    'UpsamplingLevelGAN',
    'Level1Generator', 'UpsamplingGenerator', 'GeometricHingeLoss', 'FrozenLevels',
    'RealLowres', 'load_level', 'random_windows', 'run_levels'
]
