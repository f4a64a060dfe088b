"""Pack a processed clip into what the data preprocessor receives."""
from typing import Any, Dict, Optional, Sequence

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


def _clip_to_tensor(imgs: Any, key: str) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 array -> ``(3, T, H, W)`` uint8 tensor."""
    if (not isinstance(imgs, np.ndarray) or imgs.ndim != 4
            or imgs.shape[-1] != 3 or imgs.dtype != np.uint8):
        described = (f'{imgs.dtype} {imgs.shape}' if isinstance(
            imgs, np.ndarray) else type(imgs).__name__)
        raise ValueError(f'{key} must be (T, H, W, 3) uint8, got {described}')
    return torch.from_numpy(np.ascontiguousarray(imgs)).permute(
        3, 0, 1, 2).contiguous()


@TRANSFORMS.register_module()
class PackVideoInputs(BaseTransform):
    """Turn ``imgs`` into a ``(C, T, H, W)`` uint8 tensor plus plain metadata.

    The output stays uint8 (4x less memory through the dataloader than
    float); the data preprocessor converts the batch to ``[-1, 1]`` once.
    ``data_samples`` is a plain dict of tensors and strings, so the configs'
    ``collate_fn=dict(type='default_collate')`` stacks it into a batch.

    An upsampling level trains on pairs (``LowResView``): with
    ``input_keys=dict(highres='imgs', lowres='lowres_imgs')`` the ``inputs``
    are a dict of such tensors, which ``default_collate`` turns into
    ``{'highres': (B, 3, T, H, W), 'lowres': (B, 3, T', h, w)}``.

    Required keys:
        - imgs: ``(T, H, W, 3)`` uint8 (or every value of ``input_keys``)
        - the ``meta_keys`` (``label`` may be missing: it then reads -1,
          "unconditional")
    Added keys:
        - inputs: ``(3, T, H, W)`` uint8 tensor, or with ``input_keys`` a
          dict ``{name: (3, T, H, W) uint8 tensor}``
        - data_samples: dict of the ``meta_keys``; ``label`` is a long scalar
          tensor, ``filename`` a str, ``frame_inds`` a long tensor

    Args:
        meta_keys: keys of ``results`` copied into ``data_samples``.
        input_keys: ``None`` (``inputs`` is the ``imgs`` tensor) or a dict
            ``{name in inputs: key in results}``.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('filename', 'frame_inds',
                                             'label'),
                 input_keys: Optional[Dict[str, str]] = None) -> None:
        self.meta_keys = tuple(meta_keys)
        if input_keys is not None:
            if not isinstance(input_keys, dict) or not input_keys:
                raise ValueError('input_keys must be None or a non-empty dict '
                                 f'{{name: results key}}, got {input_keys!r}')
            input_keys = dict(input_keys)
        self.input_keys = input_keys

    def transform(self, results: dict) -> dict:
        if self.input_keys is None:
            inputs = _clip_to_tensor(results['imgs'], 'imgs')
        else:
            inputs = {}
            for name, key in self.input_keys.items():
                if key not in results:
                    raise KeyError(
                        f'PackVideoInputs: input key {key!r} (for {name!r}) '
                        f'is not in the results (keys: {sorted(results)})')
                inputs[name] = _clip_to_tensor(results[key], key)

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
        extra = ('' if self.input_keys is None else
                 f', input_keys={self.input_keys}')
        return (f'{self.__class__.__name__}(meta_keys={self.meta_keys}'
                f'{extra})')
