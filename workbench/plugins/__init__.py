"""Plugin protocols and discovery: engines, channels and taggers, one small protocol each."""

from .registry import GROUPS, available, load, names

__all__ = ["GROUPS", "available", "load", "names"]
