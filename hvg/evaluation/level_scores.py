"""Per-level scores of a hierarchy's samples: FVD, grounding, class consistency.

``tools/test.py`` samples the hierarchy batch by batch (``Hierarchy.sample(...,
return_inputs=True)``: every level's output and input) and feeds each batch to
``LevelScores.update``; only statistics are kept (Frechet sums, per-pair
scalars, counts), never the videos. The real side comes from each level's own
dataset (``real_clips``): ``real_grounding`` (pairs ``x_l, T(S(x_l))``, the
ceiling) and ``real_class_consistency`` (the fitted classifier and its
held-out accuracy). Keys are ``level{l}/...`` with ``l`` from 1.
"""
from typing import Dict, List, Optional, Sequence

from torch import Tensor

from .class_consistency import ClassConsistency
from .feature_stats import FeatureStats
from .frechet import frechet_distance
from .grounding import GroundingAccumulator, grounding_summary
from .real_clips import real_batches
from .video_stats import VideoSetStats


def real_grounding(dataset_cfg: dict, num_real: int, seed: int, batch_size: int,
                   workers: int = 0) -> GroundingAccumulator:
    """Grounding scores of real pairs (``dataset_cfg`` from ``eval_dataset_cfg(...,
    lowres=...)``), gathered from every rank."""
    scores = GroundingAccumulator(mismatched=False)
    for batch in real_batches(dataset_cfg, num_real, seed, batch_size, workers):
        scores.update(batch['video']['lowres'], batch['video']['highres'])
    return scores.all_gather()


def real_class_consistency(extractor, dataset_cfg: dict, num_real: int, seed: int,
                           batch_size: int, workers: int = 0, heldout_every: int = 4,
                           classes: Optional[Sequence[int]] = None) -> ClassConsistency:
    """The nearest-class-mean classifier fitted on real clips, held-out clips scored."""
    score = ClassConsistency(heldout_every)
    for batch in real_batches(dataset_cfg, num_real, seed, batch_size, workers, classes):
        score.add_real(extractor(batch['video'])['features'], batch['label'].tolist(),
                       batch['index'].tolist())
    score.finish_real(classes)
    return score


class LevelScores:
    """Generated-side statistics of every level of a hierarchy, streamed.

    Args:
        extractor: the ``I3DExtractor``.
        num_levels: levels of the hierarchy.
        fvd_levels: 0-based levels (not the final one: its FVD is the main
            ``fvd``) whose output gets Frechet statistics of I3D logits.
        grounding_levels: 0-based upsampling levels to score against their input.
        consistency: ``{0-based level: fitted ClassConsistency}``.
    """

    def __init__(self, extractor, num_levels: int, fvd_levels: Sequence[int] = (),
                 grounding_levels: Sequence[int] = (),
                 consistency: Optional[Dict[int, ClassConsistency]] = None):
        if any(i <= 0 or i >= num_levels for i in grounding_levels):
            raise ValueError(f'grounding scores upsampling levels (1..{num_levels - 1} '
                             f'0-based), got {list(grounding_levels)}')
        self.extractor, self.final = extractor, num_levels - 1
        self.fvd = {i: FeatureStats(extractor.num_classes) for i in fvd_levels
                    if i != self.final}
        self.grounding = {i: GroundingAccumulator() for i in grounding_levels}
        self.consistency = dict(consistency or {})

    def update(self, outputs: Sequence[Tensor], inputs: Sequence[Optional[Tensor]],
               labels: Optional[Tensor], final_embeddings: Optional[dict] = None) -> None:
        """One batch: every level's output ``(B, 3, T_l, H_l, W_l)`` in [-1, 1],
        what each level was given (``inputs[0] = None``), the labels and,
        to save an I3D pass, the final output's embeddings."""
        for i, video in enumerate(outputs):
            need_fvd, need_cc = i in self.fvd, i in self.consistency
            if not (need_fvd or need_cc):
                continue
            if i == self.final and final_embeddings is not None:
                embeddings = final_embeddings
            else:
                embeddings = self.extractor(video.cpu())
            if need_fvd:
                self.fvd[i].update(embeddings['logits'])
            if need_cc:
                if labels is None:
                    raise ValueError('class consistency needs a class-conditional model')
                self.consistency[i].add_fake(embeddings['features'], labels.tolist())
        for i, scores in self.grounding.items():
            scores.update(inputs[i], outputs[i])

    def result(self, real_fvd: Dict[int, VideoSetStats],
               real_grounding: Dict[int, GroundingAccumulator],
               cov_ddof: int = 1) -> Dict[str, float]:
        """``level{l}/fvd``, ``level{l}/grounding_*``, ``level{l}/class_consistency``...
        (every rank's statistics combined; call on every rank)."""
        out: Dict[str, float] = {}
        for i, stats in sorted(self.fvd.items()):
            stats.all_reduce()
            out[f'level{i + 1}/fvd'] = frechet_distance(*real_fvd[i].fvd.mean_cov(cov_ddof),
                                                        *stats.mean_cov(cov_ddof))
        for i, scores in sorted(self.grounding.items()):
            scores.all_gather()
            for key, value in grounding_summary(scores, real_grounding.get(i)).items():
                out[f'level{i + 1}/{key}'] = value
        for i, score in sorted(self.consistency.items()):
            for key, value in score.result().items():
                out[f'level{i + 1}/{key}'] = value
        return out


def levels_with_classes(levels: Sequence) -> List[int]:
    """0-based levels whose generator is class-conditional."""
    return [i for i, level in enumerate(levels)
            if getattr(level.generator, 'num_classes', 0)]
