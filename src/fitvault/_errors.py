"""One exception tree for everything fitvault raises on purpose.

::

    FitvaultError
    ├── ConfigError              bad option, missing client secrets, unusable vault path
    ├── AuthError                no usable credentials: run `fitvault auth`
    │   ├── AuthFlowError        the browser flow failed (denied, wrong state, timeout)
    │   └── RefreshTokenExpired  the refresh token was rejected (Testing-mode apps: 7 days)
    ├── ApiError                 the API answered with an error we will not retry
    │   ├── AccountNotLinked     Google account without a Google Health (Fitbit) profile
    │   ├── PermissionDenied     a scope is missing for this data type
    │   ├── QuotaExhausted       still rate limited after waiting as asked
    │   ├── ApiUnavailable       5xx / timeouts / connection errors after retries
    │   └── ApiGone              410 Gone: the API was switched off (legacy Fitbit Web API)
    ├── DataError                a response or file that cannot be parsed (names which one)
    ├── VaultError               the DuckDB vault could not be read or written
    │   └── VaultLocked          another process holds the vault open
    └── PartialSync              the sync finished, but some types were refused (listed)

HTTP errors are translated in ``fitvault.http`` and DuckDB errors in ``fitvault.store``; nothing
else catches library exceptions. Every message says what to do next.
"""

from __future__ import annotations

__all__ = [
    "AccountNotLinked",
    "ApiError",
    "ApiGone",
    "ApiUnavailable",
    "AuthError",
    "AuthFlowError",
    "ConfigError",
    "DataError",
    "FitvaultError",
    "PartialSync",
    "PermissionDenied",
    "QuotaExhausted",
    "RefreshTokenExpired",
    "VaultError",
    "VaultLocked",
]


class FitvaultError(Exception):
    """Base of every error fitvault raises on purpose."""

    exit_code = 1


class ConfigError(FitvaultError):
    """An option, a configuration file or a path is unusable."""

    exit_code = 2


class AuthError(FitvaultError):
    """No usable credentials for the API."""

    exit_code = 3


class AuthFlowError(AuthError):
    """The OAuth authorization flow did not complete."""


class RefreshTokenExpired(AuthError):
    """The token endpoint rejected the stored refresh token (``invalid_grant``)."""


class ApiError(FitvaultError):
    """The API answered with an error that retrying will not fix."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        request: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.request = request


class AccountNotLinked(ApiError):
    """The Google account has no Google Health (ex-Fitbit) profile linked."""


class PermissionDenied(ApiError):
    """The granted scopes do not cover this request."""


class QuotaExhausted(ApiError):
    """Still rate limited after waiting as long as the server asked."""


class ApiUnavailable(ApiError):
    """Server errors, timeouts or connection failures persisted through retries."""


class DataError(FitvaultError):
    """A response body or file could not be parsed."""

    exit_code = 5


class VaultError(FitvaultError):
    """The vault could not be read or written."""

    exit_code = 6


class VaultLocked(VaultError):
    """Another process holds the vault's DuckDB file open for writing."""


class PartialSync(FitvaultError):
    """The sync completed for some types; others were refused and are listed with why."""

    exit_code = 7


class PartialImport(FitvaultError):
    """The import stored every file it could read; the others are listed with why (exit 7 like a
    partial sync, so a script notices)."""

    exit_code = 7


class ApiGone(ApiError):
    """The server answers 410 Gone: the API was switched off, and retrying cannot help."""
