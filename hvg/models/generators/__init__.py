"""Generators: level 1 (from noise) and upsampling levels (from a video)."""
from .latent_stem import LatentStem
from .level1_generator import Level1Generator
from .streaming import (Window, accumulate_statistics_windowed, default_chunk_frames,
                        plan_windows, stream_upsample, temporal_halo, temporal_radius,
                        upsample_chunks)
from .unroll import (frame_batch_norms, frame_stats_cache, trained_num_frames,
                     unroll_generator)
from .upsampling_generator import UpsamplingGenerator

__all__ = [
    'LatentStem', 'Level1Generator', 'UpsamplingGenerator', 'frame_batch_norms',
    'frame_stats_cache', 'trained_num_frames', 'unroll_generator',
    'Window', 'accumulate_statistics_windowed', 'plan_windows',
    'default_chunk_frames', 'stream_upsample', 'temporal_halo', 'temporal_radius',
    'upsample_chunks'
]
