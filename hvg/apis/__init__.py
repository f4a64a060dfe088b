"""Load trained hierarchies, sample and evaluate them (used by tools and tests)."""
from .evaluate import build_metrics, evaluate_config, evaluate_hierarchy
from .hierarchy import Hierarchy, hierarchy_checkpoints, levels_side_by_side
from .real_clips import eval_dataset_cfg, real_batches

__all__ = [
    'Hierarchy', 'hierarchy_checkpoints', 'levels_side_by_side', 'evaluate_hierarchy',
    'evaluate_config', 'build_metrics', 'eval_dataset_cfg', 'real_batches'
]
