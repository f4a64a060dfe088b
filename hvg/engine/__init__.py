"""Training machinery: hooks and the multi-optimizer constructor."""
from .hooks import (NonFiniteError, NonFiniteGuardHook, VideoReadFailureError,
                    VideoReadFailureHook, VideoSamplesHook)
from .optimizers import MultiOptimWrapperConstructor

__all__ = [
    'NonFiniteError', 'NonFiniteGuardHook', 'VideoSamplesHook',
    'MultiOptimWrapperConstructor', 'VideoReadFailureError',
    'VideoReadFailureHook'
]
