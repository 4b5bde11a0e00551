"""The HTTP API's request and response bodies, one module per API area.

A shape shared by many routers lives in ``common`` (pages, errors) or ``media``; one
that another area embeds (``UserOut``, ``MemberOut``, ``TaskOut``) stays with the area
that owns it. The package sits beside ``api``, not in it: ``loupe.web.errors`` and
``loupe.web.params`` use these shapes and are themselves imported by ``loupe.web.api``.
"""
