"""The HTTP layer: a thin adapter from requests to services."""
