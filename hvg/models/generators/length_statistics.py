"""Per-length BatchNorm statistics of a generator, owned by whoever samples it.

The generators are convolutional (or recurrent) in time, but their BatchNorm
statistics are per frame, so a length other than the training length needs
statistics of its own: appendix A recomputes them with 200 "dummy" forward
passes. ``LengthStatistics`` computes them, keeps them per length (the passes
cost as much as sampling 200 batches) and puts them in use for a ``with``
block::

    stats = LengthStatistics(generator)
    stats.prepare(48, make_inputs)         # 200 dummy passes, once per length
    with stats.at_length(48):
        video = generator(noise, lowres)   # lowres of 48 / temporal_factor frames

The generator is never resized nor written to: its ``num_frames`` stays the
training length and its buffers the trained statistics, so its state dict (a
checkpoint) is the same before and after sampling at any length. What depends
on the lengths sampled lives in this object, which the sampler owns (a
``Hierarchy`` holds one per level), not in hidden attributes of the generator.
"""
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from hvg.utils.progress import progress

from ..layers import FrameBatchNorm, frame_batch_norms, use_statistics
from .streaming import accumulate_statistics_windowed

# {FrameBatchNorm name in the generator: (running_mean, running_var)}, each (T, C)
Statistics = Dict[str, Tuple[Tensor, Tensor]]


