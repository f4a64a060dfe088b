"""Batch normalisation with per-frame statistics and conditional gain/bias."""
from contextlib import contextmanager
from typing import Iterator, List, Mapping, Optional, Tuple

import torch
import torch.distributed as dist
import torch.distributed.nn as dist_nn
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .precision import full_precision
from .spectral import linear


class FrameBatchNorm(nn.Module):
    """BatchNorm over a ``(B, T, C, H, W)`` tensor with statistics per frame.

    Appendix A: "Features are normalized with a per-frame mean and standard
    deviation". Each timestep ``t`` and channel ``c`` is normalised by the mean
    and variance over the batch and the frame's pixels, so the running
    statistics have shape ``(T, C)``. Generators work in the frames-major
    layout ``(B, T, C, H, W)`` so that folding T into the channel axis, for one
    ``F.batch_norm`` call, and folding it into the batch axis, for per-frame 2D
    convolutions, are both free views.

    Other lengths: the buffers are the statistics of the training length, and
    stay so. To normalise a video of another length T', statistics for T'
    frames are supplied for a while (``use_statistics``, which
    ``hvg.models.generators.LengthStatistics.at_length`` calls) and used
    instead of the buffers: the module and its state dict are never resized,
    so a generator sampled at any length is left as trained. In training mode
    the updates land in the supplied tensors (how ``LengthStatistics``
    computes them, appendix A), never in the buffers.

    Windows of a longer video (eval mode): with ``frame_offset = s`` (an int
    instead of the default None), an input of T frames is taken to be frames
    ``[s, s + T)`` of the video the statistics in use are for, and is
    normalised with the statistics of those frames. The generators are
    convolutional in time, so a long video can be generated window by window
    (``hvg.models.generators.stream_upsample``) while every frame still uses
    the statistics of its absolute index. Set it for a whole network with
    ``use_frame_offset``. In training mode a window updates the running
    statistics of its own frames only (how the statistics of a long video are
    recomputed window by window: ``accumulate_statistics_windowed``); training
    a generator uses the whole video.

    Global-synchronous statistics (section 5.1: "global-synchronous batch
    norm"): with ``sync = True`` (``convert_sync_frame_bn``, or the level's
    ``sync_bn`` config key), training-mode statistics are those of the whole
    global batch across all ranks of the default process group, reduced
    differentiably (``torch.distributed.nn``: gloo and NCCL alike), so W ranks
    of b samples normalise like one process with W * b. Without a process
    group (or with one rank) it is the plain path; eval mode never
    communicates.

    When ``cond_dim`` is given, gain and bias are predicted from the condition
    vector (noise, concatenated with the class embedding), BigGAN style:
    ``gain = 1 + W_g c``, ``bias = W_b c``. Otherwise a learned affine per
    channel is used.

    Args:
        num_features: channels C.
        num_frames: timesteps T of the running-statistic buffers (the
            training length; other lengths: ``use_statistics``).
        cond_dim: length of the condition vector, or None for a plain affine.
        use_spectral_norm: spectral norm on the gain and bias layers.
        cond_spectral_norm: overrides ``use_spectral_norm`` for them (None:
            follow it). Spectrally normalised, ``W_g`` has a largest singular
            value of 1 whatever its init: when ``C`` is below ``cond_dim`` its
            rows are orthonormal and every gain is ``1 + N(0, 1)``-like for
            N(0, 1) noise (measured in the demo's level 1: a spread of 0.75
            between samples, 10% of the gains negative), so the noise drowns
            the features and the class. Off, both layers are plain and start
            at zero: the norm is a plain BatchNorm at first and learns how
            much the condition modulates it (as StyleGAN-style modulations
            and zero-initialised AdaIN layers do).
    """

    def __init__(self, num_features: int, num_frames: int,
                 cond_dim: Optional[int] = None, eps: float = 1e-4,
                 momentum: float = 0.1, use_spectral_norm: bool = True,
                 cond_spectral_norm: Optional[bool] = None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.cond_dim = cond_dim
        # None: inputs are the whole video; an int: see "Windows" above.
        self.frame_offset: Optional[int] = None
        self.sync = False  # see "Global-synchronous statistics" above
        # None: the buffers; a (mean, var) pair of (T', C) tensors: see "Other lengths"
        self.supplied_statistics: Optional[Tuple[Tensor, Tensor]] = None
        self.register_buffer('running_mean', torch.zeros(num_frames, num_features))
        self.register_buffer('running_var', torch.ones(num_frames, num_features))
        if cond_dim is None:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            normalised = use_spectral_norm if cond_spectral_norm is None else \
                cond_spectral_norm
            self.gain = linear(cond_dim, num_features, bias=False,
                               use_spectral_norm=normalised)
            self.offset = linear(cond_dim, num_features, bias=False,
                                 use_spectral_norm=normalised)
            if not normalised:
                nn.init.zeros_(self.gain.weight)
                nn.init.zeros_(self.offset.weight)

    @property
    def statistics(self) -> Tuple[Tensor, Tensor]:
        """The running ``(mean, var)`` in use, each ``(num_frames, C)``.

        The supplied ones while ``use_statistics`` is active, else the buffers.
        """
        if self.supplied_statistics is None:
            return self.running_mean, self.running_var
        return self.supplied_statistics

    @property
    def num_frames(self) -> int:
        """Frames of the statistics in use: the training length, unless supplied."""
        return self.statistics[0].shape[0]

    def statistics_for(self, num_frames: int) -> Tuple[Tensor, Tensor]:
        """Running ``(mean, var)``, each ``(num_frames, C)``, of the input's frames.

        Views of the statistics in use, so that training-mode updates land in
        them (a window's in its own frames).
        """
        mean, var = self.statistics
        if self.frame_offset is None:
            if num_frames != self.num_frames:
                raise ValueError(
                    f'FrameBatchNorm has statistics for {self.num_frames} frames '
                    f'but got a video of {num_frames} frames. Per-frame statistics '
                    'are tied to the length: train at the configured length, or '
                    'sample inside LengthStatistics.at_length(num_frames) (statistics '
                    'recomputed for the new length).')
            return mean, var
        start, stop = self.frame_offset, self.frame_offset + num_frames
        if start < 0 or stop > self.num_frames:
            raise ValueError(
                f'a window of {num_frames} frames at frame_offset={start} covers '
                f'frames [{start}, {stop}), outside the {self.num_frames} frames this '
                'FrameBatchNorm has statistics for: use the statistics of the whole '
                'video length (LengthStatistics.at_length)')
        return mean[start:stop], var[start:stop]

    def forward(self, x: Tensor, cond: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, C, H, W); cond: (B, cond_dim) when conditional.

        Statistics, running statistics and the affine run in fp32 under
        autocast (``precision.py``); the output has the input's dtype.
        """
        with full_precision(x.device.type):
            out = self._forward_fp32(x.float(), None if cond is None else cond.float())
        return out.to(x.dtype)

    def _forward_fp32(self, x: Tensor, cond: Optional[Tensor]) -> Tensor:
        B, T, C, H, W = x.shape
        mean, var = self.statistics_for(T)
        if self.training and self.sync and _world_size() > 1:
            normed = self._synced_batch_norm(x, mean, var)
        else:
            normed = F.batch_norm(
                x.reshape(B, T * C, H, W), mean.view(-1), var.view(-1),
                training=self.training, momentum=self.momentum,
                eps=self.eps).view(B, T, C, H, W)
        if self.cond_dim is None:
            gain, bias = self.weight.view(1, C), self.bias.view(1, C)
        else:
            if cond is None:
                raise ValueError('this FrameBatchNorm is conditional: pass `cond`')
            gain, bias = 1 + self.gain(cond), self.offset(cond)
        return normed * gain.view(-1, 1, C, 1, 1) + bias.view(-1, 1, C, 1, 1)

    def _synced_batch_norm(self, x: Tensor, running_mean: Tensor,
                           running_var: Tensor) -> Tensor:
        """Normalise with the per-frame statistics of the global batch.

        Each rank contributes its sample count n_i, per-(frame, channel) mean
        m_i and sum of squared deviations M2_i; they are combined exactly
        (Chan et al.: M2 = sum M2_i + sum n_i (m_i - m)^2), which avoids the
        cancellation of E[x^2] - E[x]^2. One differentiable all-reduce of a
        (world, 2 T C + 1) tensor in which each rank fills its own row: the
        backward pass sums every rank's gradient into each contribution.
        Running statistics get the global mean and unbiased variance.
        """
        B, T, C, H, W = x.shape
        rank, world = dist.get_rank(), dist.get_world_size()
        local_mean = x.mean(dim=(0, 3, 4))  # (T, C)
        local_m2 = (x - local_mean.view(1, T, C, 1, 1)).pow(2).sum(dim=(0, 3, 4))
        count = x.new_full((1, ), float(B * H * W))
        row = torch.cat([local_mean.flatten(), local_m2.flatten(), count])
        table = torch.cat([row.new_zeros(rank, row.numel()), row[None],
                           row.new_zeros(world - rank - 1, row.numel())])
        table = dist_nn.all_reduce(table)  # (world, 2 T C + 1), every rank's row
        means = table[:, :T * C].view(world, T, C)
        m2s = table[:, T * C:2 * T * C].view(world, T, C)
        counts = table[:, -1].view(world, 1, 1)
        total = counts.sum()
        mean = (counts * means).sum(0) / total
        m2 = m2s.sum(0) + (counts * (means - mean).pow(2)).sum(0)
        var = m2 / total
        with torch.no_grad():
            running_mean.mul_(1 - self.momentum).add_(mean.detach(), alpha=self.momentum)
            running_var.mul_(1 - self.momentum).add_(
                m2.detach() / (total - 1).clamp(min=1), alpha=self.momentum)
        return (x - mean.view(1, T, C, 1, 1)) * torch.rsqrt(
            var.view(1, T, C, 1, 1) + self.eps)

    def extra_repr(self) -> str:
        return (f'{self.num_features}, num_frames={self.num_frames}, '
                f'cond_dim={self.cond_dim}' + (', sync=True' if self.sync else ''))


def _world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def convert_sync_frame_bn(module: nn.Module, sync: bool = True) -> nn.Module:
    """Switch global-synchronous statistics on (or off) for every FrameBatchNorm."""
    for norm in module.modules():
        if isinstance(norm, FrameBatchNorm):
            norm.sync = sync
    return module


def frame_batch_norms(module: nn.Module) -> List[FrameBatchNorm]:
    """Every FrameBatchNorm in ``module``, in ``named_modules`` order."""
    return [m for m in module.modules() if isinstance(m, FrameBatchNorm)]


@contextmanager
def use_statistics(module: nn.Module,
                   statistics: Mapping[str, Tuple[Tensor, Tensor]]) -> Iterator[None]:
    """Normalise with ``statistics`` instead of the buffers, for a ``with`` block.

    ``statistics`` maps the name of every FrameBatchNorm in ``module`` (as in
    ``module.named_modules()``) to its ``(mean, var)``, each ``(T, C)``, one T
    for all: inside, the module normalises T-frame videos (or windows of them,
    ``frame_offset``). The tensors are used as they are, not copied: in
    training mode the updates land in them. The buffers are not touched, and
    what was in use before is restored on exit, errors included.
    """
    norms = {name: m for name, m in module.named_modules() if isinstance(m, FrameBatchNorm)}
    if set(statistics) != set(norms):
        missing = sorted(set(norms) - set(statistics))
        extra = sorted(set(statistics) - set(norms))
        raise ValueError(f'statistics must name every FrameBatchNorm of the module: '
                         f'missing {missing[:3]}, unknown {extra[:3]}')
    lengths = {mean.shape[0] for mean, _ in statistics.values()}
    for name, (mean, var) in statistics.items():
        shape = (mean.shape[0], norms[name].num_features)
        if tuple(mean.shape) != shape or tuple(var.shape) != shape or len(lengths) > 1:
            raise ValueError(f'statistics of {name!r} are {tuple(mean.shape)} and '
                             f'{tuple(var.shape)}: expected (T, {shape[1]}) with one T '
                             f'for every norm (got lengths {sorted(lengths)})')
    saved = {name: norm.supplied_statistics for name, norm in norms.items()}
    for name, norm in norms.items():
        norm.supplied_statistics = statistics[name]
    try:
        yield
    finally:
        for name, norm in norms.items():
            norm.supplied_statistics = saved[name]


@contextmanager
def use_frame_offset(module: nn.Module, frame_offset: Optional[int]) -> Iterator[None]:
    """Set ``frame_offset`` on every FrameBatchNorm in ``module`` for a ``with`` block.

    Inside, an input of T frames is frames ``[frame_offset, frame_offset + T)``
    of the video the statistics in use are for (eval mode only); None means the
    whole video, the default. The previous values are restored on exit, errors
    included, so a failed window cannot leave a network offset.
    """
    norms = frame_batch_norms(module)
    saved = [norm.frame_offset for norm in norms]
    for norm in norms:
        norm.frame_offset = frame_offset
    try:
        yield
    finally:
        for norm, offset in zip(norms, saved):
            norm.frame_offset = offset
