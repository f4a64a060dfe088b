"""Discriminators: spatial (frames), temporal (clips), matching (pairs), group."""
from .group import DiscriminatorGroup
from .matching import MatchingDiscriminator
from .spatial import SpatialDiscriminator
from .temporal import TemporalDiscriminator

__all__ = ['DiscriminatorGroup', 'MatchingDiscriminator', 'SpatialDiscriminator',
           'TemporalDiscriminator']
