"""The transparent payment ledger's pure domain: an RFC 6962 / RFC 9162 Merkle log.

* :mod:`loupe.ledger.merkle`: the append-only log over a pluggable :class:`TreeStore`.
* :mod:`loupe.ledger.entries`: canonical, personal-data-free payment entry bytes.
* :mod:`loupe.ledger.checkpoint`: signed tree heads (C2SP checkpoint in a signed note).
* :mod:`loupe.ledger.verify`: the stand-alone verifier contributors can copy and run.

No database or web code lives here; see ``docs/ledger.md``.
"""
