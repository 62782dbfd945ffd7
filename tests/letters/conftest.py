"""Fixtures for the letters tests (the world itself lives in letterworld.py)."""

from letterworld import refused_at_receive, world, world_template

__all__ = ["refused_at_receive", "world", "world_template"]
