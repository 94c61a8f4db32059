"""Errors raised by catalog.search."""

from catalog.errors import CatalogError


class SearchError(CatalogError):
    """Base class of every error the search raises."""


class InvalidSearchQuery(SearchError):
    """The query names an unknown facet or cannot run on this database."""
