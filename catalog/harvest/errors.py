"""Errors of harvesting; they are catalog errors, so every surface already maps them."""

from __future__ import annotations

from catalog.errors import CatalogError, Conflict, NotFound


class HarvestError(CatalogError):
    """Base class of every harvesting error."""


class HarvestSourceNotFound(HarvestError, NotFound):
    """No harvest source has that name or id."""


class HarvestJobNotFound(HarvestError, NotFound):
    """No harvest job has that id."""


class HarvestSourceNameTaken(HarvestError, Conflict):
    """A harvest source with that name exists."""


class HarvestJobRunning(HarvestError, Conflict):
    """The source already has a job running."""


class RemoteUnreadable(HarvestError):
    """The remote catalog could not be fetched or parsed; the message says why."""
