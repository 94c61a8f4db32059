"""Full-text faceted search of the catalog, in Chinese and English, on SQLite and PostgreSQL."""

from catalog.search.errors import InvalidSearchQuery, SearchError
from catalog.search.index import (
    FACETS,
    SearchDocument,
    SearchEntry,
    SearchFacet,
    fts_ddl,
    fts_drop_ddl,
    index_document,
    index_documents,
    install_fts,
    is_fts_object,
    remove_document,
)
from catalog.search.query import SearchHit, SearchQuery, SearchResult, search
from catalog.search.text import HL_END, HL_START

__all__ = [
    "FACETS",
    "HL_END",
    "HL_START",
    "InvalidSearchQuery",
    "SearchDocument",
    "SearchEntry",
    "SearchError",
    "SearchFacet",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "fts_ddl",
    "fts_drop_ddl",
    "index_document",
    "index_documents",
    "install_fts",
    "is_fts_object",
    "remove_document",
    "search",
]
