"""Labelling: handing out work under leases, answers, reviews, escalations, and an
item's labelling life (``lifecycle``, the one owner of its counters and consensus)."""
