"""A synthetic batch of a level config's clip shape, for tools that need no data.

Benchmarks, FLOP counts and memory sweeps run a level's real ``train_step``;
the values of the pixels do not matter to them, only the shapes the data
pipeline would produce (``(x_l, x_{l-1})`` pairs for an upsampling level).
"""
import torch
from mmengine.config import Config

from .config_checks import level_num_classes


def random_clip(batch_size: int, frames: int, size: int) -> torch.Tensor:
    """uint8 ``(B, 3, T, S, S)``, as ``PackVideoInputs`` and ``default_collate`` make."""
    return torch.randint(0, 256, (batch_size, 3, frames, size, size), dtype=torch.uint8)


def example_batch(cfg: Config, batch_size: int) -> dict:
    """A collated batch of the shape the config's data pipeline produces."""
    gen = cfg.model.generator
    inputs = random_clip(batch_size, gen.num_frames, gen.out_size)
    if 'in_size' in gen:  # an upsampling level: (x_l, x_{l-1}) pairs
        lowres = random_clip(batch_size, gen.num_frames // gen.temporal_factor,
                             gen.in_size)
        inputs = dict(highres=inputs, lowres=lowres)
    labels = torch.randint(0, max(level_num_classes(cfg.model), 1), (batch_size, ))
    return dict(inputs=inputs, data_samples=dict(label=labels))
