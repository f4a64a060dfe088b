"""The one way levels are chained: level 1 from noise, each next level upsamples.

Training an upsampling level on frozen previous levels (eq. 3), sampling a
trained hierarchy, validation and evaluation all make their videos here, so
they cannot drift apart (seeds, windows, what each level is given).
"""
from contextlib import nullcontext
from typing import Callable, ContextManager, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .batch_random import Seed, batch_randint, mix_seed, per_video_randint

# at_length(level index, frames the level is given (level 1: makes), the
# level's seed): a context each level samples in, e.g. one that puts its
# BatchNorm statistics for that length in use (``LengthStatistics.at_length``)
AtLengthFn = Callable[[int, int, Optional[int]], ContextManager]


def random_windows(video: Tensor, length: int,
                   generator: Optional[torch.Generator] = None,
                   seeds: Optional[Sequence[int]] = None) -> Tensor:
    """A random window of ``length`` consecutive frames per sample (partial view).

    video: (B, C, T, H, W) -> (B, C, length, H, W). The starts come from
    ``generator`` (or the global RNG, split by rank), or with ``seeds`` one
    per video from its own seed.
    """
    B, _, T = video.shape[:3]
    if length > T:
        raise ValueError(f'cannot take a {length}-frame window of a {T}-frame video')
    starts = (per_video_randint(T - length + 1, seeds) if seeds is not None else
              batch_randint(T - length + 1, B, generator=generator))
    return torch.stack([v[:, s:s + length] for v, s in zip(video, starts.tolist())])


@torch.no_grad()
def run_levels(levels: Sequence, num: int, labels: Optional[Tensor], noise_std: float = 1.0,
               seed: Seed = None,
               windows: Optional[Sequence[Optional[int]]] = None,
               at_length: Optional[AtLengthFn] = None, chunk_frames: Optional[int] = None,
               level1_frames: Optional[int] = None
               ) -> Tuple[List[Tensor], List[Optional[Tensor]]]:
    """Every level's output and what each level was given, level 1 first.

    Args:
        levels: a level 1 (``sample(num, labels, noise_std, seed)``) then
            upsampling levels (``sample(lowres, labels, noise_std, seed)``).
        num: videos.
        labels: (num,) classes of a class-conditional hierarchy, else None.
        noise_std: scale of every level's noise.
        seed: with an int, every level's noise and every window comes from it
            (the same seed, the same videos) and the global RNG is untouched;
            None draws from the global RNG, split by rank like every
            per-sample draw of training (``batch_random``); a sequence of
            ``num`` seeds names each video: its noise at every level and its
            windows come from its seed alone, whatever the batch or the rank.
        windows: ``windows[i]`` for ``i >= 1``: level ``i`` is given a random
            window of this many frames of the output below (partial views, as
            in training); None, or a shorter list, gives it the whole output
            (the paper's inference). ``windows[0]`` is ignored.
        at_length: level ``i`` samples inside ``at_length(i, input_frames,
            level_seed)`` (level 1: its output frames); None: no context.
        chunk_frames: passed to the upsampling levels (window-by-window
            sampling, ``stream_upsample``); None runs them whole.
        level1_frames: frames level 1 makes (an unrolled length); None: its
            training length.

    Returns:
        ``(outputs, inputs)``: ``outputs[i]`` is level ``i + 1``'s video;
        ``inputs[0]`` is None and ``inputs[i]`` the low-res video level
        ``i + 1`` upsampled.
    """
    per_video = seed is not None and not isinstance(seed, int)
    rng = torch.Generator().manual_seed(seed) if isinstance(seed, int) else None
    if per_video:
        if len(seed) != num:
            raise ValueError(f'{len(seed)} seeds for {num} videos: pass one per video')
        seeds: List = [[mix_seed(s, 2, k) for s in seed] for k in range(len(levels))]
    elif rng is None:
        seeds = [None] * len(levels)
    else:
        seeds = torch.randint(2**31, (len(levels), ), generator=rng).tolist()
    windows = list(windows or [])
    context = at_length or (lambda *args: nullcontext())
    first = levels[0]
    length = dict(num_frames=level1_frames) if level1_frames else {}
    with context(0, level1_frames or first.generator.num_frames, seeds[0]):
        outputs = [first.sample(num, labels=labels, noise_std=noise_std, seed=seeds[0],
                                **length)]
    inputs: List[Optional[Tensor]] = [None]
    for index in range(1, len(levels)):
        level, lowres = levels[index], outputs[-1]
        length = windows[index] if index < len(windows) else None
        if length is not None:
            lowres = random_windows(lowres, length, generator=rng, seeds=[
                mix_seed(s, 3, index) for s in seed] if per_video else None)
        inputs.append(lowres)
        kwargs = dict(chunk_frames=chunk_frames) if chunk_frames else {}
        with context(index, lowres.shape[2], seeds[index]):
            outputs.append(level.sample(lowres, labels=labels, noise_std=noise_std,
                                        seed=seeds[index], **kwargs))
    return outputs, inputs


def training_windows(levels: Sequence) -> List[Optional[int]]:
    """Each upsampling level given a window of its training input length."""
    return [None] + [level.input_frames for level in levels[1:]]
