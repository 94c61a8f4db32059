"""Errors raised by the catalog package; portal/errors.py maps them to each surface."""


class CatalogError(Exception):
    """Base class of every error the catalog package raises."""


class NotFound(CatalogError):
    """Something named by the caller does not exist."""


class OrganizationNotFound(NotFound):
    """No organization has that name or id."""


class DatasetNotFound(NotFound):
    """No dataset has that name or id."""


class ResourceNotFound(NotFound):
    """No resource (or resource version) has that id."""


class Conflict(CatalogError):
    """The change collides with something that exists."""


class OrganizationNameTaken(Conflict):
    """An organization with that name exists."""


class DatasetNameTaken(Conflict):
    """A dataset with that name exists."""


class InvalidState(CatalogError):
    """The entry is not in a state that allows this change."""


class UploadRejected(CatalogError):
    """The uploaded file was refused; the message says why."""


class FileTooLarge(UploadRejected):
    """The uploaded file is larger than the configured limit."""
