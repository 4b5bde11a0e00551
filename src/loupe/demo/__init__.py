"""Loupe's own demo data: generated here, never read from a third-party corpus."""
