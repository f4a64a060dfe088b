"""Per-sample random numbers that do not depend on how the batch is split over ranks.

A training step draws noise for every fake video, the frames the spatial
discriminator looks at, the windows a level is trained on. Drawn naively, each
of W data-parallel ranks draws its own ``b`` values from its own RNG: with
mmengine's default ``randomness.diff_rank_seed=False`` every rank then draws the
same noise (the W fakes of a global batch are W copies), and with different
seeds a W-rank run draws other numbers than one process with batch ``W * b``.

Here every rank draws the numbers of the whole global batch from its RNG (seeded
alike on every rank: ``diff_rank_seed=False``), ``(W * b, ...)``, and keeps rows
``rank, rank + W, rank + 2W, ...`` - the samples mmengine's distributed samplers
give the rank (``indices[rank::world_size]``). So the ranks' samples are
distinct, and W ranks with batch ``b`` draw exactly what one process with batch
``W * b`` draws, sample for sample: a distributed run reproduces a
single-process one (tests/test_engine/test_data_parallel_equivalence.py). The
extra draws cost nothing next to a training step (e.g. 512 x 128 noise values).

With an explicit ``generator`` (seeded sampling and evaluation), the draw is the
caller's business and is not split: it is ``(b, ...)`` from that generator.
"""
from typing import Optional

import torch
from mmengine.dist import get_dist_info
from torch import Tensor


def _draw(draw, batch_size: int, shape, generator: Optional[torch.Generator],
          device) -> Tensor:
    if generator is not None:  # drawn where the generator lives, then moved
        return draw((batch_size, *shape), generator=generator,
                    device=generator.device).to(device)
    rank, world_size = get_dist_info()
    if world_size == 1:
        return draw((batch_size, *shape), device=device)
    return draw((batch_size * world_size, *shape), device=device)[rank::world_size]


def batch_randn(batch_size: int, *shape: int, generator: Optional[torch.Generator] = None,
                device=None) -> Tensor:
    """N(0, 1) values ``(batch_size, *shape)`` for this rank's samples."""
    return _draw(torch.randn, batch_size, shape, generator, device)


def batch_rand(batch_size: int, *shape: int, generator: Optional[torch.Generator] = None,
               device=None) -> Tensor:
    """U[0, 1) values ``(batch_size, *shape)`` for this rank's samples."""
    return _draw(torch.rand, batch_size, shape, generator, device)


def batch_randint(high: int, batch_size: int, *shape: int,
                  generator: Optional[torch.Generator] = None, device=None) -> Tensor:
    """Integers in ``[0, high)``, ``(batch_size, *shape)``, for this rank's samples."""
    def draw(size, **kwargs):
        return torch.randint(high, size, **kwargs)
    return _draw(draw, batch_size, shape, generator, device)
