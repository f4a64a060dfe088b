"""What the steps of a level's ``train_step`` hand each other.

``unpack`` turns preprocessed data into a ``LevelBatch``; ``real_sample`` and
``generate_fake`` both return a ``Sample``, which ``discriminate`` scores. Typed
so that a new level (or a new discriminator) sees what it gets, and a typo is
an error where it is made rather than a ``KeyError`` three calls later.
"""
from dataclasses import dataclass
from typing import Optional

from torch import Tensor


@dataclass
class LevelBatch:
    """One training batch of a level.

    Attributes:
        real: the real clips ``x_l``, ``(B, C, T, H, W)`` in [-1, 1].
        labels: ``(B,)`` classes of a class-conditional level, else None.
        lowres: upsampling levels: the real low-res view ``x_{l-1}`` of
            ``real`` (the paper's S and T operators), ``(B, C, T_in, h, w)``.
    """
    real: Tensor
    labels: Optional[Tensor] = None
    lowres: Optional[Tensor] = None

    @property
    def size(self) -> int:
        return self.real.shape[0]


@dataclass
class Sample:
    """What the discriminators judge: a video and, for an upsampling level,
    the low-res video it is paired with (the matching discriminator's input).
    """
    video: Tensor
    lowres: Optional[Tensor] = None
