"""Errors raised by the auth package; portal/errors.py maps them to HTTP."""


class AuthError(Exception):
    """Base class of every error the auth package raises."""
