"""Helpers for testing Loupe set-ups without a network (never used by Loupe itself).

:mod:`loupe.testing.revm_chain` is an in-process test chain for checkpoint anchoring.
"""
