"""Training machinery: hooks and the multi-optimizer constructor."""
from .hooks import (ExactResumeHook, NonFiniteError, NonFiniteGuardHook,
                    VideoReadFailureError, VideoReadFailureHook,
                    VideoSamplesHook)
from .optimizers import MultiOptimWrapperConstructor

__all__ = [
    'ExactResumeHook', 'NonFiniteError', 'NonFiniteGuardHook', 'VideoSamplesHook',
    'MultiOptimWrapperConstructor', 'VideoReadFailureError',
    'VideoReadFailureHook'
]
