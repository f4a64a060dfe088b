"""HVG: hierarchical video generation on mmengine."""
from .version import __version__

__all__ = ['__version__']
