"""`gfo-native demo`: each capability in a short, honest showcase.

Each section is a module here exposing ``run(quick: bool) -> str``; a section whose optional dependency is
missing raises ``Skip`` (or ImportError) and the demo says so instead of failing.
"""

from ._runner import SECTIONS, Skip, run_demo

__all__ = ["SECTIONS", "Skip", "run_demo"]
