"""Primitives beneath every other layer: dates, calendars, distributions, random streams,
the event loop, trucks, result records, streaming monitors and errors.

Invariant: nothing in ``gatesim.core`` imports any other gatesim package (checked by the
import-linter contract in pyproject.toml).
"""
