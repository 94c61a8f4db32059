"""Alembic environment: the models of every package, one connection handed in by portal.migrate."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

from portal.migrations.env_support import include_object
from portal.models import import_all_models

import_all_models()
config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our own column types as the plain SQLAlchemy types they stand for."""
    if type_ == "type":
        name = type(obj).__name__
        if isinstance(obj, sa.types.TypeDecorator) and isinstance(obj.impl, sa.DateTime):
            return f"sa.DateTime(timezone={obj.impl.timezone})"
        if name == "AutoString":
            length = getattr(obj, "length", None)
            return f"sa.String(length={length})" if length else "sa.String()"
    return False


def run_migrations() -> None:
    """Run with the connection handed in by portal.migrate, or one made from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
