"""Power spectrum density per frame (paper appendix D): does a video blur over time?

For chosen frame indices (the paper: 1, 10, 24 and 48 of 48), the radially
averaged power spectrum of each frame is averaged over the videos of a set;
videos are dealt into ``num_sets`` sets by their global index
(``index % num_sets``; the paper: 1800 videos, 3 sets of 600), and the figure
shows the mean and the standard deviation of the sets' averages, real beside
generated. A generator that blurs later frames loses high-frequency power at
those frames only.

Spectrum of one frame: luma ``Y = 0.299 R + 0.587 G + 0.114 B`` in ``[0, 1]``,
``|FFT2(Y)|^2 / (H W)`` centred, averaged over rings of integer radius
``r = 0 .. min(H, W) // 2 - 1`` (cycles per frame).
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

_LUMA = (0.299, 0.587, 0.114)


def radial_power_spectrum(frames: Tensor) -> Tensor:
    """``(N, 3, H, W)`` uint8 frames -> ``(N, min(H, W) // 2)`` float64 spectra."""
    luma = sum(w * frames[:, c].double() for c, w in enumerate(_LUMA)) / 255.0
    height, width = luma.shape[-2:]
    power = torch.fft.fftshift(torch.fft.fft2(luma).abs() ** 2, dim=(-2, -1))
    power = power / (height * width)
    yy, xx = torch.meshgrid(torch.arange(height) - height // 2,
                            torch.arange(width) - width // 2, indexing='ij')
    radius = torch.sqrt(yy.double() ** 2 + xx.double() ** 2).round().long().flatten()
    bins = min(height, width) // 2
    keep = radius < bins
    sums = torch.zeros(power.shape[0], bins, dtype=torch.float64)
    sums.index_add_(1, radius[keep], power.flatten(1)[:, keep])
    counts = torch.bincount(radius[keep], minlength=bins).double()
    return sums / counts


def high_frequency_power(videos: Tensor) -> np.ndarray:
    """``(N, 3, T, H, W)`` uint8 videos -> ``(T,)``: each frame index's mean power in
    the upper half of the spatial frequencies, over the videos.

    The number ``psd_summary`` reports per frame (``psd_high_power_frame{f}``),
    at every frame: a video that blurs at some frames loses it there.
    """
    power = []
    for t in range(videos.shape[2]):
        spectra = radial_power_spectrum(videos[:, :, t])
        power.append(spectra[:, spectra.shape[1] // 2:].mean().item())
    return np.array(power)


class PSDAccumulator:
    """Running sums of per-frame spectra, per set, for one group of videos.

    Args:
        frame_indices: 1-based frame numbers (the paper's 1, 10, 24, 48);
            indices past a video's length are an error.
        num_sets: sets the videos are dealt into (by global index).
    """

    def __init__(self, frame_indices: Sequence[int], num_sets: int = 3):
        if not frame_indices or min(frame_indices) < 1:
            raise ValueError(f'frame_indices are 1-based, got {frame_indices}')
        self.frame_indices = list(frame_indices)
        self.num_sets = num_sets
        self.sums: Optional[np.ndarray] = None  # (sets, frames, bins)
        self.counts = np.zeros(num_sets, np.int64)

    def update(self, videos: Tensor, indices: Sequence[int]) -> None:
        """``videos``: uint8 ``(B, 3, T, H, W)``; ``indices``: their global indices."""
        frames = videos.shape[2]
        if max(self.frame_indices) > frames:
            raise ValueError(f'PSD at frame {max(self.frame_indices)} of {frames}-frame videos')
        spectra = torch.stack([radial_power_spectrum(videos[:, :, f - 1])
                               for f in self.frame_indices], dim=1).numpy()
        if self.sums is None:
            self.sums = np.zeros((self.num_sets, ) + spectra.shape[1:], np.float64)
        for spectrum, index in zip(spectra, indices):
            self.sums[index % self.num_sets] += spectrum
            self.counts[index % self.num_sets] += 1

    def merge(self, other: 'PSDAccumulator') -> 'PSDAccumulator':
        if other.sums is not None:
            if self.sums is None:
                self.sums = np.zeros_like(other.sums)
            self.sums += other.sums
            self.counts += other.counts
        return self

    def all_reduce(self) -> 'PSDAccumulator':
        from mmengine.dist import all_reduce, get_world_size
        if get_world_size() > 1:
            for name in ('sums', 'counts'):
                tensor = torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                all_reduce(tensor, op='sum')
                setattr(self, name, tensor.numpy())
        return self

    def set_means(self) -> np.ndarray:
        """``(sets, frames, bins)``: each set's average spectrum per frame index."""
        if self.sums is None or (self.counts == 0).any():
            raise ValueError(f'every one of the {self.num_sets} PSD sets needs a video, '
                             f'got {self.counts.tolist()}')
        return self.sums / self.counts[:, None, None]

    def to_arrays(self, prefix: str) -> Dict[str, np.ndarray]:
        return {f'{prefix}.sums': self.sums, f'{prefix}.counts': self.counts,
                f'{prefix}.frames': np.array(self.frame_indices)}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> 'PSDAccumulator':
        acc = cls(arrays[f'{prefix}.frames'].tolist(), len(arrays[f'{prefix}.counts']))
        acc.sums = np.array(arrays[f'{prefix}.sums'])
        acc.counts = np.array(arrays[f'{prefix}.counts'])
        return acc


def psd_summary(real: PSDAccumulator, fake: PSDAccumulator) -> Dict[str, float]:
    """Per frame index: mean |log10 PSD_fake - log10 PSD_real| over frequencies, and
    the mean power of the upper half of the frequencies, generated and real."""
    real_mean = real.set_means().mean(axis=0)
    fake_mean = fake.set_means().mean(axis=0)
    if real_mean.shape != fake_mean.shape:
        raise ValueError('real and generated PSDs differ in frames or resolution: '
                         f'{real_mean.shape} vs {fake_mean.shape}')
    gap = np.abs(np.log10(fake_mean) - np.log10(real_mean)).mean(axis=1)
    values = {f'psd_log10_gap_frame{f}': float(g) for f, g in zip(real.frame_indices, gap)}
    # appendix D's question in one number per frame: the power left in the upper
    # half of the spatial frequencies (blur over time lowers it at later frames)
    high = real_mean.shape[1] // 2
    for f, r, g in zip(real.frame_indices, real_mean, fake_mean):
        values[f'psd_high_power_frame{f}'] = float(g[high:].mean())
        values[f'psd_high_power_real_frame{f}'] = float(r[high:].mean())
    return values


def plot_psd(real: PSDAccumulator, fake: PSDAccumulator, path: str) -> None:
    """Write a PNG: one panel per frame index, mean +- std over sets, log scale."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    frames = real.frame_indices
    fig, axes = plt.subplots(1, len(frames), figsize=(3.2 * len(frames), 3), squeeze=False)
    for k, (ax, frame) in enumerate(zip(axes[0], frames)):
        for acc, name, color in ((real, 'real', 'tab:blue'), (fake, 'generated', 'tab:orange')):
            sets = acc.set_means()[:, k]
            mean, std = sets.mean(axis=0), sets.std(axis=0)
            freq = np.arange(len(mean))
            ax.plot(freq, mean, color=color, label=name)
            ax.fill_between(freq, np.maximum(mean - std, 1e-12), mean + std,
                            color=color, alpha=0.25)
        ax.set_yscale('log')
        ax.set_title(f'frame {frame}')
        ax.set_xlabel('spatial frequency (cycles / frame)')
    axes[0][0].set_ylabel('power')
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
