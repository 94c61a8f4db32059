"""Alembic migrations of the whole schema."""
