"""Errors raised by the quality package; portal/errors.py maps them to HTTP."""


class QualityError(Exception):
    """Base class of every error the quality package raises."""


class UnreadableFile(QualityError):
    """The file cannot be read as a table; the message says why."""
