"""Every module that defines tables, imported together for migrations and create_all."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "auth.models",
    "auth.grants",
    "auth.applications",
    "auth.inbox",
    "catalog.models",
    "catalog.search.index",
    "catalog.harvest.models",
    "catalog.feedback",
    "catalog.registration",
    "catalog.exchange.models",
)


def import_all_models() -> None:
    """Import every table module so that SQLModel.metadata holds the whole schema."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
