"""Class consistency (``hvg/evaluation/class_consistency.py``) as a metric."""
from typing import Dict, List, Optional, Sequence

from hvg.registry import METRICS
from ..class_consistency import ClassConsistency
from .base import I3DMetric, VideoBatch


@METRICS.register_module(name=['ClassConsistencyMetric', 'class_consistency'])
class ClassConsistencyMetric(I3DMetric):
    """Are class-conditional samples classified as their class?

    Real clips (labelled) fit a nearest-class-mean classifier on I3D-K400
    pooled features, every ``heldout_every``-th one held out to measure its
    accuracy (the ceiling); generated videos score the fraction classified
    as the class they were generated for. Generated features wait for the
    classifier when it is not fitted yet (``(N, 1024)`` float32, 4 KB a video).

        val_evaluator = dict(type='ClassConsistencyMetric',
                             i3d_weights='work_dirs/i3d/i3d_k400.pth', i3d_size=112)

    Args:
        heldout_every: every n-th real clip is held out.
        classes: every label a rank may hold (None: gathered from the ranks).
        **kwargs: ``I3DMetric``'s.
    """

    levels = 'class_conditional'

    def __init__(self, i3d_weights=None, heldout_every: int = 4,
                 classes: Optional[Sequence[int]] = None, **kwargs):
        self.heldout_every = heldout_every
        self.classes = None if classes is None else list(classes)
        super().__init__(i3d_weights, **kwargs)

    def new_state(self, role: str):
        # real: the classifier and its counts; fake: features waiting for it
        return ClassConsistency(self.heldout_every) if role == 'real' else []

    def check_sample(self, role: str, sample: dict) -> None:
        if int(sample.get('label', -1)) < 0:
            raise ValueError('ClassConsistencyMetric needs labelled real clips and a '
                             'class-conditional model (got label -1)')

    def update(self, role: str, batch: VideoBatch) -> None:
        features = self.extractor(batch.videos)['features']
        if role == 'real':
            self.real.add_real(features, batch.labels, batch.indices)
        elif self.real_done:
            self.real.add_fake(features, batch.labels)
        else:
            self.fake.append((features.float().numpy(), batch.labels))

    def finish_real(self) -> None:
        self.real.finish_real(self.classes)

    def result(self) -> Dict[str, float]:
        waiting: List[tuple] = self.fake
        for features, labels in waiting:
            self.real.add_fake(features, labels)
        waiting.clear()
        return self.real.result()

    def reset(self, keep_real: bool = False) -> None:
        if keep_real and self.real_done:  # the same classifier and ceiling next time
            self.real.reset_fake()
        super().reset(keep_real)
