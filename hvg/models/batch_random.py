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
from typing import Optional, Sequence, Union

import numpy as np
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


# --- seeds that name videos ------------------------------------------------------------
def mix_seed(seed: int, *salt: int) -> int:
    """A well-mixed 63-bit seed of ``(seed, *salt)``: distinct inputs, unrelated streams.

    ``seed + i`` would make video 1 of seed 0 the video 0 of seed 1; mixed,
    ``(s, i)`` names one video and nothing else.
    """
    words = [int(seed) % 2**63, *(int(s) % 2**63 for s in salt)]
    state = np.random.SeedSequence(words).generate_state(2, np.uint32)
    return int(state[0]) << 31 ^ int(state[1])


def per_video_randn(seeds: Sequence[int], *shape: int, device=None) -> Tensor:
    """N(0, 1) ``(len(seeds), *shape)``: row ``i`` from its own generator, seeded ``seeds[i]``.

    A video's numbers then depend on its seed alone, not on the batch it is
    drawn in or the rank that draws it.
    """
    rows = [torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds]
    return torch.stack(rows).to(device)


def per_video_randint(high: int, seeds: Sequence[int], device=None) -> Tensor:
    """One integer in ``[0, high)`` per seed (``(len(seeds),)``), as ``per_video_randn``."""
    values = [int(torch.randint(high, (1, ), generator=torch.Generator().manual_seed(s)))
              for s in seeds]
    return torch.tensor(values, device=device)


Seed = Union[None, int, Sequence[int]]


def draw_noise_and_labels(num: int, dim: int, num_classes: int, seed: Seed,
                          need_labels: bool):
    """``(noise (num, dim), labels (num,) or None)`` of a level's sampling.

    ``seed``: None draws from the global RNG (split by rank, as training);
    an int from one generator, the noise then the labels (a batch's numbers);
    a sequence, one seed per video: each video's noise and label from its own
    seed alone (``mix_seed(s, 0)``, ``mix_seed(s, 1)``), whatever the batch.
    """
    if seed is None or isinstance(seed, int):
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        noise = batch_randn(num, dim, generator=rng)
        labels = batch_randint(num_classes, num, generator=rng) if need_labels else None
        return noise, labels
    seeds = list(seed)
    if len(seeds) != num:
        raise ValueError(f'{len(seeds)} seeds for {num} videos: pass one per video')
    noise = per_video_randn([mix_seed(s, 0) for s in seeds], dim)
    labels = (per_video_randint(num_classes, [mix_seed(s, 1) for s in seeds])
              if need_labels else None)
    return noise, labels
