"""Load trained hierarchies and sample them (used by tools and tests)."""
from .hierarchy import Hierarchy, hierarchy_checkpoints, levels_side_by_side

__all__ = ['Hierarchy', 'hierarchy_checkpoints', 'levels_side_by_side']
