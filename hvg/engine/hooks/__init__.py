from .exact_resume_hook import ExactResumeHook
from .nonfinite_guard_hook import NonFiniteError, NonFiniteGuardHook
from .safe_checkpoint_hook import (CheckpointResumeError, CheckpointSaveError,
                                   SafeCheckpointHook)
from .video_read_failure_hook import (VideoReadFailureError,
                                      VideoReadFailureHook)
from .video_samples_hook import VideoSamplesHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'NonFiniteError', 'NonFiniteGuardHook', 'VideoSamplesHook', 'ExactResumeHook',
    'CheckpointResumeError', 'CheckpointSaveError', 'SafeCheckpointHook',
    'WeightsOnlyCheckpointHook', 'VideoReadFailureError', 'VideoReadFailureHook'
]
