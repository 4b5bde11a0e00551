"""Storage: the engine factory, the ORM models and the Alembic migrations."""
