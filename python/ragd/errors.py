"""The exceptions ragd raises.

Every failure of the C++ library arrives as one of these, carrying the
library's own message (the one the ``ragd`` command prints). Each also
derives from the closest built-in exception, so ``except LookupError`` or
``except ValueError`` catch what they would expect::

    Error
     ├── NotFoundError          (LookupError)  a knowledge base, document, session or model is missing
     ├── InvalidArgumentError   (ValueError)   the input is wrong: a bad filter, mode, file or option
     ├── AlreadyExistsError                    creating what is already there
     ├── UnavailableError       (ConnectionError) a model or server could not be reached or loaded
     ├── StorageError           (OSError)      the operating system refused: permissions, disk full
     ├── CorruptionError                       stored data is damaged
     ├── CancelledError                        the caller stopped the work
     └── InternalError                         a bug in ragd: please report it with the message
"""

from __future__ import annotations


class Error(Exception):
    """Base class of ragd's errors; ``code`` names the kind (``"not_found"``...)."""

    code = "internal"

    @property
    def message(self) -> str:
        """The library's message (also ``str(error)``)."""
        return str(self)


class NotFoundError(Error, LookupError):
    """A named thing does not exist: knowledge base, document, session, file or model."""

    code = "not_found"


class InvalidArgumentError(Error, ValueError):
    """The caller's input is wrong: a bad option, filter, name, file or JSON."""

    code = "invalid_argument"


class AlreadyExistsError(Error):
    """Creating a thing (a knowledge base) that is already there."""

    code = "already_exists"


class UnavailableError(Error, ConnectionError):
    """A model or server could not be reached or loaded, or a writer holds the knowledge base."""

    code = "unavailable"


class StorageError(Error, OSError):
    """The operating system refused: permissions, a full disk."""

    code = "io_error"


class CorruptionError(Error):
    """Stored data is damaged or of an unknown format version."""

    code = "corruption"


class CancelledError(Error):
    """The work was stopped by its caller."""

    code = "cancelled"


class InternalError(Error):
    """A bug in ragd: please report it with the message."""

    code = "internal"


_BY_CODE = {
    cls.code: cls
    for cls in (
        NotFoundError,
        InvalidArgumentError,
        AlreadyExistsError,
        UnavailableError,
        StorageError,
        CorruptionError,
        CancelledError,
        InternalError,
    )
}


def error_class(code: str) -> type[Error]:
    """The exception class for a status code name (used by the native module)."""
    return _BY_CODE.get(code, InternalError)


__all__ = [
    "Error",
    "NotFoundError",
    "InvalidArgumentError",
    "AlreadyExistsError",
    "UnavailableError",
    "StorageError",
    "CorruptionError",
    "CancelledError",
    "InternalError",
]
