"""Run a generator at a length it was not trained at (appendix A).

The generators are convolutional (or recurrent) in time, but their BatchNorm
statistics are per frame, so a new length needs new statistics: appendix A
recomputes them with 200 "dummy" forward passes. Those passes cost as much as
sampling 200 batches, so the statistics of every length a generator has been
set to are kept on it (``frame_stats_cache``), with those of its training
length: switching back to a length restores its statistics without a pass.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from ..layers import FrameBatchNorm

# {num_frames: {FrameBatchNorm name in the generator: (running_mean, running_var)}}
FrameStats = Dict[int, Dict[str, Tuple[Tensor, Tensor]]]
_CACHE_ATTR = '_frame_bn_cache'
_TRAINED_LENGTH_ATTR = '_frame_bn_trained_length'


def frame_batch_norms(module: nn.Module) -> List[FrameBatchNorm]:
    return [m for m in module.modules() if isinstance(m, FrameBatchNorm)]


def frame_stats_cache(generator: nn.Module) -> FrameStats:
    """The per-length statistics kept on ``generator`` (empty before any unroll).

    A plain attribute, not a buffer: it is not part of the state dict, so
    checkpoints keep the training length's statistics only.
    """
    return getattr(generator, _CACHE_ATTR, {})


def trained_num_frames(generator: nn.Module) -> int:
    """The length ``generator`` had before it was first unrolled: its training length."""
    return getattr(generator, _TRAINED_LENGTH_ATTR, generator.num_frames)


def _snapshot(generator: nn.Module) -> Dict[str, Tuple[Tensor, Tensor]]:
    return {name: (m.running_mean.clone(), m.running_var.clone())
            for name, m in generator.named_modules() if isinstance(m, FrameBatchNorm)}


def _set_length(generator: nn.Module, num_frames: int,
                stats: Optional[Dict[str, Tuple[Tensor, Tensor]]] = None) -> None:
    """Resize every FrameBatchNorm to ``num_frames``; fill in ``stats`` if given."""
    generator.num_frames = num_frames
    for name, norm in generator.named_modules():
        if not isinstance(norm, FrameBatchNorm):
            continue
        norm.reset_num_frames(num_frames)
        if stats is not None:
            mean, var = stats[name]
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var)


@torch.no_grad()
def unroll_generator(generator: nn.Module, num_frames: int,
                     make_inputs: Callable[[], Sequence], num_passes: int = 200,
                     seed: Optional[int] = None, refresh: bool = False,
                     chunk_frames: Optional[int] = None) -> bool:
    """Set ``generator`` to produce ``num_frames`` frames, with statistics for them.

    Appendix A: "We perform 200 'dummy' forward passes to recompute the
    per-timestep batch normalization statistics at test time". The running
    statistics become the plain average of the ``num_passes`` batches'
    statistics (momentum 1/k at pass k). Only the BatchNorms run in train
    mode; everything else (spectral-norm power iterations included) stays in
    eval mode, so no weight changes. The generator is left in eval mode.

    Cache: before switching, the current statistics are stored on the
    generator under its current length (the first time, that is the training
    length). A length already in the cache is restored from it with no pass,
    so going back and forth between the training length and an unrolled one
    (or between two unrolled ones) costs nothing after the first time. The
    cache is keyed by length only: after changing the weights, or to draw the
    dummy inputs differently, pass ``refresh=True``.

    Reproducibility: with a ``seed``, the dummy passes run on a fork of the
    global RNG (CPU and CUDA) seeded with it, so ``make_inputs`` draws the same
    inputs every time and the caller's RNG stream is left as it was.

    Args:
        generator: a generator with a ``num_frames`` attribute.
        num_frames: the new output length.
        make_inputs: returns the positional inputs of one dummy pass at the new
            length, e.g. ``(noise, lowres, labels)``, drawn from the global RNG.
        num_passes: dummy forward passes (paper: 200).
        seed: seeds the RNG the dummy inputs are drawn from; None draws from
            the global RNG as it is (and advances it).
        refresh: recompute even if ``num_frames`` is cached.
        chunk_frames: run every dummy pass window by window
            (``accumulate_statistics_windowed``: the same statistics, to float
            rounding, in the memory of one window of ``chunk_frames`` plus the
            halos, whatever ``num_frames`` is). Upsampling generators only,
            whose inputs are ``(noise, lowres, labels)``; None runs each pass
            over the whole video.

    Returns:
        True if the statistics were recomputed, False if restored from the cache.
    """
    # streaming builds on this module (trained_num_frames): import here
    from .streaming import accumulate_statistics_windowed
    if num_passes < 1:
        raise ValueError(f'num_passes must be >= 1, got {num_passes}')
    norms = frame_batch_norms(generator)
    cache = frame_stats_cache(generator)
    if not hasattr(generator, _TRAINED_LENGTH_ATTR):
        setattr(generator, _TRAINED_LENGTH_ATTR, generator.num_frames)
        setattr(generator, _CACHE_ATTR, cache)
    # the live statistics are the truth for the current length (training may
    # have moved them since they were cached)
    cache[generator.num_frames] = _snapshot(generator)
    generator.eval()
    if num_frames in cache and not refresh:
        _set_length(generator, num_frames, cache[num_frames])
        return False

    previous = generator.num_frames
    _set_length(generator, num_frames)
    momenta = [norm.momentum for norm in norms]
    # the passes are a local, seeded estimate: every rank computes the same
    # statistics itself, without synchronised BatchNorm (which would pool the
    # ranks' identical batches and change the unbiased variance)
    syncs = [norm.sync for norm in norms]
    try:
        for norm in norms:
            norm.training = True  # not norm.train(): its spectral-norm gain/offset stay in eval
            norm.sync = False
        with torch.random.fork_rng(enabled=seed is not None):
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
    except BaseException:
        # half-averaged statistics must not be taken for this length's later
        _set_length(generator, previous, cache[previous])
        raise
    finally:
        for norm, momentum, sync in zip(norms, momenta, syncs):
            norm.momentum = momentum
            norm.sync = sync
        generator.eval()
    cache[num_frames] = _snapshot(generator)
    return True
