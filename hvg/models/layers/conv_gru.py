"""Convolutional GRU over the time axis of a frames-major ``(B, T, C, H, W)`` tensor."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.utils import parametrize

from .spectral import conv2d


class ConvGRU(nn.Module):
    """ConvGRU as in DVD-GAN: sigmoid gates, ReLU candidate.

    Section 3 / appendix B.1: the level-1 generator models time with a ConvGRU
    "that uses a ReLU non-linearity to compute the ConvGRU update". The hidden
    state starts at zero and the output is the sequence of hidden states.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 use_spectral_norm: bool = True):
        super().__init__()
        self.hidden_channels = hidden_channels
        self.gates = conv2d(in_channels + hidden_channels, 2 * hidden_channels,
                            use_spectral_norm=use_spectral_norm)
        self.candidate = conv2d(in_channels + hidden_channels, hidden_channels,
                                use_spectral_norm=use_spectral_norm)

    def forward(self, x: Tensor, hidden: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, C_in, H, W) -> (B, T, C_hidden, H, W)."""
        B, _, _, H, W = x.shape
        if hidden is None:
            hidden = x.new_zeros(B, self.hidden_channels, H, W)
        # Spectral norm recomputes W / sigma at every weight access; cached, the
        # T steps share one normalised weight (and one copy kept for backward).
        with parametrize.cached():
            outputs = self._unroll(x, hidden)
        return torch.stack(outputs, dim=1)

    def _unroll(self, x: Tensor, hidden: Tensor) -> list:
        outputs = []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            reset, update = torch.sigmoid(
                self.gates(torch.cat([x_t, hidden], dim=1))).chunk(2, dim=1)
            candidate = torch.relu(
                self.candidate(torch.cat([x_t, reset * hidden], dim=1)))
            hidden = update * hidden + (1 - update) * candidate
            outputs.append(hidden)
        return outputs
