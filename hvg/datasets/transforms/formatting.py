"""Pack a processed clip into what the data preprocessor receives."""
from typing import Any, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from hvg.registry import TRANSFORMS


def _to_collatable(value: Any) -> Any:
    """Make a meta value batchable by ``torch.utils.data.default_collate``.

    Arrays and numbers become tensors, strings stay strings (collated into a
    list), anything else is passed through unchanged.
    """
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, (bool, int, float, np.number, tuple)):
        return torch.tensor(value)
    return value


@TRANSFORMS.register_module()
class PackVideoInputs(BaseTransform):
    """Turn ``imgs`` into a ``(C, T, H, W)`` uint8 tensor plus plain metadata.

    The output stays uint8 (4x less memory through the dataloader than
    float); the data preprocessor converts the batch to ``[-1, 1]`` once.
    ``data_samples`` is a plain dict of tensors and strings, so the configs'
    ``collate_fn=dict(type='default_collate')`` stacks it into a batch.

    Required keys:
        - imgs: ``(T, H, W, 3)`` uint8
        - the ``meta_keys`` (``label`` may be missing: it then reads -1,
          "unconditional")
    Added keys:
        - inputs: ``(3, T, H, W)`` uint8 tensor
        - data_samples: dict of the ``meta_keys``; ``label`` is a long scalar
          tensor, ``filename`` a str, ``frame_inds`` a long tensor

    Args:
        meta_keys: keys of ``results`` copied into ``data_samples``.
    """

    def __init__(
        self, meta_keys: Sequence[str] = ('filename', 'frame_inds', 'label')
    ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if imgs.ndim != 4 or imgs.shape[-1] != 3 or imgs.dtype != np.uint8:
            raise ValueError('imgs must be (T, H, W, 3) uint8, got '
                             f'{imgs.dtype} {imgs.shape}')
        inputs = torch.from_numpy(imgs).permute(3, 0, 1, 2).contiguous()

        data_samples = {}
        for key in self.meta_keys:
            if key == 'label':
                data_samples[key] = torch.tensor(
                    int(results.get('label', -1)), dtype=torch.long)
            elif key in results:
                data_samples[key] = _to_collatable(results[key])
            else:
                # Every sample must carry the same keys or collation fails
                # later, far from the cause.
                raise KeyError(f'PackVideoInputs: meta key {key!r} is not in '
                               f'the results (keys: {sorted(results)})')
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
