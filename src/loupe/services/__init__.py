"""Use cases. Each function takes a SQLAlchemy session, raises ``LoupeError``s and
never commits: the caller (an HTTP request, a CLI command) owns the transaction."""
