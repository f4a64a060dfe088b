"""Video transforms: decode (``loading``), augment (``processing``), pack
(``formatting``). Importing this package registers them in ``TRANSFORMS``."""
from .formatting import PackVideoInputs
from .loading import DecordDecode, DecordInit, SampleFrames
from .processing import CenterCrop, Flip, LowResView, RandomCrop, Resize

__all__ = [
    'DecordInit', 'SampleFrames', 'DecordDecode', 'Resize', 'RandomCrop',
    'CenterCrop', 'Flip', 'LowResView', 'PackVideoInputs'
]
