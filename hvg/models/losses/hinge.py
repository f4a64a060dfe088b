"""Geometric (hinge) GAN loss."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hvg.registry import MODELS
from ..layers.precision import full_precision


@MODELS.register_module()
class GeometricHingeLoss(nn.Module):
    """Hinge loss of Geometric GAN (Lim & Ye, 2017), as used by BigGAN/DVD-GAN.

    Appendix B: the outputs of all discriminators are concatenated and "the
    loss is averaged over samples and outputs". Scores are ``(B, N)``:
    B samples, N output locations.

    - discriminator: ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``
    - generator: ``-mean(D(fake))``

    Always in fp32, scores cast up, autocast off (see
    ``hvg.models.layers.precision``): a bf16 mean of many scores rounds away
    the differences the gradients come from.
    """

    def disc_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        with full_precision(real_scores.device.type):
            return (F.relu(1 - real_scores.float()).mean()
                    + F.relu(1 + fake_scores.float()).mean())

    def gen_loss(self, fake_scores: Tensor) -> Tensor:
        with full_precision(fake_scores.device.type):
            return -fake_scores.float().mean()
