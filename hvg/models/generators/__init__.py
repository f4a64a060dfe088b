"""Generators: level 1 (from noise) and upsampling levels (from a video)."""
from .latent_stem import LatentStem
from .length_statistics import LengthStatistics
from .level1_generator import Level1Generator
from .streaming import (Window, accumulate_statistics_windowed, default_chunk_frames,
                        plan_windows, stream_upsample, temporal_halo, temporal_radius,
                        upsample_chunks)
from .upsampling_generator import UpsamplingGenerator

__all__ = [
    'LatentStem', 'Level1Generator', 'UpsamplingGenerator', 'LengthStatistics',
    'Window', 'accumulate_statistics_windowed', 'plan_windows',
    'default_chunk_frames', 'stream_upsample', 'temporal_halo', 'temporal_radius',
    'upsample_chunks'
]
