"""Per-level GAN models (mmengine BaseModels with their own train_step)."""
from .base_level_gan import BaseLevelGAN, frozen, unwrap
from .level1_gan import Level1GAN
from .step import LevelBatch, Sample
from .upsampling_level_gan import UpsamplingLevelGAN

__all__ = ['BaseLevelGAN', 'Level1GAN', 'UpsamplingLevelGAN', 'LevelBatch', 'Sample',
           'frozen', 'unwrap']
