"""Orthogonally initialised layers with optional spectral normalisation.

Appendix A: "orthogonal initialization for all the weights ... spectral
normalization both in the generator and the discriminator. We only use the
first singular value". PyTorch's ``spectral_norm`` parametrization estimates
exactly that first singular value with one power iteration per step.
"""
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm


def init_and_normalise(module: nn.Module, use_spectral_norm: bool = True) -> nn.Module:
    """Orthogonal weight init, zero bias, then (optionally) spectral norm."""
    nn.init.orthogonal_(module.weight)
    if getattr(module, 'bias', None) is not None:
        nn.init.zeros_(module.bias)
    return spectral_norm(module) if use_spectral_norm else module


def conv2d(in_channels: int, out_channels: int, kernel_size: int = 3,
           use_spectral_norm: bool = True) -> nn.Module:
    """Stride-1 'same' 2D convolution (appendix A: 3x3, padding 1)."""
    return init_and_normalise(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        use_spectral_norm)


def conv3d(in_channels: int, out_channels: int, kernel_size=3,
           use_spectral_norm: bool = True) -> nn.Module:
    """Stride-1 'same' 3D convolution; ``kernel_size`` may be a (t, h, w) tuple."""
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, ) * 3
    padding = tuple(k // 2 for k in kernel_size)
    return init_and_normalise(
        nn.Conv3d(in_channels, out_channels, kernel_size, padding=padding),
        use_spectral_norm)


def linear(in_features: int, out_features: int, bias: bool = True,
           use_spectral_norm: bool = True) -> nn.Module:
    return init_and_normalise(
        nn.Linear(in_features, out_features, bias=bias), use_spectral_norm)


def embedding(num_embeddings: int, embedding_dim: int,
              use_spectral_norm: bool = True) -> nn.Module:
    return init_and_normalise(
        nn.Embedding(num_embeddings, embedding_dim), use_spectral_norm)
