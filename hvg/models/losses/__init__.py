"""GAN losses."""
from .hinge import GeometricHingeLoss

__all__ = ['GeometricHingeLoss']
