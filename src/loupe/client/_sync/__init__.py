# Generated from loupe/client/_async/__init__.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""The client and its resources, written once with async/await.

``loupe/client/_sync`` is their blocking twin, generated from this package by
``python -m loupe.client._unasync``: edit here, then regenerate.
"""
