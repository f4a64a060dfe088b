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

    ``burn_in`` (not in the paper; 0 by default): steps run on the first
    frame's input before the first output, their states discarded, so the
    output starts from a state the recurrence has already moved to. Made to
    test whether the zero state is why the demo level 1's first 3 frames
    have 8-12% less high-frequency power than the rest: it is not (trained
    with ``burn_in=3`` the dip stays, docs/reproduction.md, "Where the first
    frame's blur comes from"), and class consistency did not rise either
    (docs/quality.md); kept so that the measurement can be rerun. Costs
    ``burn_in / T`` more recurrent steps.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 use_spectral_norm: bool = True, burn_in: int = 0,
                 padding_mode: str = 'zeros'):
        super().__init__()
        if burn_in < 0:
            raise ValueError(f'burn_in must be >= 0, got {burn_in}')
        self.hidden_channels = hidden_channels
        self.burn_in = burn_in
        self.gates = conv2d(in_channels + hidden_channels, 2 * hidden_channels,
                            use_spectral_norm=use_spectral_norm, padding_mode=padding_mode)
        self.candidate = conv2d(in_channels + hidden_channels, hidden_channels,
                                use_spectral_norm=use_spectral_norm,
                                padding_mode=padding_mode)

    def forward(self, x: Tensor, hidden: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, C_in, H, W) -> (B, T, C_hidden, H, W)."""
        B, _, _, H, W = x.shape
        burn_in = self.burn_in if hidden is None else 0
        if hidden is None:
            hidden = x.new_zeros(B, self.hidden_channels, H, W)
        # Spectral norm recomputes W / sigma at every weight access; cached, the
        # T steps share one normalised weight (and one copy kept for backward).
        with parametrize.cached():
            for _ in range(burn_in):
                hidden = self._step(x[:, 0], hidden)
            outputs = []
            for t in range(x.shape[1]):
                hidden = self._step(x[:, t], hidden)
                outputs.append(hidden)
        return torch.stack(outputs, dim=1)

    def _step(self, x_t: Tensor, hidden: Tensor) -> Tensor:
        reset, update = torch.sigmoid(
            self.gates(torch.cat([x_t, hidden], dim=1))).chunk(2, dim=1)
        candidate = torch.relu(
            self.candidate(torch.cat([x_t, reset * hidden], dim=1)))
        return update * hidden + (1 - update) * candidate
