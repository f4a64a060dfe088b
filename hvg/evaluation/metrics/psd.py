"""Power spectrum density per frame (appendix D): generated against real clips."""
import os
from typing import Dict, Optional, Sequence

from mmengine.dist import get_dist_info

from hvg.registry import METRICS
from ..protocol import quantize_videos
from ..psd import PSDAccumulator, plot_psd, psd_summary
from .base import VideoBatch, VideoMetric


@METRICS.register_module(name=['PSDMetric', 'psd'])
class PSDMetric(VideoMetric):
    """``psd_log10_gap_frame{f}``: the mean |log10 PSD gap| at chosen frames.

    Args:
        frames: 1-based frame numbers; None: first, middle and last.
        sets: sets the videos are dealt into (by global index).
        plot: also write the figure (mean +- std over sets) to this PNG.
        **kwargs: ``VideoMetric``'s.
    """

    def __init__(self, frames: Optional[Sequence[int]] = None, sets: int = 3,
                 plot: Optional[str] = None, **kwargs):
        self.frames = None if frames is None else [int(f) for f in frames]
        self.sets, self.plot = sets, plot
        super().__init__(**kwargs)

    def prepare(self, shape: Sequence[int]) -> None:
        if self.frames is None:
            num_frames = shape[1]
            self.frames = sorted({1, (num_frames + 1) // 2, num_frames})

    def new_state(self, role: str) -> Optional[PSDAccumulator]:
        # the frames may wait for the first videos (prepare)
        return None if self.frames is None else PSDAccumulator(self.frames, self.sets)

    def update(self, role: str, batch: VideoBatch) -> None:
        self.prepare(batch.videos.shape[1:])
        state = self.real if role == 'real' else self.fake
        state.update(quantize_videos(batch.videos).cpu(), batch.indices)

    def finish_real(self) -> None:
        self.real.all_reduce()

    def result(self) -> Dict[str, float]:
        self.fake.all_reduce()
        values = psd_summary(self.real, self.fake)
        if self.plot and get_dist_info()[0] == 0:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(self.plot)), exist_ok=True)
                plot_psd(self.real, self.fake, self.plot)
                self.artifacts['psd_plot'] = self.plot
            except Exception as error:  # a figure never costs the numbers
                print(f'warning: PSD plot not written ({error!r})', flush=True)
        return values

    def real_key(self) -> dict:
        return dict(frames=self.frames, sets=self.sets)

    def real_arrays(self) -> dict:
        return self.real.to_arrays('psd')

    def load_real_arrays(self, arrays) -> bool:
        if 'psd.sums' not in arrays:
            return False
        self.real = PSDAccumulator.from_arrays(arrays, 'psd')
        return True
