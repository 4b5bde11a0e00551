"""Loupe: a human-in-the-loop data engine.

``import loupe`` stays light: it imports neither FastAPI nor SQLAlchemy.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
