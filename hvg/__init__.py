"""HVG: hierarchical video generation on mmengine."""
from .utils import safe_checkpoint  # noqa: F401  (every checkpoint load weights-only)
from .version import __version__

__all__ = ['__version__']
