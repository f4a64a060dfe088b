"""Orthogonally initialised layers with optional spectral normalisation.

Appendix A: "orthogonal initialization for all the weights ... spectral
normalization both in the generator and the discriminator. We only use the
first singular value". The parametrization below estimates exactly that first
singular value with one power iteration per step, as PyTorch's
``torch.nn.utils.parametrizations.spectral_norm`` does, in fp32 under autocast.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils import parametrize

from .precision import full_precision


class FullPrecisionSpectralNorm(nn.Module):
    """``W / sigma(W)``, sigma estimated by power iteration, always in fp32.

    The same algorithm, state and state-dict keys (``..._u``, ``..._v``) as
    PyTorch's ``spectral_norm`` parametrization, and the same random draws at
    construction, so checkpoints and seeded runs are unchanged. The one
    difference: the iteration and sigma run with autocast disabled, on the
    fp32 weight (see ``precision.py``: under CUDA fp16 autocast ``torch.mv``
    would round the running ``u, v`` to fp16 every step). The normalised
    weight is returned in fp32; the layer's own op (a conv, under autocast)
    casts it as it casts any weight.

    Args:
        weight: the weight to normalise, at least 2-D; rows along ``dim`` 0
            (conv, linear and embedding weights alike).
        n_power_iterations: iterations per training-mode forward (appendix A: 1).
        eps: added in the normalisations.
    """

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, eps: float = 1e-12):
        super().__init__()
        if weight.ndim < 2:
            raise ValueError(f'spectral norm needs a weight of 2 or more dimensions, '
                             f'got shape {tuple(weight.shape)}')
        if n_power_iterations < 1:
            raise ValueError(f'n_power_iterations must be >= 1, got {n_power_iterations}')
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        weight_mat = weight.detach().flatten(1)
        h, w = weight_mat.shape
        u = weight_mat.new_empty(h).normal_(0, 1)
        v = weight_mat.new_empty(w).normal_(0, 1)
        self.register_buffer('_u', F.normalize(u, dim=0, eps=eps))
        self.register_buffer('_v', F.normalize(v, dim=0, eps=eps))
        self._power_method(weight_mat, 15)  # start from reasonable singular vectors

    @torch.no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # In place (out=): DataParallel replicas share the buffers' storage.
        for _ in range(n_power_iterations):
            self._u = F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps,
                                  out=self._u)
            self._v = F.normalize(torch.mv(weight_mat.H, self._u), dim=0, eps=self.eps,
                                  out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        with full_precision(weight.device.type):
            weight = weight.float()
            weight_mat = weight.flatten(1)
            if self.training:
                self._power_method(weight_mat, self.n_power_iterations)
            # clones: the buffers change in place in the next forward, and a GAN
            # backpropagates through two (D(real) and D(fake))
            u = self._u.clone(memory_format=torch.contiguous_format)
            v = self._v.clone(memory_format=torch.contiguous_format)
            sigma = torch.vdot(u, torch.mv(weight_mat, v))
            return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: nn.Module, name: str = 'weight') -> nn.Module:
    """Parametrize ``module.<name>`` with ``FullPrecisionSpectralNorm``."""
    parametrize.register_parametrization(
        module, name, FullPrecisionSpectralNorm(getattr(module, name)))
    return module


def init_and_normalise(module: nn.Module, use_spectral_norm: bool = True) -> nn.Module:
    """Orthogonal weight init, zero bias, then (optionally) spectral norm."""
    nn.init.orthogonal_(module.weight)
    if getattr(module, 'bias', None) is not None:
        nn.init.zeros_(module.bias)
    return spectral_norm(module) if use_spectral_norm else module


PADDING_MODES = ('zeros', 'reflect', 'replicate')


def conv2d(in_channels: int, out_channels: int, kernel_size: int = 3,
           use_spectral_norm: bool = True, padding_mode: str = 'zeros') -> nn.Module:
    """Stride-1 'same' 2D convolution (appendix A: 3x3, padding 1).

    ``padding_mode`` is ``nn.Conv2d``'s: ``'zeros'`` (the paper's), or
    ``'reflect'`` / ``'replicate'`` (see ``UpsamplingGenerator``).
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f'padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}')
    return init_and_normalise(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                  padding_mode=padding_mode),
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
