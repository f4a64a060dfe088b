"""Run a generator at a length it was not trained at (appendix A)."""
from typing import Callable, List, Sequence

import torch
import torch.nn as nn

from ..layers import FrameBatchNorm


def frame_batch_norms(module: nn.Module) -> List[FrameBatchNorm]:
    return [m for m in module.modules() if isinstance(m, FrameBatchNorm)]


@torch.no_grad()
def unroll_generator(generator: nn.Module, num_frames: int,
                     make_inputs: Callable[[], Sequence], num_passes: int = 200) -> None:
    """Set ``generator`` to produce ``num_frames`` frames, with fresh statistics.

    The generators are convolutional (or recurrent) in time, but their
    BatchNorm statistics are per frame, so a new length needs new statistics.
    Appendix A: "We perform 200 'dummy' forward passes to recompute the
    per-timestep batch normalization statistics at test time". The running
    statistics become the plain average of the ``num_passes`` batches'
    statistics (momentum 1/k at pass k). Only the BatchNorms run in train
    mode; everything else (spectral-norm power iterations included) stays in
    eval mode, so no weight changes. The generator is left in eval mode.

    Args:
        generator: a generator with a ``num_frames`` attribute.
        num_frames: the new output length.
        make_inputs: returns the positional inputs of one dummy pass at the new
            length, e.g. ``(noise, lowres, labels)``.
        num_passes: dummy forward passes (paper: 200).
    """
    norms = frame_batch_norms(generator)
    generator.num_frames = num_frames
    for norm in norms:
        norm.reset_num_frames(num_frames)
    momenta = [norm.momentum for norm in norms]
    generator.eval()
    try:
        for norm in norms:
            norm.training = True  # not norm.train(): its spectral-norm gain/offset stay in eval
        for k in range(1, num_passes + 1):
            for norm in norms:
                norm.momentum = 1.0 / k
            generator(*make_inputs())
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        generator.eval()
