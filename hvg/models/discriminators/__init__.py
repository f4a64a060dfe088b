"""Discriminators: spatial (frames), temporal (clips), and their group."""
from .group import DiscriminatorGroup
from .spatial import SpatialDiscriminator
from .temporal import TemporalDiscriminator

__all__ = ['DiscriminatorGroup', 'SpatialDiscriminator', 'TemporalDiscriminator']
