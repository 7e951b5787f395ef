"""One error hierarchy for otrs-ext.

Every error carries an HTTP status and a short machine-readable ``code`` so that the API can render it as
``application/problem+json`` and the CLI can print it without a traceback. Messages say how to fix the problem.
"""

from __future__ import annotations


class OtrsExtError(Exception):
    """Base of every error otrs-ext raises on purpose."""

    status: int = 500
    code: str = "otrs-ext-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(OtrsExtError):
    """A setting is missing or wrong; the message names the setting and a valid value."""

    status = 500
    code = "configuration"


class UnsupportedOtrsVersion(OtrsExtError):
    """The database does not look like any OTRS / Znuny / OTOBO layout otrs-ext knows."""

    status = 500
    code = "unsupported-otrs-version"


class MissingBinary(OtrsExtError):
    """A server binary needed to start a local service is not installed."""

    status = 500
    code = "missing-binary"

    def __init__(self, binary: str, debian_package: str) -> None:
        super().__init__(
            f"{binary} was not found on PATH; install it with: apt-get install -y {debian_package}"
        )
        self.binary = binary
        self.debian_package = debian_package


class ServiceStartError(OtrsExtError):
    """A local service was started but did not become ready; the message quotes its log."""

    status = 500
    code = "service-start"


class NotFound(OtrsExtError):
    status = 404
    code = "not-found"


class PermissionDenied(OtrsExtError):
    status = 403
    code = "permission-denied"


class ValidationError(OtrsExtError):
    """Input that cannot be written; ``problems`` holds one (field path, message) pair per bad field."""

    status = 422
    code = "validation"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


class Conflict(OtrsExtError):
    status = 409
    code = "conflict"
