"""Several discriminators judged as one: their outputs are concatenated."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from hvg.registry import MODELS


@MODELS.register_module()
class DiscriminatorGroup(nn.Module):
    """The discriminators of a level, as one module.

    Appendix B.1: "We concatenate the output of both discriminators and use a
    geometric hinge loss"; appendix B.2 adds the matching discriminator for the
    upsampling levels. Keeping them in one module gives the level one optimizer
    and one DDP wrapper for all of its discriminators.

    Args:
        spatial: config of the spatial discriminator, or None.
        temporal: config of the temporal discriminator, or None.
        matching: config of the matching discriminator (upsampling levels), or
            None.

    Shapes: ``forward(video (B, C, T, H, W), labels, lowres (B, C, T_in, h, w))``
    -> scores ``(B, N)``, N being the total number of output locations, in the
    order spatial, temporal, matching. ``lowres`` is required when a matching
    discriminator is configured and ignored otherwise (e.g. the "No MD"
    ablation gets the same inputs as the full model).
    """

    def __init__(self, spatial: Optional[dict] = None, temporal: Optional[dict] = None,
                 matching: Optional[dict] = None):
        super().__init__()
        self.spatial = MODELS.build(spatial) if spatial is not None else None
        self.temporal = MODELS.build(temporal) if temporal is not None else None
        self.matching = MODELS.build(matching) if matching is not None else None
        if self.spatial is None and self.temporal is None and self.matching is None:
            raise ValueError('a DiscriminatorGroup needs at least one discriminator')

    def forward(self, video: Tensor, labels: Optional[Tensor] = None,
                lowres: Optional[Tensor] = None) -> Tensor:
        scores = [d(video, labels) for d in (self.spatial, self.temporal)
                  if d is not None]
        if self.matching is not None:
            if lowres is None:
                raise ValueError('this DiscriminatorGroup has a matching '
                                 'discriminator: pass the low-res input as `lowres`')
            scores.append(self.matching(video, lowres, labels))
        return torch.cat(scores, dim=1)