class LengthStatistics:
    """The per-frame BatchNorm statistics of one generator, for every length sampled.

    The training length (``generator.num_frames``) needs nothing: its
    statistics are the generator's own buffers, live, so they follow training
    and checkpoint loading. Any other length is computed once by ``prepare``
    and kept here; ``at_length`` puts a length's statistics in use. The cache
    is keyed by length only: after changing the weights, or to draw the dummy
    inputs differently, ``prepare(..., refresh=True)``.

    Args:
        generator: a generator whose ``num_frames`` is its training length
            (``Level1Generator``, ``UpsamplingGenerator``).
    """

    def __init__(self, generator: nn.Module):
        self.generator = generator
        self._cache: Dict[int, Statistics] = {}

    @property
    def trained_frames(self) -> int:
        """The training length: that of the generator's own statistics."""
        return self.generator.num_frames

    @property
    def lengths(self) -> List[int]:
        """The other lengths with statistics here, sorted."""
        return sorted(self._cache)

    def __contains__(self, num_frames: int) -> bool:
        return num_frames == self.trained_frames or num_frames in self._cache

    def __getitem__(self, num_frames: int) -> Statistics:
        """The statistics for ``num_frames`` frames (e.g. to save them).

        At the training length, the generator's buffers themselves.
        """
        if num_frames == self.trained_frames:
            return {name: (m.running_mean, m.running_var)
                    for name, m in self.generator.named_modules()
                    if isinstance(m, FrameBatchNorm)}
        if num_frames not in self._cache:
            raise KeyError(f'no BatchNorm statistics for {num_frames} frames: prepare '
                           'them first (LengthStatistics.prepare)')
        return self._cache[num_frames]

    def __setitem__(self, num_frames: int, statistics: Mapping[str, Tuple[Tensor, Tensor]]
                    ) -> None:
        """Take statistics for ``num_frames`` frames computed elsewhere (e.g. loaded).

        Checked against the generator: every FrameBatchNorm, ``(num_frames, C)``
        each. The training length's are the generator's buffers (load a
        checkpoint to change them).
        """
        if num_frames == self.trained_frames:
            raise ValueError(f'{num_frames} frames is the training length: its statistics '
                             "are the generator's own buffers")
        with use_statistics(self.generator, statistics):  # checks names and shapes
            frames = frame_batch_norms(self.generator)[0].num_frames
        if frames != num_frames:
            raise ValueError(f'statistics for {frames} frames given for {num_frames}')
        self._cache[num_frames] = dict(statistics)

    @torch.no_grad()
    def prepare(self, num_frames: int, make_inputs: Callable[[], Sequence],
                num_passes: int = 200, seed: Optional[int] = None, refresh: bool = False,
                chunk_frames: Optional[int] = None, desc: Optional[str] = None) -> bool:
        """Compute the statistics for ``num_frames`` frames, unless they are here.

        Appendix A: "We perform 200 'dummy' forward passes to recompute the
        per-timestep batch normalization statistics at test time". The
        statistics are the plain average of the ``num_passes`` batches'
        statistics (momentum 1/k at pass k, from the initial zeros and ones).
        Only the FrameBatchNorms run in training mode, on statistics of their
        own (``use_statistics``): everything else, spectral-norm power
        iterations included, runs in eval mode, and no weight or buffer of the
        generator changes. Its modes, momenta and ``sync`` switches are put
        back afterwards, errors included; a failed computation keeps nothing.

        Reproducibility: with a ``seed``, the dummy passes run on a fork of the
        global RNG (CPU and CUDA) seeded with it, so ``make_inputs`` draws the
        same inputs every time and the caller's RNG stream is left as it was.

        Args:
            num_frames: the output length.
            make_inputs: returns the positional inputs of one dummy pass at that
                length, drawn from the global RNG: ``(noise, lowres, labels)``
                for an upsampling generator, ``(noise, labels, num_frames)``
                for level 1.
            num_passes: dummy forward passes (paper: 200).
            seed: seeds the RNG the dummy inputs are drawn from; None draws from
                the global RNG as it is (and advances it).
            refresh: recompute even if ``num_frames`` is cached (the training
                length is never recomputed: it is the generator's own).
            chunk_frames: run every dummy pass window by window
                (``accumulate_statistics_windowed``: the same statistics, to
                float rounding, in the memory of one window of ``chunk_frames``
                plus the halos, whatever ``num_frames`` is). Upsampling
                generators only; None runs each pass over the whole video.
            desc: show a progress bar of the passes with this title (they take
                minutes at the paper's 200); None shows nothing.

        Returns:
            True if the statistics were computed, False if they were here.
        """
        if num_passes < 1:
            raise ValueError(f'num_passes must be >= 1, got {num_passes}')
        if num_frames == self.trained_frames or (num_frames in self._cache and not refresh):
            return False
        bar = progress(total=num_passes, desc=desc or '', unit='pass', disable=desc is None)
        try:
            self._cache[num_frames] = self._compute(num_frames, make_inputs, num_passes,
                                                    seed, chunk_frames, bar.update)
        finally:
            bar.close()
        return True

    def _compute(self, num_frames: int, make_inputs: Callable[[], Sequence],
                 num_passes: int, seed: Optional[int], chunk_frames: Optional[int],
                 on_pass: Callable[[], object]) -> Statistics:
        generator = self.generator
        named = [(name, m) for name, m in generator.named_modules()
                 if isinstance(m, FrameBatchNorm)]
        # a fresh FrameBatchNorm's initial values (pass 1, momentum 1, replaces them)
        statistics = {name: (m.running_mean.new_zeros(num_frames, m.num_features),
                             m.running_var.new_ones(num_frames, m.num_features))
                      for name, m in named}
        norms = [m for _, m in named]
        modes = [(m, m.training) for m in generator.modules()]
        momenta = [norm.momentum for norm in norms]
        # the passes are a local, seeded estimate: every rank computes the same
        # statistics itself, without synchronised BatchNorm (which would pool the
        # ranks' identical batches and change the unbiased variance)
        syncs = [norm.sync for norm in norms]
        try:
            generator.eval()
            for norm in norms:
                # not norm.train(): its spectral-norm gain/offset stay in eval
                norm.training = True
                norm.sync = False
            with use_statistics(generator, statistics), \
                    torch.random.fork_rng(enabled=seed is not None):
                if seed is not None:
                    torch.manual_seed(seed)
                for k in range(1, num_passes + 1):
                    for norm in norms:
                        norm.momentum = 1.0 / k
                    if chunk_frames is None:
                        generator(*make_inputs())
                    else:
                        accumulate_statistics_windowed(generator, *make_inputs(),
                                                       chunk_frames=chunk_frames)
                    on_pass()
        finally:
            for norm, momentum, sync in zip(norms, momenta, syncs):
                norm.momentum = momentum
                norm.sync = sync
            for module, training in modes:
                module.training = training
        return statistics

    @contextmanager
    def at_length(self, num_frames: int) -> Iterator[None]:
        """Inside, the generator makes ``num_frames``-frame videos with their statistics.

        At the training length the generator is used as it is. At another,
        the statistics of ``prepare`` are supplied to every FrameBatchNorm and
        taken back on exit, errors included; windows (``frame_offset``, as
        in ``stream_upsample``) index them by absolute frame. Sample in eval
        mode: in training mode a pass would update the cached statistics.
        """
        if num_frames == self.trained_frames:
            yield
            return
        statistics = self[num_frames]
        if any(norm.training for norm in frame_batch_norms(self.generator)):
            raise RuntimeError('sample at another length in eval mode (generator.eval()): '
                               'in training mode every pass would update its statistics')
        with use_statistics(self.generator, statistics):
            yield
