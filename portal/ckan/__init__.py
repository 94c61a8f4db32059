"""CKAN's Action API (/api/3/action/*, /api/action/*): CKAN names live only in this package."""

from portal.ckan.router import router

__all__ = ["router"]
