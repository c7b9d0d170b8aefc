"""Vécu: the Total Experience feedback assistant (domain package)."""

__version__ = "0.1.0"
