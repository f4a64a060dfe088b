"""Geometric (hinge) GAN loss."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS


@MODELS.register_module()
class GeometricHingeLoss(nn.Module):
    """Hinge loss of Geometric GAN (Lim & Ye, 2017), as used by BigGAN/DVD-GAN.

    Appendix B: the outputs of all discriminators are concatenated and "the
    loss is averaged over samples and outputs". Scores are ``(B, N)``:
    B samples, N output locations.

    - discriminator: ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``
    - generator: ``-mean(D(fake))``
    """

    def disc_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()

    def gen_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()
