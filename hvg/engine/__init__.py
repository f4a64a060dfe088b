"""Training machinery: hooks and the multi-optimizer constructor."""
from .hooks import (CheckpointResumeError, CheckpointSaveError, ExactResumeHook,
                    NonFiniteError, NonFiniteGuardHook, SafeCheckpointHook,
                    VideoReadFailureError, VideoReadFailureHook, VideoSamplesHook)
from .optimizers import MultiOptimWrapperConstructor
from .runner import HVGRunner

__all__ = [
    'CheckpointResumeError', 'CheckpointSaveError', 'SafeCheckpointHook',
    'ExactResumeHook', 'NonFiniteError', 'NonFiniteGuardHook', 'VideoSamplesHook',
    'MultiOptimWrapperConstructor', 'VideoReadFailureError',
    'VideoReadFailureHook', 'HVGRunner'
]
