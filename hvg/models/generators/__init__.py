"""Generators: level 1 (from noise) and upsampling levels (from a video)."""
from .latent_stem import LatentStem
from .level1_generator import Level1Generator
from .unroll import frame_batch_norms, unroll_generator
from .upsampling_generator import UpsamplingGenerator

__all__ = [
    'LatentStem', 'Level1Generator', 'UpsamplingGenerator', 'frame_batch_norms',
    'unroll_generator'
]
