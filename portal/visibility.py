"""The policy's listing rule (auth.policy.listing_scope) as the search index's visibility fields."""

from __future__ import annotations

from typing import Any

from auth.policy import Actor, listing_scope


def search_visibility(actor: Actor) -> dict[str, Any]:
    """SearchQuery keyword arguments that show the caller exactly what `dataset.list` allows."""
    scope = listing_scope(actor)
    return {
        "visible_org_ids": scope.org_ids,
        "see_all": actor.user_id is not None and actor.is_sysadmin,
        "see_withdrawn": actor.user_id is not None and actor.is_regulator,
    }
