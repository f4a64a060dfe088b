"""Building blocks shared by generators and discriminators."""
from .conditional_bn import (FrameBatchNorm, convert_sync_frame_bn, frame_batch_norms,
                             use_frame_offset, use_statistics)
from .conv_gru import ConvGRU
from .minibatch_std import MinibatchStd
from .resample import repeat_frames, resize_frames
from .resblocks import (DiscResBlock, GenResBlock2d, GenResBlock3dSeparable,
                        SeparableConv3d, per_frame, upsample_frames)
from .precision import full_precision
from .spectral import (FullPrecisionSpectralNorm, conv2d, conv3d, embedding,
                       init_and_normalise, linear, spectral_norm)

__all__ = [
    'FrameBatchNorm', 'convert_sync_frame_bn', 'frame_batch_norms', 'use_frame_offset',
    'use_statistics', 'ConvGRU', 'DiscResBlock', 'MinibatchStd', 'GenResBlock2d',
    'GenResBlock3dSeparable', 'SeparableConv3d', 'per_frame', 'upsample_frames',
    'repeat_frames', 'resize_frames', 'conv2d', 'conv3d', 'embedding',
    'init_and_normalise', 'linear', 'full_precision', 'FullPrecisionSpectralNorm',
    'spectral_norm'
]
