"""Mixed precision for the level GANs: bf16 where the device has it, else fp16.

``tools/train.py --amp`` (or a config's ``optim_wrapper.<network>.type=
'MixedPrecisionOptimWrapper'``) runs every G and D step under
``torch.autocast``. bf16 has fp32's exponent range, so its gradients need no
loss scaling; fp16 does (dynamic: ``torch.amp.GradScaler``). mmengine's own
``AmpOptimWrapper`` refuses to build without CUDA and defaults to fp16; this
one also runs on the CPU (bf16 autocast), so the test suite covers the path
GPUs take. What stays fp32 inside the autocast region is said in
``hvg.models.layers.precision``; how a step whose fp16 gradients overflowed is
skipped, in ``BaseLevelGAN.apply_update``.
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from hvg.registry import OPTIM_WRAPPERS

DTYPES = dict(bfloat16=torch.bfloat16, float16=torch.float16)


def default_device_type() -> str:
    """Where training runs: 'cuda' if there is a GPU, else 'cpu'."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def bf16_supported(device_type: str) -> bool:
    """bf16 autocast: every CPU (PyTorch emulates it where AVX-512 BF16 is
    missing); on CUDA, Ampere and newer."""
    if device_type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return device_type == 'cpu'


def amp_dtype(dtype: Union[str, torch.dtype], device_type: str) -> torch.dtype:
    """The autocast dtype: ``'auto'`` is bf16 where supported, else fp16."""
    if isinstance(dtype, torch.dtype):
        dtype = str(dtype).replace('torch.', '')
    if dtype == 'auto':
        return torch.bfloat16 if bf16_supported(device_type) else torch.float16
    if dtype not in DTYPES:
        raise ValueError(f"amp dtype must be 'auto', 'bfloat16' or 'float16', got {dtype!r}")
    if dtype == 'bfloat16' and not bf16_supported(device_type):
        raise ValueError(f'this {device_type} device has no bf16 support (CUDA needs '
                         "compute capability 8.0+): use dtype='float16' or 'auto'")
    return DTYPES[dtype]


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(AmpOptimWrapper):
    """An ``AmpOptimWrapper`` that picks bf16 where it can and runs on the CPU.

    Args:
        dtype: ``'auto'`` (bf16 where supported, else fp16), ``'bfloat16'`` or
            ``'float16'``.
        loss_scale: fp16 only (bf16 is never scaled): ``'dynamic'``, an
            initial scale (float, kept fixed), or a dict of ``GradScaler``
            arguments, as mmengine's ``AmpOptimWrapper``.
        device_type: 'cuda' or 'cpu'; None: 'cuda' if available.
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``...).

    A subclass for its backward/step/state-dict logic (the scaler's state is
    saved and resumed as mmengine's is); its ``__init__`` is not called, since
    that one asserts CUDA and builds a CUDA-only scaler.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 device_type: Optional[str] = None, **kwargs):
        OptimWrapper.__init__(self, **kwargs)  # pylint: disable=non-parent-init-called
        self.device_type = device_type or default_device_type()
        self.cast_dtype = amp_dtype(dtype, self.device_type)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            scaler_args = {}
        elif isinstance(loss_scale, (int, float)) and not isinstance(loss_scale, bool):
            self._scale_update_param = float(loss_scale)
            scaler_args = dict(init_scale=float(loss_scale))
        elif isinstance(loss_scale, dict):
            scaler_args = dict(loss_scale)
        else:
            raise TypeError("loss_scale must be 'dynamic', a float or a dict of "
                            f'GradScaler arguments, got {loss_scale!r}')
        self.loss_scaler = torch.amp.GradScaler(
            self.device_type, enabled=self.cast_dtype == torch.float16, **scaler_args)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with OptimWrapper.optim_context(self, model), torch.autocast(
                self.device_type, dtype=self.cast_dtype):
            yield

    def load_state_dict(self, state_dict: dict) -> None:
        # a bf16 (unscaled) run resumed in fp16 or back: the scaler starts afresh
        scaler_state = state_dict.get('loss_scaler')
        if not scaler_state or not self.loss_scaler.is_enabled():
            state_dict.pop('loss_scaler', None)
        super().load_state_dict(state_dict)


def use_mixed_precision(optim_wrapper_cfg: dict, dtype: str = 'auto') -> None:
    """Turn every per-network wrapper of a config into a mixed-precision one.

    What ``tools/train.py --amp`` does: ``type='MixedPrecisionOptimWrapper'``
    with ``dtype`` (a config's own ``dtype`` and ``loss_scale`` are kept).
    """
    for wrapper in optim_wrapper_cfg.values():
        if isinstance(wrapper, dict):
            wrapper['type'] = 'MixedPrecisionOptimWrapper'
            wrapper.setdefault('dtype', dtype)
            wrapper.setdefault('loss_scale', 'dynamic')
