"""The project's own exceptions: each carries the context a user needs to act."""

from __future__ import annotations


class ToolkitError(Exception):
    """Base of every error the toolkit reports to a user (never a traceback)."""

    exit_code = 2


class ConfigError(ToolkitError):
    """The configuration file is missing, unreadable or invalid."""


class SheetError(ToolkitError):
    """The sheet could not be read or written (file, tab or API)."""


class SheetStructureError(SheetError):
    """A tab lacks a column the run cannot do without."""


class LockHeldError(ToolkitError):
    """Another run holds the lock for this sheet."""


class LoginNeeded(ToolkitError):
    """A sign-in is missing, expired or revoked: a person must run `partners login`."""


class UsageError(ToolkitError):
    """A command line the toolkit cannot act on."""
