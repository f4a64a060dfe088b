"""Models: layers, generators, discriminators, losses and per-level GANs."""
from . import discriminators, gans, generators, layers, losses  # noqa: F401 (registers)
from .data_preprocessor import VideoDataPreprocessor
from .discriminators import DiscriminatorGroup, SpatialDiscriminator, TemporalDiscriminator
from .gans import BaseLevelGAN, Level1GAN
from .generators import Level1Generator
from .losses import GeometricHingeLoss

__all__ = [
    'VideoDataPreprocessor', 'DiscriminatorGroup', 'SpatialDiscriminator',
    'TemporalDiscriminator', 'BaseLevelGAN', 'Level1GAN', 'Level1Generator',
    'GeometricHingeLoss'
]
