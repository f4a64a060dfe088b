"""Several discriminators judged as one: their outputs are concatenated."""
from typing import List, Optional

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

    The group is open: any keyword names a discriminator config. The paper's
    ``spatial``, ``temporal`` and ``matching`` come first, in that order, then
    any others in the config's order; a ``None`` entry leaves one out (the "No MD" ablation sets
    ``matching=None``) and reads back as ``None``. Every member has the one
    call signature ``forward(video, labels=None, lowres=None) -> (B, N_d)``;
    a member that needs no low-res input ignores it. So a new discriminator
    kind is a registered class and a config line.

    Shapes: ``forward(video (B, C, T, H, W), labels, lowres (B, C, T_in, h, w))``
    -> scores ``(B, N)``, N being the total number of output locations of the
    members, in order.
    """

    def __init__(self, spatial: Optional[dict] = None, temporal: Optional[dict] = None,
                 matching: Optional[dict] = None, **others: Optional[dict]):
        super().__init__()
        self.names: List[str] = []
        members = dict(spatial=spatial, temporal=temporal, matching=matching, **others)
        for name, cfg in members.items():
            if cfg is None:
                setattr(self, name, None)
                continue
            self.add_module(name, MODELS.build(cfg))
            self.names.append(name)
        if not self.names:
            raise ValueError('a DiscriminatorGroup needs at least one discriminator')

    def forward(self, video: Tensor, labels: Optional[Tensor] = None,
                lowres: Optional[Tensor] = None) -> Tensor:
        return torch.cat([getattr(self, name)(video, labels, lowres)
                          for name in self.names], dim=1)
