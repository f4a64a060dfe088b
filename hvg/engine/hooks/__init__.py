from .exact_resume_hook import ExactResumeHook
from .nonfinite_guard_hook import NonFiniteError, NonFiniteGuardHook
from .video_read_failure_hook import (VideoReadFailureError,
                                      VideoReadFailureHook)
from .video_samples_hook import VideoSamplesHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'ExactResumeHook', 'NonFiniteError', 'NonFiniteGuardHook', 'VideoSamplesHook',
    'WeightsOnlyCheckpointHook', 'VideoReadFailureError', 'VideoReadFailureHook'
]
