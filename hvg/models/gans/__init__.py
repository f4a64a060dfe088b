"""Per-level GAN models (mmengine BaseModels with their own train_step)."""
from .base_level_gan import BaseLevelGAN, frozen, unwrap
from .level1_gan import Level1GAN
from .upsampling_level_gan import UpsamplingLevelGAN, load_frozen_level, random_windows

__all__ = [
    'BaseLevelGAN', 'Level1GAN', 'UpsamplingLevelGAN', 'frozen', 'unwrap',
    'load_frozen_level', 'random_windows'
]
